-- A run's agent replies without a scan of its log: EventList of the
-- AgentReply events (a run's usage: inspect, ps, serve) read every event
-- row of the run and kept those few. The rows of that kind are indexed
-- apart.
CREATE INDEX event_agent_reply_idx ON event (run_id, seq) WHERE kind = 'AgentReply';
