package sqlitestore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// schemaObject is one row of sqlite_master.
type schemaObject struct{ Type, Name, Table, SQL string }

// dumpSchema returns what a database records of its schema: every row of
// sqlite_master (autoindexes and sqlite_sequence included), the rows of
// schema_migration and the header's user_version.
func dumpSchema(t *testing.T, s *Store) (objects []schemaObject, migrations []string, userVersion int) {
	t.Helper()
	ctx := context.Background()
	rows, err := s.DB().QueryContext(ctx, `SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var o schemaObject
		if err := rows.Scan(&o.Type, &o.Name, &o.Table, &o.SQL); err != nil {
			t.Fatal(err)
		}
		objects = append(objects, o)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	mrows, err := s.DB().QueryContext(ctx, `SELECT version, name FROM schema_migration ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer mrows.Close()
	for mrows.Next() {
		var v int
		var name string
		if err := mrows.Scan(&v, &name); err != nil {
			t.Fatal(err)
		}
		migrations = append(migrations, fmt.Sprintf("%d %s", v, name))
	}
	if err := s.DB().QueryRowContext(ctx, `PRAGMA user_version`).Scan(&userVersion); err != nil {
		t.Fatal(err)
	}
	return objects, migrations, userVersion
}

// TestFreshSchemaIsTheMigratedSchema: a new store, created from
// schema.sql in one step, is the store that applying every migration in
// turn gives: the same objects with the same SQL in sqlite_master, the
// same schema_migration rows, the same user_version. SMITHC_UPDATE=1
// rewrites schema.sql from the replayed store (after a new migration).
func TestFreshSchemaIsTheMigratedSchema(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	replayed, err := Open(ctx, filepath.Join(dir, "replayed.db"), Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer replayed.Close()
	applied, err := replayed.migrate(ctx, Up, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("SMITHC_UPDATE") != "" {
		writeSchemaSQL(t, replayed, applied[len(applied)-1])
	}
	if got, want := freshSchemaVersion(), latestVersion(); got != want {
		t.Fatalf("schema.sql is of version %d, the migrations go up to %d: run SMITHC_UPDATE=1 go test -run TestFreshSchemaIsTheMigratedSchema ./runtime/store/sqlitestore (and review the diff)", got, want)
	}

	freshPath := filepath.Join(dir, "fresh.db")
	fresh, err := Open(ctx, freshPath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	wantObjects, wantMigrations, wantVersion := dumpSchema(t, replayed)
	gotObjects, gotMigrations, gotVersion := dumpSchema(t, fresh)
	if diff := cmp.Diff(wantObjects, gotObjects); diff != "" {
		t.Errorf("sqlite_master of a fresh store (-replayed +fresh):\n%s", diff)
	}
	if diff := cmp.Diff(wantMigrations, gotMigrations); diff != "" {
		t.Errorf("schema_migration of a fresh store (-replayed +fresh):\n%s", diff)
	}
	if gotVersion != wantVersion || gotVersion != latestVersion() {
		t.Errorf("user_version: fresh %d, replayed %d, want %d", gotVersion, wantVersion, latestVersion())
	}

	// Migrate reports the versions a fresh creation stands for, and
	// both stores go down and up again alike.
	other, err := Open(ctx, filepath.Join(dir, "other.db"), Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	got, err := other.Migrate(ctx, Up, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(applied, got); diff != "" {
		t.Errorf("versions a fresh creation reports (-replayed +fresh):\n%s", diff)
	}
	for _, s := range []*Store{replayed, fresh} {
		if _, err := s.Migrate(ctx, Down, 1); err != nil {
			t.Fatalf("%s: down to 1: %v", s.Path(), err)
		}
		if _, err := s.Migrate(ctx, Up, 0); err != nil {
			t.Fatalf("%s: up again: %v", s.Path(), err)
		}
	}
	gotObjects, _, _ = dumpSchema(t, fresh)
	wantObjects, _, _ = dumpSchema(t, replayed)
	if diff := cmp.Diff(wantObjects, gotObjects); diff != "" {
		t.Errorf("sqlite_master after down to 1 and up (-replayed +fresh):\n%s", diff)
	}
}

// writeSchemaSQL writes schema.sql from a store that applied every
// migration up to version: sqlite_master's SQL in creation order,
// schema_migration (Migrate creates it first) and SQLite's own
// sqlite_sequence left out.
func writeSchemaSQL(t *testing.T, s *Store, version int) {
	t.Helper()
	rows, err := s.DB().QueryContext(context.Background(), `SELECT sql FROM sqlite_master
		WHERE sql IS NOT NULL AND name NOT IN ('schema_migration', 'sqlite_sequence') ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "%s%d\n", schemaVersionLine, version)
	fmt.Fprintf(&b, "-- What migrations 1 to %d leave, as sqlite_master records it: a new store is\n", version)
	b.WriteString("-- created from this file in one step. Generated: do not edit, add a migration and run\n")
	b.WriteString("-- SMITHC_UPDATE=1 go test -run TestFreshSchemaIsTheMigratedSchema ./runtime/store/sqlitestore\n")
	for rows.Next() {
		var q string
		if err := rows.Scan(&q); err != nil {
			t.Fatal(err)
		}
		b.WriteString("\n" + q + ";\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("schema.sql", []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	schemaSQL = b.String()
}

// latestVersion, read from the file names alone, names the last migration
// migrations parses.
func TestLatestVersionIsTheLastMigration(t *testing.T) {
	all, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no migrations")
	}
	if got, want := latestVersion(), all[len(all)-1].version; got != want {
		t.Errorf("latestVersion() = %d, the last migration is %d", got, want)
	}
}
