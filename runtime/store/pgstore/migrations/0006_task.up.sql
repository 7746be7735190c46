-- Tasks: attempts offered to any worker (step-level distribution). One
-- row per node instance; queuing the next attempt replaces it and keeps
-- its fencing token, which grows at each claim.
CREATE TABLE task (
  run_id           TEXT NOT NULL REFERENCES run (id) ON DELETE CASCADE,
  node_id          TEXT NOT NULL,
  scope            TEXT NOT NULL DEFAULT '',
  number           INTEGER NOT NULL CHECK (number >= 1),
  action           TEXT NOT NULL DEFAULT '',
  state            TEXT NOT NULL,
  input            JSONB NOT NULL DEFAULT 'null',
  lease_owner      TEXT NOT NULL DEFAULT '',
  lease_expires_at TIMESTAMPTZ,
  token            BIGINT NOT NULL DEFAULT 0,
  output           JSONB NOT NULL DEFAULT 'null',
  failure          JSONB NOT NULL DEFAULT 'null',
  created_at       TIMESTAMPTZ NOT NULL,
  claimed_at       TIMESTAMPTZ,
  finished_at      TIMESTAMPTZ,
  PRIMARY KEY (run_id, node_id, scope)
);
-- The claim queue: queued rows, oldest first.
CREATE INDEX task_queued_idx ON task (created_at) WHERE state = 'queued';
