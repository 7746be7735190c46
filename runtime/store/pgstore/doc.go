// Package pgstore implements store.Store on PostgreSQL 15 or later with
// pgx/v5 and a connection pool, for runs shared by several processes on
// several machines (smithc worker).
//
// Open takes a postgres:// URL (libpq syntax; pool settings such as
// pool_max_conns go in its query). Migrations are embedded
// (migrations/NNNN_name.up.sql and .down.sql), recorded in the
// schema_migration table and applied in one transaction under an advisory
// lock when the store opens, so several workers starting at once migrate
// once. Inputs, outputs and control data are JSONB (PostgreSQL cannot
// store the NUL character in JSONB: a \u0000 escape in a string is stored
// as U+FFFD). Times are timestamptz (microseconds).
//
// Every write transaction that touches a run takes a transaction-level
// advisory lock on the run id first, so that a run's events get their
// sequence numbers in commit order and decisions, signals and claims of
// one run are serialized. Writes that another process may be waiting for
// (a run created, released or updated, an approval decided, a signal sent,
// a cancel request) send NOTIFY smithc with the run id as payload, which
// Notifications delivers; pollers remain the fallback.
package pgstore
