package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/smithc/smithc/runtime/store"
)

const signalCols = `id, run_id, name, data, sent_at, consumed, consumer_node, consumer_scope, consumed_at`

func scanSignal(row pgx.Row) (*store.Signal, error) {
	var g store.Signal
	var data []byte
	var sent, consumedAt pgtype.Timestamptz
	if err := row.Scan(&g.ID, &g.RunID, &g.Name, &data, &sent, &g.Consumed, &g.ConsumerNode, &g.ConsumerScope, &consumedAt); err != nil {
		return nil, err
	}
	g.Data, g.SentAt, g.ConsumedAt = rj(data), pt(sent), pt(consumedAt)
	return &g, nil
}

// SignalSend implements store.Store.
func (s *Store) SignalSend(ctx context.Context, p *store.SignalSendParams) (*store.Signal, error) {
	g := &store.Signal{RunID: p.RunID, Name: p.Name, Data: p.Data, SentAt: p.Now}
	err := s.tx(ctx, "send signal", []string{p.RunID}, func(tx pgx.Tx) error {
		if _, err := getRun(ctx, tx, p.RunID, false); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO signal (run_id, name, data, sent_at) VALUES ($1,$2,$3,$4) RETURNING id`,
			p.RunID, p.Name, js(p.Data), ts(p.Now)).Scan(&g.ID); err != nil {
			return fmt.Errorf("pgstore: send signal %q to run %q: %w", p.Name, p.RunID, err)
		}
		return notify(ctx, tx, p.RunID)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// SignalConsume implements store.Store.
func (s *Store) SignalConsume(ctx context.Context, p *store.SignalConsumeParams) (*store.Signal, error) {
	var out *store.Signal
	err := s.tx(ctx, "consume signal", []string{p.RunID}, func(tx pgx.Tx) error {
		g, err := scanSignal(tx.QueryRow(ctx, `SELECT `+signalCols+` FROM signal
			WHERE run_id = $1 AND name = $2 AND consumed AND consumer_node = $3 AND consumer_scope = $4`,
			p.RunID, p.Name, p.ConsumerNode, p.ConsumerScope))
		if err == nil {
			out = g
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("pgstore: consume signal %q of run %q: %w", p.Name, p.RunID, err)
		}
		g, err = scanSignal(tx.QueryRow(ctx, `SELECT `+signalCols+` FROM signal
			WHERE run_id = $1 AND name = $2 AND NOT consumed ORDER BY id LIMIT 1`, p.RunID, p.Name))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("pgstore: consume signal %q of run %q: %w", p.Name, p.RunID, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("pgstore: consume signal %q of run %q: %w", p.Name, p.RunID, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE signal SET consumed = true, consumer_node = $1, consumer_scope = $2, consumed_at = $3
			WHERE id = $4`, p.ConsumerNode, p.ConsumerScope, ts(p.Now), g.ID); err != nil {
			return fmt.Errorf("pgstore: consume signal %q of run %q: %w", p.Name, p.RunID, err)
		}
		g.Consumed, g.ConsumerNode, g.ConsumerScope, g.ConsumedAt = true, p.ConsumerNode, p.ConsumerScope, p.Now
		out = g
		return nil
	})
	return out, err
}

// SignalList implements store.Store.
func (s *Store) SignalList(ctx context.Context, p *store.SignalListParams) ([]*store.Signal, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+signalCols+` FROM signal WHERE run_id = $1 ORDER BY id`, p.RunID)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list signals of run %q: %w", p.RunID, err)
	}
	defer rows.Close()
	var out []*store.Signal
	for rows.Next() {
		g, err := scanSignal(rows)
		if err != nil {
			return nil, fmt.Errorf("pgstore: list signals of run %q: %w", p.RunID, err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: list signals of run %q: %w", p.RunID, err)
	}
	return out, nil
}

// CacheGet implements store.Store.
func (s *Store) CacheGet(ctx context.Context, p *store.CacheGetParams) (*store.CacheEntry, error) {
	var c store.CacheEntry
	var output []byte
	var created, expires pgtype.Timestamptz
	err := s.pool.QueryRow(ctx, `SELECT workflow, source_hash, key, output, created_at, expires_at FROM cache_entry
		WHERE workflow = $1 AND source_hash = $2 AND key = $3 AND (expires_at IS NULL OR expires_at > $4)`,
		p.Workflow, p.SourceHash, p.Key, ts(p.Now)).Scan(&c.Workflow, &c.SourceHash, &c.Key, &output, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("pgstore: cache %q of %s: %w", p.Key, p.Workflow, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: get cache %q of %s: %w", p.Key, p.Workflow, err)
	}
	c.Output, c.CreatedAt, c.ExpiresAt = rj(output), pt(created), pt(expires)
	if c.Output == nil {
		c.Output = []byte("null")
	}
	return &c, nil
}

// CachePut implements store.Store.
func (s *Store) CachePut(ctx context.Context, p *store.CachePutParams) error {
	c := p.Entry
	if _, err := s.pool.Exec(ctx, `INSERT INTO cache_entry (workflow, source_hash, key, output, created_at, expires_at)
		VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (workflow, source_hash, key) DO UPDATE SET output = EXCLUDED.output,
		created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at`,
		c.Workflow, c.SourceHash, c.Key, js(c.Output), ts(c.CreatedAt), ts(c.ExpiresAt)); err != nil {
		return fmt.Errorf("pgstore: put cache %q of %s: %w", c.Key, c.Workflow, err)
	}
	return nil
}
