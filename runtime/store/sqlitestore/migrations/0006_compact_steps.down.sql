INSERT INTO attempt (run_id, node_id, scope, number, state, owner, lease_expires_at, heartbeat_at,
    detail, error, error_kind, started_at, finished_at, pid, pid_start)
  SELECT run_id, node_id, scope, json_extract(attempt, '$.n'), json_extract(attempt, '$.s'),
    coalesce(json_extract(attempt, '$.o'), ''), coalesce(json_extract(attempt, '$.l'), ''),
    coalesce(json_extract(attempt, '$.h'), ''), coalesce(json_extract(attempt, '$.d'), ''),
    coalesce(json_extract(attempt, '$.e'), ''), coalesce(json_extract(attempt, '$.k'), ''),
    coalesce(json_extract(attempt, '$.b'), ''), coalesce(json_extract(attempt, '$.f'), ''),
    coalesce(json_extract(attempt, '$.p'), 0), coalesce(json_extract(attempt, '$.q'), '')
  FROM node WHERE attempt <> '';
ALTER TABLE node DROP COLUMN attempt;

-- One event per row again.
CREATE TEMP TABLE event_split AS
  SELECT e.seq - (json_array_length(e.data) - 1 - j.key) AS seq, e.run_id AS run_id, e.node_id AS node_id,
    e.scope AS scope, e.iteration AS iteration, json_extract(j.value, '$[0]') AS attempt, k.value AS kind,
    json_extract(j.value, '$[1]') AS time
  FROM event e, json_each(e.data) j, json_each('["' || replace(e.kind, ',', '","') || '"]') k
  WHERE instr(e.kind, ',') > 0 AND k.key = j.key;
DELETE FROM event WHERE instr(kind, ',') > 0;
INSERT INTO event (seq, run_id, node_id, scope, iteration, attempt, kind, time, data)
  SELECT seq, run_id, node_id, scope, iteration, attempt, kind, time, 'null' FROM event_split ORDER BY seq;
DROP TABLE event_split;
