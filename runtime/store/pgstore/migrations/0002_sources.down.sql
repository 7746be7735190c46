DROP TABLE run_source;
DROP TABLE source_blob;
