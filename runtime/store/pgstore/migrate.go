package pgstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
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

// migrateLock is the advisory lock key that serializes migrations (and
// type view changes) of one database.
const migrateLock = 0x736d697468 // "smith"

type migration struct {
	version  int
	name     string
	up, down string
}

func migrations() ([]migration, error) {
	files, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("pgstore: list migrations: %w", err)
	}
	byVersion := map[int]*migration{}
	for _, f := range files {
		base := strings.TrimPrefix(f, "migrations/")
		num, rest, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("pgstore: bad migration file name %q", base)
		}
		body, err := migrationFS.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("pgstore: read migration %s: %w", base, err)
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
			return nil, fmt.Errorf("pgstore: bad migration file name %q", base)
		}
	}
	out := make([]migration, 0, len(byVersion))
	for _, m := range byVersion {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// Version returns the highest applied migration version (0: none).
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	err := s.tx(ctx, "migration version", nil, func(tx pgx.Tx) error {
		var err error
		v, err = currentVersion(ctx, tx)
		return err
	})
	return v, err
}

func currentVersion(ctx context.Context, tx pgx.Tx) (int, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
		return 0, fmt.Errorf("pgstore: lock for migrations: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migration (
		version INTEGER NOT NULL PRIMARY KEY CHECK (version >= 1),
		name TEXT NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return 0, fmt.Errorf("pgstore: create schema_migration: %w", err)
	}
	var v *int
	if err := tx.QueryRow(ctx, `SELECT max(version) FROM schema_migration`).Scan(&v); err != nil {
		return 0, fmt.Errorf("pgstore: read schema version: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// appliedVersions returns the versions recorded in schema_migration.
func appliedVersions(ctx context.Context, tx pgx.Tx) (map[int]bool, error) {
	rows, err := tx.Query(ctx, `SELECT version FROM schema_migration`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: read applied migrations: %w", err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("pgstore: read applied migrations: %w", err)
	}
	out := make(map[int]bool, len(vs))
	for _, v := range vs {
		out[v] = true
	}
	return out, nil
}

// Migrate applies migrations in one transaction: Up to version target (0:
// the latest), Down to version target (0: remove everything, type views
// included). It returns the versions applied or reverted, in order.
func (s *Store) Migrate(ctx context.Context, dir Direction, target int) ([]int, error) {
	all, err := migrations()
	if err != nil {
		return nil, err
	}
	var done []int
	err = s.tx(ctx, "migrate", nil, func(tx pgx.Tx) error {
		if _, err := currentVersion(ctx, tx); err != nil { // locks, creates the table
			return err
		}
		switch dir {
		case Up:
			// Every migration not applied yet, in order: one numbered
			// below the latest applied (a branch's migration merged after
			// a later one was applied) is applied too.
			applied, err := appliedVersions(ctx, tx)
			if err != nil {
				return err
			}
			for _, m := range all {
				if applied[m.version] || target > 0 && m.version > target {
					continue
				}
				if _, err := tx.Exec(ctx, m.up); err != nil {
					return fmt.Errorf("pgstore: migrate up %04d_%s: %w", m.version, m.name, err)
				}
				if _, err := tx.Exec(ctx, `INSERT INTO schema_migration (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
					return fmt.Errorf("pgstore: record migration %d: %w", m.version, err)
				}
				done = append(done, m.version)
			}
		case Down:
			if target == 0 {
				if err := dropViews(ctx, tx); err != nil {
					return err
				}
			}
			applied, err := appliedVersions(ctx, tx)
			if err != nil {
				return err
			}
			for i := len(all) - 1; i >= 0; i-- {
				m := all[i]
				if !applied[m.version] || m.version <= target {
					continue
				}
				if _, err := tx.Exec(ctx, m.down); err != nil {
					return fmt.Errorf("pgstore: migrate down %04d_%s: %w", m.version, m.name, err)
				}
				if _, err := tx.Exec(ctx, `DELETE FROM schema_migration WHERE version = $1`, m.version); err != nil {
					return fmt.Errorf("pgstore: unrecord migration %d: %w", m.version, err)
				}
				done = append(done, m.version)
			}
		default:
			return fmt.Errorf("pgstore: migrate: bad direction %d", dir)
		}
		return nil
	})
	return done, err
}
