ALTER TABLE attempt DROP COLUMN pid_start;
ALTER TABLE attempt DROP COLUMN pid;
