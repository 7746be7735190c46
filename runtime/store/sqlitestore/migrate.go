package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Direction is the direction of a migration.
type Direction int

// Directions.
const (
	Up Direction = iota + 1
	Down
)

type migration struct {
	version  int
	name     string
	up, down string
}

func migrations() ([]migration, error) {
	files, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list migrations: %w", err)
	}
	byVersion := map[int]*migration{}
	for _, f := range files {
		base := strings.TrimPrefix(f, "migrations/")
		num, rest, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("sqlitestore: bad migration file name %q", base)
		}
		body, err := migrationFS.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: read migration %s: %w", base, err)
		}
		m := byVersion[v]
		if m == nil {
			m = &migration{version: v}
			byVersion[v] = m
		}
		switch {
		case strings.HasSuffix(rest, ".up.sql"):
			m.name, m.up = strings.TrimSuffix(rest, ".up.sql"), string(body)
		case strings.HasSuffix(rest, ".down.sql"):
			m.down = string(body)
		default:
			return nil, fmt.Errorf("sqlitestore: bad migration file name %q", base)
		}
	}
	out := make([]migration, 0, len(byVersion))
	for _, m := range byVersion {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// latestVersion returns the highest migration version this binary has.
// Every open asks it, so it reads the migrations' file names only, not
// their text (migrations reads both, when there is something to apply;
// TestLatestVersionIsTheLastMigration holds the two to one answer).
var latestVersion = sync.OnceValue(func() int {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return 0
	}
	latest := 0
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if v, err := strconv.Atoi(num); ok && err == nil && strings.HasSuffix(e.Name(), ".sql") {
			latest = max(latest, v)
		}
	}
	return latest
})

// Version returns the highest applied migration version (0: none).
func (s *Store) Version(ctx context.Context) (int, error) {
	if s.w == nil {
		var v version
		err := s.retry(ctx, "migration version", func() error {
			var err error
			v, err = readVersion(ctx, s.r)
			return err
		})
		return v.n, err
	}
	var v int
	err := s.tx(ctx, "migration version", func(tx *sql.Tx) error {
		var err error
		v, err = currentVersion(ctx, tx)
		return err
	})
	return v, err
}

func currentVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migration (
		version INTEGER NOT NULL PRIMARY KEY CHECK (version >= 1),
		name TEXT NOT NULL,
		applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))`); err != nil {
		return 0, fmt.Errorf("sqlitestore: create schema_migration: %w", err)
	}
	var v sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(version) FROM schema_migration`).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlitestore: read schema version: %w", err)
	}
	return int(v.Int64), nil
}

// stampVersion copies the schema version into the file's user_version,
// in the migration's transaction: Open then reads it from the header
// instead of querying schema_migration.
func stampVersion(ctx context.Context, tx *sql.Tx) error {
	var v sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(version) FROM schema_migration`).Scan(&v); err != nil {
		return fmt.Errorf("sqlitestore: read schema version: %w", err)
	}
	// PRAGMA takes no bound parameters; the value is an integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v.Int64)); err != nil {
		return fmt.Errorf("sqlitestore: record schema version: %w", err)
	}
	return nil
}

// Migrate applies migrations in one transaction: Up to version target (0:
// the latest), Down to version target (0: remove everything, type views
// included). It returns the versions applied or reverted, in order. Up to
// the latest on a database without a schema creates the latest schema at
// once (schema.sql), which gives the same database as applying each
// migration.
func (s *Store) Migrate(ctx context.Context, dir Direction, target int) ([]int, error) {
	return s.migrate(ctx, dir, target, true)
}

// migrate is Migrate; fresh false replays every migration on a database
// without a schema too (for the test that compares both).
func (s *Store) migrate(ctx context.Context, dir Direction, target int, fresh bool) ([]int, error) {
	all, err := migrations()
	if err != nil {
		return nil, err
	}
	var done []int
	err = s.tx(ctx, "migrate", func(tx *sql.Tx) error {
		done = nil // a busy transaction is tried again from the start
		cur, err := currentVersion(ctx, tx)
		if err != nil {
			return err
		}
		switch dir {
		case Up:
			if err := checkVersion(s.path, cur, false); err != nil {
				return err
			}
			if fresh && cur == 0 && target == 0 {
				d, ok, err := createFresh(ctx, tx, all)
				if err != nil {
					return err
				}
				if ok {
					done = d
					return stampVersion(ctx, tx)
				}
			}
			for _, m := range all {
				if m.version <= cur || target > 0 && m.version > target {
					continue
				}
				if _, err := tx.ExecContext(ctx, m.up); err != nil {
					return fmt.Errorf("sqlitestore: migrate up %04d_%s: %w", m.version, m.name, err)
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migration (version, name) VALUES (?, ?)`, m.version, m.name); err != nil {
					return fmt.Errorf("sqlitestore: record migration %d: %w", m.version, err)
				}
				done = append(done, m.version)
			}
		case Down:
			if target == 0 {
				if err := dropViews(ctx, tx); err != nil {
					return err
				}
			}
			for i := len(all) - 1; i >= 0; i-- {
				m := all[i]
				if m.version > cur || m.version <= target {
					continue
				}
				if _, err := tx.ExecContext(ctx, m.down); err != nil {
					return fmt.Errorf("sqlitestore: migrate down %04d_%s: %w", m.version, m.name, err)
				}
				if _, err := tx.ExecContext(ctx, `DELETE FROM schema_migration WHERE version = ?`, m.version); err != nil {
					return fmt.Errorf("sqlitestore: unrecord migration %d: %w", m.version, err)
				}
				done = append(done, m.version)
			}
		default:
			return fmt.Errorf("sqlitestore: migrate: bad direction %d", dir)
		}
		return stampVersion(ctx, tx)
	})
	return done, err
}
