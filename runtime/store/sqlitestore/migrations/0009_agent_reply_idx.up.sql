-- A run's agent replies without a scan of its log.
--
-- EventList of the AgentReply events (a run's usage: inspect, ps, serve)
-- read every event row of the run and kept those few; a run of 10⁵ loop
-- iterations has 2·10⁵ rows and one agent reply or none. The rows of
-- that kind are indexed apart (always one event a row: an AgentReply
-- carries data, and the store groups only data-less events).
CREATE INDEX event_agent_reply_idx ON event (run_id, seq) WHERE kind = 'AgentReply';
