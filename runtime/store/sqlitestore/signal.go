package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/smithc/smithc/runtime/store"
)

const signalCols = `id, run_id, name, data, sent_at, consumed, consumer_node, consumer_scope, consumed_at`

func scanSignal(sc scanner) (*store.Signal, error) {
	var g store.Signal
	var data, sent, consumedAt string
	var consumed int
	if err := sc.Scan(&g.ID, &g.RunID, &g.Name, &data, &sent, &consumed, &g.ConsumerNode, &g.ConsumerScope, &consumedAt); err != nil {
		return nil, err
	}
	g.Data, g.SentAt, g.ConsumedAt, g.Consumed = rj(data), pt(sent), pt(consumedAt), consumed != 0
	return &g, nil
}

// SignalSend implements store.Store.
func (s *Store) SignalSend(ctx context.Context, p *store.SignalSendParams) (*store.Signal, error) {
	g := &store.Signal{RunID: p.RunID, Name: p.Name, Data: p.Data, SentAt: p.Now}
	err := s.tx(ctx, "send signal", func(tx *sql.Tx) error {
		if _, err := getRun(ctx, tx, p.RunID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO signal (run_id, name, data, sent_at) VALUES (?,?,?,?)`,
			p.RunID, p.Name, js(p.Data), ts(p.Now))
		if err != nil {
			return fmt.Errorf("sqlitestore: send signal %q to run %q: %w", p.Name, p.RunID, err)
		}
		g.ID, err = res.LastInsertId()
		if err != nil {
			return fmt.Errorf("sqlitestore: send signal %q to run %q: %w", p.Name, p.RunID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// SignalConsume implements store.Store.
func (s *Store) SignalConsume(ctx context.Context, p *store.SignalConsumeParams) (*store.Signal, error) {
	var out *store.Signal
	err := s.tx(ctx, "consume signal", func(tx *sql.Tx) error {
		g, err := scanSignal(tx.QueryRowContext(ctx, `SELECT `+signalCols+` FROM signal
			WHERE run_id = ? AND name = ? AND consumed = 1 AND consumer_node = ? AND consumer_scope = ?`,
			p.RunID, p.Name, p.ConsumerNode, p.ConsumerScope))
		if err == nil {
			out = g
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlitestore: consume signal %q of run %q: %w", p.Name, p.RunID, err)
		}
		g, err = scanSignal(tx.QueryRowContext(ctx, `SELECT `+signalCols+` FROM signal
			WHERE run_id = ? AND name = ? AND consumed = 0 ORDER BY id LIMIT 1`, p.RunID, p.Name))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlitestore: consume signal %q of run %q: %w", p.Name, p.RunID, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlitestore: consume signal %q of run %q: %w", p.Name, p.RunID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE signal SET consumed = 1, consumer_node = ?, consumer_scope = ?, consumed_at = ?
			WHERE id = ?`, p.ConsumerNode, p.ConsumerScope, ts(p.Now), g.ID); err != nil {
			return fmt.Errorf("sqlitestore: consume signal %q of run %q: %w", p.Name, p.RunID, err)
		}
		g.Consumed, g.ConsumerNode, g.ConsumerScope, g.ConsumedAt = true, p.ConsumerNode, p.ConsumerScope, p.Now
		out = g
		return nil
	})
	return out, err
}

// SignalList implements store.Store.
func (s *Store) SignalList(ctx context.Context, p *store.SignalListParams) ([]*store.Signal, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+signalCols+` FROM signal WHERE run_id = ? ORDER BY id`, p.RunID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list signals of run %q: %w", p.RunID, err)
	}
	defer rows.Close()
	var out []*store.Signal
	for rows.Next() {
		g, err := scanSignal(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list signals of run %q: %w", p.RunID, err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list signals of run %q: %w", p.RunID, err)
	}
	return out, nil
}

// CacheGet implements store.Store.
func (s *Store) CacheGet(ctx context.Context, p *store.CacheGetParams) (*store.CacheEntry, error) {
	var c store.CacheEntry
	var output, created, expires string
	err := s.r.QueryRowContext(ctx, `SELECT workflow, source_hash, key, output, created_at, expires_at FROM cache_entry
		WHERE workflow = ? AND source_hash = ? AND key = ? AND (expires_at = '' OR expires_at > ?)`,
		p.Workflow, p.SourceHash, p.Key, ts(p.Now)).Scan(&c.Workflow, &c.SourceHash, &c.Key, &output, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlitestore: cache %q of %s: %w", p.Key, p.Workflow, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: get cache %q of %s: %w", p.Key, p.Workflow, err)
	}
	c.Output, c.CreatedAt, c.ExpiresAt = []byte(output), pt(created), pt(expires)
	return &c, nil
}

// CachePut implements store.Store.
func (s *Store) CachePut(ctx context.Context, p *store.CachePutParams) error {
	c := p.Entry
	return s.tx(ctx, "put cache", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO cache_entry (workflow, source_hash, key, output, created_at, expires_at)
			VALUES (?,?,?,?,?,?)`, c.Workflow, c.SourceHash, c.Key, js(c.Output), ts(c.CreatedAt), ts(c.ExpiresAt)); err != nil {
			return fmt.Errorf("sqlitestore: put cache %q of %s: %w", c.Key, c.Workflow, err)
		}
		return nil
	})
}
