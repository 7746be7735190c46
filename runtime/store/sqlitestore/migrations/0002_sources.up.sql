-- The files of each run's program, content-addressed: a run keeps the
-- source it started from (and later adopts), whatever happens on disk.
CREATE TABLE source_blob (
  hash    TEXT PRIMARY KEY,
  content BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE run_source (
  run_id   TEXT NOT NULL REFERENCES run (id) ON DELETE CASCADE,
  position INTEGER NOT NULL CHECK (position >= 0),
  path     TEXT NOT NULL,
  hash     TEXT NOT NULL REFERENCES source_blob (hash),
  PRIMARY KEY (run_id, position)
) WITHOUT ROWID;
CREATE INDEX run_source_hash_idx ON run_source (hash);
