package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/smithc/smithc/runtime/store"
)

// EventAppend implements store.Store.
func (s *Store) EventAppend(ctx context.Context, p *store.EventAppendParams) error {
	return s.BatchCommit(ctx, &store.Batch{Events: p.Events})
}

const eventInsertSQL = `INSERT INTO event (run_id, node_id, scope, iteration, attempt, kind, time, data)
	VALUES (?,?,?,?,?,?,?,?)`

func eventAppend(ctx context.Context, stmt *sql.Stmt, e *store.Event) error {
	res, err := stmt.ExecContext(ctx, e.RunID, e.NodeID, e.Scope, e.Iteration, e.Attempt, e.Kind, ts(e.Time), js(e.Data))
	if err != nil {
		return fmt.Errorf("sqlitestore: append event %s of run %q: %w", e.Kind, e.RunID, err)
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlitestore: append event %s of run %q: %w", e.Kind, e.RunID, err)
	}
	e.Seq = seq
	return nil
}

// EventList implements store.Store.
func (s *Store) EventList(ctx context.Context, p *store.EventListParams) ([]*store.Event, error) {
	q := `SELECT seq, run_id, node_id, scope, iteration, attempt, kind, time, data FROM event
		WHERE run_id = ? AND seq > ? ORDER BY seq`
	if p.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", p.Limit)
	}
	rows, err := s.r.QueryContext(ctx, q, p.RunID, p.AfterSeq)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list events of run %q: %w", p.RunID, err)
	}
	defer rows.Close()
	var out []*store.Event
	for rows.Next() {
		var e store.Event
		var t, data string
		if err := rows.Scan(&e.Seq, &e.RunID, &e.NodeID, &e.Scope, &e.Iteration, &e.Attempt, &e.Kind, &t, &data); err != nil {
			return nil, fmt.Errorf("sqlitestore: list events of run %q: %w", p.RunID, err)
		}
		e.Time, e.Data = pt(t), rj(data)
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list events of run %q: %w", p.RunID, err)
	}
	return out, nil
}

// BatchCommit implements store.Store.
func (s *Store) BatchCommit(ctx context.Context, b *store.Batch) error {
	if b.Empty() {
		return nil
	}
	if err := s.ensureHot(ctx); err != nil {
		return err
	}
	return s.tx(ctx, "commit batch", func(tx *sql.Tx) error {
		if b.Fence != nil {
			if err := checkFence(ctx, tx, b.Fence); err != nil {
				return err
			}
		}
		for _, r := range b.Runs {
			if err := runUpdate(ctx, tx, r); err != nil {
				return err
			}
		}
		if len(b.Nodes) > 0 {
			stmt, err := s.stmt(ctx, tx, nodeUpsertSQL)
			if err != nil {
				return err
			}
			for _, n := range b.Nodes {
				if err := nodeUpsert(ctx, stmt, n); err != nil {
					return err
				}
			}
		}
		for _, a := range b.AttemptStarts {
			if err := s.attemptStart(ctx, tx, a); err != nil {
				return err
			}
		}
		for _, h := range b.AttemptHeartbeats {
			if err := attemptHeartbeat(ctx, tx, h); err != nil {
				return err
			}
		}
		for _, f := range b.AttemptFinishes {
			if err := s.attemptFinish(ctx, tx, f); err != nil {
				return err
			}
		}
		for _, a := range b.Approvals {
			if err := approvalRequest(ctx, tx, a); err != nil {
				return err
			}
		}
		if len(b.Events) > 0 {
			stmt, err := s.stmt(ctx, tx, eventInsertSQL)
			if err != nil {
				return err
			}
			for _, e := range b.Events {
				if err := eventAppend(ctx, stmt, e); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
