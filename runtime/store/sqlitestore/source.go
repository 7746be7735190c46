package sqlitestore

import (
	"context"
	"fmt"

	"github.com/smithc/smithc/runtime/store"
)

// sourcesSet replaces the source files of run id: each content is kept
// once per hash, the run's list points at them in order. A run created
// in the same transaction (created) has none to replace: the foreign key
// of run_source admits no row for a run that did not exist.
func sourcesSet(ctx context.Context, tx execer, id string, files []*store.SourceFile, created bool) error {
	if !created {
		if _, err := tx.ExecContext(ctx, `DELETE FROM run_source WHERE run_id = ?`, id); err != nil {
			return fmt.Errorf("sqlitestore: sources of run %q: %w", id, err)
		}
	}
	for i, f := range files {
		hash := f.Hash
		if hash == "" {
			hash = store.HashSource(f.Content)
		}
		content := f.Content
		if content == nil {
			content = []byte{}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO source_blob (hash, content) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING`,
			hash, content); err != nil {
			return fmt.Errorf("sqlitestore: store source %s of run %q: %w", f.Path, id, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO run_source (run_id, position, path, hash) VALUES (?, ?, ?, ?)`,
			id, i, f.Path, hash); err != nil {
			return fmt.Errorf("sqlitestore: store source %s of run %q: %w", f.Path, id, err)
		}
	}
	return nil
}

// RunSourceList implements store.Store.
func (s *Store) RunSourceList(ctx context.Context, p *store.RunSourceListParams) ([]*store.SourceFile, error) {
	if _, err := getRun(ctx, s.r, p.RunID); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT rs.path, rs.hash, b.content FROM run_source rs
		JOIN source_blob b ON b.hash = rs.hash WHERE rs.run_id = ? ORDER BY rs.position`, p.RunID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: sources of run %q: %w", p.RunID, err)
	}
	defer rows.Close()
	out := []*store.SourceFile{}
	for rows.Next() {
		var f store.SourceFile
		if err := rows.Scan(&f.Path, &f.Hash, &f.Content); err != nil {
			return nil, fmt.Errorf("sqlitestore: sources of run %q: %w", p.RunID, err)
		}
		if f.Content == nil {
			f.Content = []byte{} // an empty file is not an absent one
		}
		out = append(out, &f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: sources of run %q: %w", p.RunID, err)
	}
	return out, nil
}
