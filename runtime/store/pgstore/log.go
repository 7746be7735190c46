package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/smithc/smithc/runtime/store"
)

// EventAppend implements store.Store.
func (s *Store) EventAppend(ctx context.Context, p *store.EventAppendParams) error {
	return s.BatchCommit(ctx, &store.Batch{Events: p.Events})
}

func queueEvent(b *pgx.Batch, e *store.Event) {
	b.Queue(`INSERT INTO event (run_id, node_id, scope, iteration, attempt, kind, time, data)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING seq`,
		e.RunID, e.NodeID, e.Scope, e.Iteration, e.Attempt, e.Kind, ts(e.Time), js(e.Data)).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&e.Seq); err != nil {
			return fmt.Errorf("pgstore: append event %s of run %q: %w", e.Kind, e.RunID, err)
		}
		return nil
	})
}

// EventList implements store.Store.
func (s *Store) EventList(ctx context.Context, p *store.EventListParams) ([]*store.Event, error) {
	q := `SELECT seq, run_id, node_id, scope, iteration, attempt, kind, time, data FROM event
		WHERE run_id = $1 AND seq > $2 ORDER BY seq`
	if p.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", p.Limit)
	}
	rows, err := s.pool.Query(ctx, q, p.RunID, p.AfterSeq)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list events of run %q: %w", p.RunID, err)
	}
	defer rows.Close()
	var out []*store.Event
	for rows.Next() {
		var e store.Event
		var t pgtype.Timestamptz
		var data []byte
		if err := rows.Scan(&e.Seq, &e.RunID, &e.NodeID, &e.Scope, &e.Iteration, &e.Attempt, &e.Kind, &t, &data); err != nil {
			return nil, fmt.Errorf("pgstore: list events of run %q: %w", p.RunID, err)
		}
		e.Time, e.Data = pt(t), rj(data)
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: list events of run %q: %w", p.RunID, err)
	}
	return out, nil
}

// batchRuns returns the ids of the runs a batch writes to.
func batchRuns(b *store.Batch) []string {
	seen := map[string]bool{}
	var ids []string
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, r := range b.Runs {
		add(r.ID)
	}
	for _, n := range b.Nodes {
		add(n.RunID)
	}
	for _, a := range b.AttemptStarts {
		add(a.RunID)
	}
	for _, h := range b.AttemptHeartbeats {
		add(h.RunID)
	}
	for _, f := range b.AttemptFinishes {
		add(f.RunID)
	}
	for _, a := range b.Approvals {
		add(a.RunID)
	}
	for _, e := range b.Events {
		add(e.RunID)
	}
	return ids
}

// BatchCommit implements store.Store. Run updates are applied one by one
// (their conflicts are checked); the other writes go to the server in one
// pipelined round trip.
func (s *Store) BatchCommit(ctx context.Context, b *store.Batch) error {
	if b.Empty() {
		return nil
	}
	return s.tx(ctx, "commit batch", batchRuns(b), func(tx pgx.Tx) error {
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
		var pb pgx.Batch
		for _, n := range b.Nodes {
			queueNode(&pb, n)
		}
		for _, a := range b.AttemptStarts {
			queueAttemptStart(&pb, a)
		}
		for _, h := range b.AttemptHeartbeats {
			queueAttemptHeartbeat(&pb, h)
		}
		for _, f := range b.AttemptFinishes {
			queueAttemptFinish(&pb, f)
		}
		for _, a := range b.Approvals {
			queueApproval(&pb, a)
		}
		if len(b.Approvals) > 0 {
			pb.Queue(`SELECT pg_notify($1, $2)`, Channel, b.Approvals[0].RunID)
		}
		for _, e := range b.Events {
			queueEvent(&pb, e)
		}
		if pb.Len() == 0 {
			return nil
		}
		if err := tx.SendBatch(ctx, &pb).Close(); err != nil {
			if isUnique(err) {
				return fmt.Errorf("pgstore: commit batch: %w: an attempt with that number exists", store.ErrConflict)
			}
			return fmt.Errorf("pgstore: commit batch: %w", err)
		}
		return nil
	})
}
