package sqlitestore

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed" // schema.sql, fresh.db
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"time"
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

// freshImage is a new store as Open leaves it after creating the latest
// schema from schema.sql in an empty file and Close checkpoints it: in
// WAL mode, user_version stamped, one schema_migration row per migration
// with imageAppliedAt as its applied_at. Writing it is what creating a
// store costs (one write and two fsyncs), instead of switching a new
// file to WAL (a rollback-journal transaction of three fsyncs) and
// parsing and running the schema's twenty CREATE statements: 3.5-4 ms of
// a new store's first run (docs/benchmarks.md, Round 9). It is generated
// by TestFreshImageIsTheCreatedStore, which rewrites it with
// SMITHC_UPDATE=1 and fails when it is not byte for byte what the
// statements give.
//
//go:embed fresh.db
var freshImage []byte

// imageAppliedAt stands in the image for the time each migration was
// applied; createFromImage writes the time of the creation in its place
// (the same length: a text value of the same size, nothing else moves).
const imageAppliedAt = "0000-00-00T00:00:00.000Z"

// imageVersion returns the schema version the image's header stamps
// (user_version, offset 60), 0 when it is not a SQLite file.
func imageVersion(img []byte) int {
	if len(img) < 100 || string(img[:16]) != "SQLite format 3\x00" {
		return 0
	}
	return int(binary.BigEndian.Uint32(img[60:64]))
}

// createFromImage creates the store at path from freshImage: written to
// a temporary file beside it, fsynced, then linked to path, which fails
// when the path exists: of several processes creating one store at
// once, one file wins whole and the others open it; no process sees a
// half-written file, and a crash leaves either no store or a whole one
// (and at worst the temporary file, named .NAME.new-*). done is false,
// with nothing left behind, where this cannot be done (an image of
// another version, a file system without hard links): the caller creates
// an empty file instead.
func createFromImage(path string) (done bool, err error) {
	if imageVersion(freshImage) != latestVersion() {
		return false, nil
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".new-*")
	if err != nil {
		return false, &CreateError{Path: path, Err: unwrapPathError(err)}
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600, as createFile does.
	now := []byte(time.Now().UTC().Format("2006-01-02T15:04:05.000Z"))
	img := bytes.ReplaceAll(freshImage, []byte(imageAppliedAt), now)
	if _, err = tmp.Write(img); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, &CreateError{Path: path, Err: unwrapPathError(err)}
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return true, nil // another process created it first
		}
		return false, nil
	}
	if err := syncDir(dir); err != nil {
		return true, &CreateError{Path: path, Err: err}
	}
	return true, nil
}

// syncDir makes a new name in dir durable (Linux and the BSDs; Windows
// has no fsync of a directory, and its file systems record names
// themselves).
func syncDir(dir string) error {
	if goruntime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync the directory %s: %w", dir, unwrapPathError(err))
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync the directory %s: %w", dir, unwrapPathError(err))
	}
	return nil
}
