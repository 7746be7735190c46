// Package sqlitestore implements store.Store on SQLite with
// modernc.org/sqlite (pure Go, no cgo).
//
// The database is one file opened in WAL mode with synchronous=NORMAL
// (Options.Synchronous "FULL" fsyncs every commit). A new file is created
// with mode 0600, and SQLite gives its -wal and -shm files the same mode.
// Writes go through a pool of exactly one connection whose transactions
// begin IMMEDIATE (so that several processes sharing the file queue on
// the write lock instead of failing on a lock upgrade); reads use a
// separate pool. A write that finds the database locked (SQLITE_BUSY or
// SQLITE_LOCKED, told apart by the driver's result code) is tried again
// as a whole with growing, jittered waits until Options.LockTimeout
// (default one minute) has passed; then, like a full disk, a file size
// limit or an I/O error, it fails with an error wrapping
// store.ErrUnavailable. Migrations are embedded
// (migrations/NNNN_name.up.sql and .down.sql), recorded in the
// schema_migration table, and applied in one transaction when the store
// is opened; a database with a version above the binary's migrations is
// refused. Options.ReadOnly opens an existing file for reading only
// (SQLite's mode=ro, immutable on a read-only mount without -wal file):
// it creates nothing and never migrates.
package sqlitestore
