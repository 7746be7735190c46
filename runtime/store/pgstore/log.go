package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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

// BatchCommit implements store.Store. The whole batch — BEGIN, the run
// locks, the run updates, the other writes, COMMIT — goes to the server in
// one pipelined round trip; a run update or attempt finish that matches no
// row fails the transaction there (smithc_expect), so nothing after it is
// committed.
func (s *Store) BatchCommit(ctx context.Context, b *store.Batch) error {
	if b.Empty() {
		return nil
	}
	for _, r := range b.Runs {
		if r.Sources != nil {
			return s.batchCommitTx(ctx, b) // a run adopting sources: the general path
		}
	}
	var pb pgx.Batch
	pb.Queue(`BEGIN`)
	pb.Queue(lockSQL, uniq(batchRuns(b)))
	if f := b.Fence; f != nil {
		// Under the run's lock: still its owner, with the claim's token?
		pb.Queue(`SELECT smithc_expect((SELECT count(*) FROM run WHERE id = $1 AND owner = $2 AND fence = $3), $4)`,
			f.RunID, f.Owner, f.Token, "fence:"+f.RunID)
	}
	for _, r := range b.Runs {
		queueRunUpdate(&pb, r)
	}
	queueWrites(&pb, b)
	pb.Queue(`COMMIT`)
	return s.sendBatch(ctx, &pb)
}

// batchCommitTx is BatchCommit in a transaction: the run updates one by
// one, then the other writes pipelined.
func (s *Store) batchCommitTx(ctx context.Context, b *store.Batch) error {
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
		queueWrites(&pb, b)
		if pb.Len() == 0 {
			return nil
		}
		if err := tx.SendBatch(ctx, &pb).Close(); err != nil {
			return s.batchError(ctx, err)
		}
		return nil
	})
}

// queueWrites queues the writes of b other than run updates.
func queueWrites(pb *pgx.Batch, b *store.Batch) {
	for _, n := range b.Nodes {
		queueNode(pb, n)
	}
	for _, a := range b.AttemptStarts {
		queueAttemptStart(pb, a)
	}
	for _, h := range b.AttemptHeartbeats {
		queueAttemptHeartbeat(pb, h)
	}
	for _, f := range b.AttemptFinishes {
		queueAttemptFinish(pb, f)
	}
	for _, a := range b.Approvals {
		queueApproval(pb, a)
	}
	if len(b.Approvals) > 0 {
		pb.Queue(`SELECT pg_notify($1, $2)`, Channel, b.Approvals[0].RunID)
	}
	for _, e := range b.Events {
		queueEvent(pb, e)
	}
	queueTasks(pb, b.Tasks) // task.go
}

// sendBatch sends a BEGIN … COMMIT batch in one round trip.
func (s *Store) sendBatch(ctx context.Context, pb *pgx.Batch) error {
	deadline := time.Now().Add(beginRetry)
	for {
		conn, err := s.acquire(ctx)
		if err != nil {
			return fmt.Errorf("pgstore: commit batch: %w", err)
		}
		err = conn.SendBatch(ctx, pb).Close()
		if err == nil {
			conn.Release()
			return nil
		}
		if pgconn.SafeToRetry(err) && ctx.Err() == nil && time.Now().Before(deadline) {
			// Nothing reached the server (a connection the server closed,
			// as after a restart): try again on another one.
			conn.Conn().Close(context.Background()) //nolint:errcheck // it is broken
			conn.Release()
			continue
		}
		if !conn.Conn().IsClosed() && conn.Conn().PgConn().TxStatus() != 'I' {
			conn.Exec(context.WithoutCancel(ctx), `ROLLBACK`) //nolint:errcheck // a broken connection is dropped by the pool
		}
		conn.Release()
		return s.batchError(ctx, err)
	}
}

// batchError explains a failed batch.
func (s *Store) batchError(ctx context.Context, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "P0002" {
		kind, what, _ := strings.Cut(pe.Message, ":")
		switch kind {
		case "run":
			if _, gerr := getRun(ctx, s.pool, what, false); gerr != nil {
				return gerr
			}
			return fmt.Errorf("pgstore: update run %q: %w: owned by another process", what, store.ErrConflict)
		case "attempt":
			return fmt.Errorf("pgstore: finish attempt %s: %w", what, store.ErrNotFound)
		case "fence":
			if _, gerr := getRun(ctx, s.pool, what, false); gerr != nil {
				return gerr
			}
			return fmt.Errorf("pgstore: commit to run %q: %w: a newer owner took it over (its fencing token changed)", what, store.ErrConflict)
		}
	}
	if isUnique(err) {
		return fmt.Errorf("pgstore: commit batch: %w: an attempt with that number exists", store.ErrConflict)
	}
	return fmt.Errorf("pgstore: commit batch: %w", err)
}
