package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// reserved are the view columns every type view has.
var reserved = map[string]bool{"run_id": true, "node_id": true, "scope": true, "iteration": true}

func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

func quoteLit(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

// TypeViewsEnsure implements store.Store. A view's field columns are
// typed by the field's type: text for strings and enums, bigint, double
// precision, boolean, and jsonb for lists, objects and any. A top-level
// field named like a key column (run_id, node_id, scope, iteration) is
// exposed with a "field_" prefix.
func (s *Store) TypeViewsEnsure(ctx context.Context, p *store.TypeViewsEnsureParams) error {
	return s.tx(ctx, "ensure type views", nil, func(tx pgx.Tx) error {
		// One writer of views at a time: concurrent DDL on the same view
		// fails rather than waits.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
			return fmt.Errorf("pgstore: lock for type views: %w", err)
		}
		for _, t := range p.Types {
			if t == nil || t.Name == "" {
				continue
			}
			if err := ensureView(ctx, tx, t); err != nil {
				return err
			}
		}
		return nil
	})
}

// column returns the view's expression for field f of output.
func column(f *schema.Field) string {
	key := quoteLit(f.Name)
	switch f.Type.Kind {
	case schema.String, schema.Enum:
		return "output ->> " + key
	case schema.Int:
		return "(output ->> " + key + ")::bigint"
	case schema.Float:
		return "(output ->> " + key + ")::double precision"
	case schema.Bool:
		return "(output ->> " + key + ")::boolean"
	}
	return "output -> " + key
}

func ensureView(ctx context.Context, tx pgx.Tx, t *schema.Type) error {
	var kind string
	err := tx.QueryRow(ctx, `SELECT c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relname = $1`, t.Name).Scan(&kind)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("pgstore: view %s: %w", t.Name, err)
	}
	if err == nil && kind != "v" {
		return fmt.Errorf("pgstore: view %s: a relation of that name that is not a view exists: %w", t.Name, store.ErrConflict)
	}
	cols := []string{"run_id", "node_id", "scope", "iteration"}
	if t.Kind == schema.Object {
		for _, f := range t.Fields {
			col := f.Name
			if reserved[col] {
				col = "field_" + col
			}
			cols = append(cols, column(f)+" AS "+quoteIdent(col))
		}
	} else {
		cols = append(cols, "output AS value")
	}
	q := fmt.Sprintf("CREATE VIEW %s AS SELECT %s FROM node WHERE output_type = %s AND state = 'finished'",
		quoteIdent(t.Name), strings.Join(cols, ", "), quoteLit(t.Name))
	if _, err := tx.Exec(ctx, `DROP VIEW IF EXISTS `+quoteIdent(t.Name)); err != nil {
		return fmt.Errorf("pgstore: drop view %s: %w", t.Name, err)
	}
	if _, err := tx.Exec(ctx, q); err != nil {
		return fmt.Errorf("pgstore: create view %s: %w", t.Name, err)
	}
	return nil
}

func dropViews(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT viewname FROM pg_views WHERE schemaname = current_schema()`)
	if err != nil {
		return fmt.Errorf("pgstore: list views: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("pgstore: list views: %w", err)
	}
	for _, n := range names {
		if _, err := tx.Exec(ctx, `DROP VIEW `+quoteIdent(n)); err != nil {
			return fmt.Errorf("pgstore: drop view %s: %w", n, err)
		}
	}
	return nil
}
