// Package store declares the durable state of smithc runs: the Store
// interface the runtime writes through, its row types and its sentinel
// errors. Implementations live in subpackages (sqlitestore; PostgreSQL
// later) and must pass the conformance suite in package storetest.
//
// Methods follow river's driver conventions: ctx first, one params
// struct, Noun-Verb names (RunCreate, NodeList, AttemptStart...). JSON
// values (inputs, outputs, event data) cross this interface as
// json.RawMessage: the store keeps them, the runtime interprets them.
//
// Node instances are keyed by (run_id, node_id, scope). Scope is the path
// of the enclosing for elements and loop iterations, outermost first,
// written "loop#2/files[3]" ("" outside any loop or for); Iteration
// repeats the innermost enclosing loop's iteration (0 outside loops) so
// that views and queries can select on (run_id, node_id, iteration).
package store
