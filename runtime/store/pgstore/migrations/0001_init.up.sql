-- Runs: one row per execution of a workflow.
CREATE TABLE run (
  id               TEXT PRIMARY KEY,
  workflow         TEXT NOT NULL,
  parent_run_id    TEXT NOT NULL DEFAULT '',
  parent_node      TEXT NOT NULL DEFAULT '',
  source_path      TEXT NOT NULL DEFAULT '',
  source_hash      TEXT NOT NULL DEFAULT '',
  input            JSONB NOT NULL DEFAULT 'null',
  status           TEXT NOT NULL,
  output           JSONB NOT NULL DEFAULT 'null',
  error            TEXT NOT NULL DEFAULT '',
  owner            TEXT NOT NULL DEFAULT '',
  owner_start      TEXT NOT NULL DEFAULT '',
  lease_expires_at TIMESTAMPTZ,
  cancel_requested BOOLEAN NOT NULL DEFAULT false,
  created_at       TIMESTAMPTZ NOT NULL,
  updated_at       TIMESTAMPTZ NOT NULL,
  finished_at      TIMESTAMPTZ
);
CREATE INDEX run_status_idx ON run (status, created_at);
CREATE INDEX run_parent_idx ON run (parent_run_id);

-- Node instances, keyed by (run_id, node_id, scope); see package store.
CREATE TABLE node (
  run_id      TEXT NOT NULL REFERENCES run (id) ON DELETE CASCADE,
  node_id     TEXT NOT NULL,
  scope       TEXT NOT NULL DEFAULT '',
  iteration   INTEGER NOT NULL DEFAULT 0,
  kind        TEXT NOT NULL DEFAULT '',
  state       TEXT NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  output      JSONB NOT NULL DEFAULT 'null',
  output_type TEXT NOT NULL DEFAULT '',
  error       TEXT NOT NULL DEFAULT '',
  error_kind  TEXT NOT NULL DEFAULT '',
  data        JSONB NOT NULL DEFAULT 'null',
  started_at  TIMESTAMPTZ,
  finished_at TIMESTAMPTZ,
  updated_at  TIMESTAMPTZ,
  PRIMARY KEY (run_id, node_id, scope)
);
CREATE INDEX node_type_idx ON node (output_type, run_id);

CREATE TABLE attempt (
  run_id           TEXT NOT NULL REFERENCES run (id) ON DELETE CASCADE,
  node_id          TEXT NOT NULL,
  scope            TEXT NOT NULL DEFAULT '',
  number           INTEGER NOT NULL CHECK (number >= 1),
  state            TEXT NOT NULL,
  owner            TEXT NOT NULL DEFAULT '',
  lease_expires_at TIMESTAMPTZ,
  heartbeat_at     TIMESTAMPTZ,
  detail           TEXT NOT NULL DEFAULT '',
  error            TEXT NOT NULL DEFAULT '',
  error_kind       TEXT NOT NULL DEFAULT '',
  started_at       TIMESTAMPTZ NOT NULL,
  finished_at      TIMESTAMPTZ,
  PRIMARY KEY (run_id, node_id, scope, number)
);
CREATE INDEX attempt_state_idx ON attempt (run_id, state);

-- The append-only event log.
CREATE TABLE event (
  seq       BIGSERIAL PRIMARY KEY,
  run_id    TEXT NOT NULL,
  node_id   TEXT NOT NULL DEFAULT '',
  scope     TEXT NOT NULL DEFAULT '',
  iteration INTEGER NOT NULL DEFAULT 0,
  attempt   INTEGER NOT NULL DEFAULT 0,
  kind      TEXT NOT NULL,
  time      TIMESTAMPTZ NOT NULL,
  data      JSONB NOT NULL DEFAULT 'null'
);
CREATE INDEX event_run_idx ON event (run_id, seq);

CREATE TABLE approval (
  run_id       TEXT NOT NULL REFERENCES run (id) ON DELETE CASCADE,
  node_id      TEXT NOT NULL,
  scope        TEXT NOT NULL DEFAULT '',
  title        TEXT NOT NULL DEFAULT '',
  summary      TEXT NOT NULL DEFAULT '',
  requested_at TIMESTAMPTZ NOT NULL,
  decided      BOOLEAN NOT NULL DEFAULT false,
  approved     BOOLEAN NOT NULL DEFAULT false,
  decided_by   TEXT NOT NULL DEFAULT '',
  note         TEXT NOT NULL DEFAULT '',
  data         JSONB NOT NULL DEFAULT 'null',
  decided_at   TIMESTAMPTZ,
  PRIMARY KEY (run_id, node_id, scope)
);

CREATE TABLE signal (
  id             BIGSERIAL PRIMARY KEY,
  run_id         TEXT NOT NULL REFERENCES run (id) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  data           JSONB NOT NULL DEFAULT 'null',
  sent_at        TIMESTAMPTZ NOT NULL,
  consumed       BOOLEAN NOT NULL DEFAULT false,
  consumer_node  TEXT NOT NULL DEFAULT '',
  consumer_scope TEXT NOT NULL DEFAULT '',
  consumed_at    TIMESTAMPTZ
);
CREATE INDEX signal_run_idx ON signal (run_id, name, consumed, id);

CREATE TABLE cache_entry (
  workflow    TEXT NOT NULL,
  source_hash TEXT NOT NULL,
  key         TEXT NOT NULL,
  output      JSONB NOT NULL,
  created_at  TIMESTAMPTZ NOT NULL,
  expires_at  TIMESTAMPTZ,
  PRIMARY KEY (workflow, source_hash, key)
);
