DROP TABLE cache_entry;
DROP TABLE signal;
DROP TABLE approval;
DROP TABLE event;
DROP TABLE attempt;
DROP TABLE node;
DROP TABLE run;
