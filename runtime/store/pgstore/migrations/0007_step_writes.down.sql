DROP INDEX node_type_idx;
CREATE INDEX node_type_idx ON node (output_type, run_id);
ALTER TABLE event DROP CONSTRAINT event_pkey;
ALTER TABLE event ADD PRIMARY KEY (seq);
CREATE INDEX event_run_idx ON event (run_id, seq);
CREATE INDEX attempt_state_idx ON attempt (run_id, state);
ALTER TABLE attempt ADD CONSTRAINT attempt_run_id_fkey FOREIGN KEY (run_id) REFERENCES run (id) ON DELETE CASCADE;
ALTER TABLE node ADD CONSTRAINT node_run_id_fkey FOREIGN KEY (run_id) REFERENCES run (id) ON DELETE CASCADE;
