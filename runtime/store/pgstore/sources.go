package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/smithc/smithc/runtime/store"
)

// putSources replaces the files of run id's program, in tx: each content
// is stored once per hash.
func putSources(ctx context.Context, tx pgx.Tx, id string, files []*store.SourceFile) error {
	if _, err := tx.Exec(ctx, `DELETE FROM run_source WHERE run_id = $1`, id); err != nil {
		return fmt.Errorf("pgstore: sources of run %q: %w", id, err)
	}
	for i, f := range files {
		content := f.Content
		if content == nil {
			content = []byte{}
		}
		hash := f.Hash
		if hash == "" {
			hash = store.HashSource(content)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO source_blob (hash, content) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING`, hash, content); err != nil {
			return fmt.Errorf("pgstore: sources of run %q: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO run_source (run_id, position, path, hash) VALUES ($1, $2, $3, $4)`, id, i, f.Path, hash); err != nil {
			return fmt.Errorf("pgstore: sources of run %q: %w", id, err)
		}
	}
	return nil
}

// RunSourceList implements store.Store.
func (s *Store) RunSourceList(ctx context.Context, p *store.RunSourceListParams) ([]*store.SourceFile, error) {
	if _, err := getRun(ctx, s.pool, p.RunID, false); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT rs.path, rs.hash, b.content FROM run_source rs
		JOIN source_blob b ON b.hash = rs.hash WHERE rs.run_id = $1 ORDER BY rs.position`, p.RunID)
	if err != nil {
		return nil, fmt.Errorf("pgstore: sources of run %q: %w", p.RunID, err)
	}
	defer rows.Close()
	out := []*store.SourceFile{}
	for rows.Next() {
		f := &store.SourceFile{}
		if err := rows.Scan(&f.Path, &f.Hash, &f.Content); err != nil {
			return nil, fmt.Errorf("pgstore: sources of run %q: %w", p.RunID, err)
		}
		if f.Content == nil {
			f.Content = []byte{}
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("pgstore: sources of run %q: %w", p.RunID, err)
	}
	return out, nil
}
