package sqlitestore

import (
	"context"
	"database/sql"
	_ "embed" // schema.sql
	"fmt"
	"strings"
)

// schemaSQL is the schema the migrations leave, as SQLite records it
// (sqlite_master's text: ALTER TABLE's added columns are in their CREATE
// TABLE), without schema_migration. It is generated from a database that
// replayed every migration (TestFreshSchemaIsTheMigratedSchema, which
// rewrites it with SMITHC_UPDATE=1 and fails when a migration is added
// without it). Its first line names the version it is.
//
//go:embed schema.sql
var schemaSQL string

// schemaVersionLine starts schema.sql.
const schemaVersionLine = "-- smithc store schema, version "

// freshSchemaVersion returns the schema version schema.sql creates (0:
// it names none).
func freshSchemaVersion() int {
	first, _, _ := strings.Cut(schemaSQL, "\n")
	var v int
	if _, err := fmt.Sscanf(first, schemaVersionLine+"%d", &v); err != nil {
		return 0
	}
	return v
}

// createFresh creates the latest schema in a database that has none, in
// tx, with the same result as applying each migration in turn (the
// objects SQLite records, the rows of schema_migration, the version
// stamped), and returns the versions it stands for. A new store costs one
// parse of each table and index instead of replaying the history of the
// schema (the tables later migrations alter or rebuild, each ALTER TABLE
// re-reading the whole schema). ok is false, and nothing is done, when
// schema.sql is not of the latest migration.
func createFresh(ctx context.Context, tx *sql.Tx, all []migration) (done []int, ok bool, err error) {
	if len(all) == 0 || freshSchemaVersion() != all[len(all)-1].version {
		return nil, false, nil
	}
	if _, err := tx.ExecContext(ctx, schemaSQL); err != nil {
		return nil, true, fmt.Errorf("sqlitestore: create the schema (version %d): %w", all[len(all)-1].version, err)
	}
	for _, m := range all {
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migration (version, name) VALUES (?, ?)`, m.version, m.name); err != nil {
			return nil, true, fmt.Errorf("sqlitestore: record migration %d: %w", m.version, err)
		}
		done = append(done, m.version)
	}
	return done, true, nil
}
