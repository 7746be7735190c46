UPDATE run SET input = coalesce((SELECT run_input.input FROM run_input WHERE run_input.run_id = run.id), 'null') WHERE input = '';
DROP TABLE run_input;
