DROP FUNCTION smithc_expect(bigint, text);
