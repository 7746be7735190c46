-- Fewer index and row-lock writes per step commit (see docs/benchmarks.md):
-- node and attempt rows no longer check their run by foreign key (the
-- check locks the run row, FOR KEY SHARE, at every insert; the rows are
-- written only under the run's advisory lock by its owner, and runs are
-- never deleted); attempt_state_idx duplicated the primary key's prefix;
-- events are keyed by (run_id, seq), the order EventList reads them in,
-- instead of two indexes (seq, and run_id with seq); the type views read
-- finished nodes of a named type only, so node_type_idx leaves out the
-- others (most compute steps have no output type).
ALTER TABLE node DROP CONSTRAINT node_run_id_fkey;
ALTER TABLE attempt DROP CONSTRAINT attempt_run_id_fkey;
DROP INDEX attempt_state_idx;
ALTER TABLE event DROP CONSTRAINT event_pkey;
DROP INDEX event_run_idx;
ALTER TABLE event ADD PRIMARY KEY (run_id, seq);
DROP INDEX node_type_idx;
CREATE INDEX node_type_idx ON node (output_type, run_id) WHERE state = 'finished' AND output_type <> '';
