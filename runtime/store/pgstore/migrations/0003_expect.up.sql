-- smithc_expect fails the transaction (SQLSTATE P0002, no_data_found) when
-- a write that must match a row matched none: a pipelined batch (one round
-- trip) then stops there instead of committing the writes after it.
CREATE FUNCTION smithc_expect(n bigint, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF n = 0 THEN
    RAISE EXCEPTION USING ERRCODE = 'P0002', MESSAGE = what;
  END IF;
END
$$;
