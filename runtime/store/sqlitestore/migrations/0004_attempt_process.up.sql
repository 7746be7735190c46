-- The process group an attempt started (its leader's pid and kernel start
-- time), so that a resume after the owner died kills what it left behind.
ALTER TABLE attempt ADD COLUMN pid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempt ADD COLUMN pid_start TEXT NOT NULL DEFAULT '';
