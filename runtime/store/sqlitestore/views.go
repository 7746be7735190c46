package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// reserved are the view columns every type view has.
var reserved = map[string]bool{"run_id": true, "node_id": true, "scope": true, "iteration": true}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteLit quotes an SQL string literal.
func quoteLit(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

// TypeViewsEnsure implements store.Store. A top-level field named like a
// key column (run_id, node_id, scope, iteration) is exposed with a "field_"
// prefix.
func (s *Store) TypeViewsEnsure(ctx context.Context, p *store.TypeViewsEnsureParams) error {
	return s.tx(ctx, "ensure type views", func(tx *sql.Tx) error {
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

func ensureView(ctx context.Context, tx *sql.Tx, t *schema.Type) error {
	var kind sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT type FROM sqlite_master WHERE name = ?`, t.Name).Scan(&kind)
	if err != nil && err != sql.ErrNoRows {
		return fmt.Errorf("sqlitestore: view %s: %w", t.Name, err)
	}
	if kind.Valid && kind.String != "view" {
		return fmt.Errorf("sqlitestore: view %s: a %s of that name exists: %w", t.Name, kind.String, store.ErrConflict)
	}
	cols := []string{"run_id", "node_id", "scope", "iteration"}
	if t.Kind == schema.Object {
		for _, f := range t.Fields {
			col := f.Name
			if reserved[col] {
				col = "field_" + col
			}
			cols = append(cols, fmt.Sprintf("json_extract(output, %s) AS %s", quoteLit("$."+quoteIdent(f.Name)), quoteIdent(col)))
		}
	} else {
		cols = append(cols, "output AS value")
	}
	// The last two terms are those of the partial index node_type_idx,
	// so that the view reads it.
	q := fmt.Sprintf("CREATE VIEW %s AS SELECT %s FROM node WHERE output_type = %s AND state = 'finished' AND output_type <> ''",
		quoteIdent(t.Name), strings.Join(cols, ", "), quoteLit(t.Name))
	if _, err := tx.ExecContext(ctx, `DROP VIEW IF EXISTS `+quoteIdent(t.Name)); err != nil {
		return fmt.Errorf("sqlitestore: drop view %s: %w", t.Name, err)
	}
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("sqlitestore: create view %s: %w", t.Name, err)
	}
	return nil
}

func dropViews(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'view'`)
	if err != nil {
		return fmt.Errorf("sqlitestore: list views: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return fmt.Errorf("sqlitestore: list views: %w", err)
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if _, err := tx.ExecContext(ctx, `DROP VIEW `+quoteIdent(n)); err != nil {
			return fmt.Errorf("sqlitestore: drop view %s: %w", n, err)
		}
	}
	return nil
}
