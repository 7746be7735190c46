-- Rows holding events of several node instances (a part of data with
-- the instance, [attempt,"time","node","scope",iteration]) become one
-- row per event, each event with its instance: the instance of the
-- nearest part at or before it that names one, else the row's.
CREATE TEMP TABLE event_split AS
  SELECT e.seq - (json_array_length(e.data) - 1 - j.key) AS seq, e.run_id AS run_id,
    coalesce((SELECT json_extract(i.value, '$[2]') FROM json_each(e.data) i
      WHERE i.key <= j.key AND json_array_length(i.value) = 5 ORDER BY i.key DESC LIMIT 1), e.node_id) AS node_id,
    coalesce((SELECT json_extract(i.value, '$[3]') FROM json_each(e.data) i
      WHERE i.key <= j.key AND json_array_length(i.value) = 5 ORDER BY i.key DESC LIMIT 1), e.scope) AS scope,
    coalesce((SELECT json_extract(i.value, '$[4]') FROM json_each(e.data) i
      WHERE i.key <= j.key AND json_array_length(i.value) = 5 ORDER BY i.key DESC LIMIT 1), e.iteration) AS iteration,
    json_extract(j.value, '$[0]') AS attempt, k.value AS kind, json_extract(j.value, '$[1]') AS time
  FROM event e, json_each(e.data) j, json_each('["' || replace(e.kind, ',', '","') || '"]') k
  WHERE instr(e.kind, ',') > 0 AND k.key = j.key
    AND EXISTS (SELECT 1 FROM json_each(e.data) x WHERE json_array_length(x.value) = 5);
DELETE FROM event WHERE instr(kind, ',') > 0
  AND EXISTS (SELECT 1 FROM json_each(event.data) x WHERE json_array_length(x.value) = 5);
INSERT INTO event (seq, run_id, node_id, scope, iteration, attempt, kind, time, data)
  SELECT seq, run_id, node_id, scope, iteration, attempt, kind, time, 'null' FROM event_split ORDER BY seq;
DROP TABLE event_split;
