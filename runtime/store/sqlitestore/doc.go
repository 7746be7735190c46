// Package sqlitestore implements store.Store on SQLite with
// modernc.org/sqlite (pure Go, no cgo).
//
// The database is one file opened in WAL mode with a busy timeout of five
// seconds and synchronous=NORMAL (Options.Synchronous "FULL" fsyncs every
// commit). Writes go through a pool of exactly one connection whose
// transactions begin IMMEDIATE (so that several processes sharing the file
// queue on the write lock instead of failing on a lock upgrade); reads use
// a separate pool. Migrations are embedded (migrations/NNNN_name.up.sql and
// .down.sql), recorded in the schema_migration table, and applied in one
// transaction when the store is opened.
package sqlitestore
