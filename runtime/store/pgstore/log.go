package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// eventInsertSQL inserts many events in one statement, in the order of
// the arrays (the sequence numbers follow that order).
const eventInsertSQL = `INSERT INTO event (run_id, node_id, scope, iteration, attempt, kind, time, data)
	SELECT run_id, node_id, scope, iteration, attempt, kind, time, data::jsonb
	FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::text[], $7::timestamptz[], $8::text[])
		WITH ORDINALITY AS e(run_id, node_id, scope, iteration, attempt, kind, time, data, ord)
	ORDER BY ord RETURNING seq`

// queueEvents queues one multi-row insert of evs and sets their Seq from
// the numbers it returns (in increasing order, the order of insertion).
func queueEvents(b *pgx.Batch, evs []*store.Event) {
	if len(evs) == 0 {
		return
	}
	n := len(evs)
	runs, nodes, scopes, kinds, data := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	iters, atts := make([]int32, n), make([]int32, n)
	times := make([]pgtype.Timestamptz, n)
	for i, e := range evs {
		runs[i], nodes[i], scopes[i], kinds[i], data[i] = e.RunID, e.NodeID, e.Scope, e.Kind, js(e.Data)
		iters[i], atts[i] = int32(e.Iteration), int32(e.Attempt)
		times[i] = tsz(e.Time)
	}
	b.Queue(eventInsertSQL, runs, nodes, scopes, iters, atts, kinds, times, data).Query(func(rows pgx.Rows) error {
		seqs := make([]int64, 0, n)
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				return fmt.Errorf("pgstore: append events of run %q: %w", evs[0].RunID, err)
			}
			seqs = append(seqs, seq)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("pgstore: append events of run %q: %w", evs[0].RunID, err)
		}
		if len(seqs) != n {
			return fmt.Errorf("pgstore: append events of run %q: %d sequence numbers for %d events", evs[0].RunID, len(seqs), n)
		}
		slices.Sort(seqs)
		for i, e := range evs {
			e.Seq = seqs[i]
		}
		return nil
	})
}

// EventList implements store.Store.
func (s *Store) EventList(ctx context.Context, p *store.EventListParams) ([]*store.Event, error) {
	q, args := eventListSQL(p)
	rows, err := s.pool.Query(ctx, q, args...)
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

// eventListSQL is EventList's query and its arguments. The indexed kind
// is written into the query, not passed as a parameter: its rows are in
// a partial index (event_agent_reply_idx, migration 8), which a generic
// plan of "kind = $3" could not use.
func eventListSQL(p *store.EventListParams) (string, []any) {
	q := `SELECT seq, run_id, node_id, scope, iteration, attempt, kind, time, data FROM event
		WHERE run_id = $1 AND seq > $2`
	args := []any{p.RunID, p.AfterSeq}
	switch p.Kind {
	case "":
	case store.IndexedEventKind:
		q += ` AND kind = '` + store.IndexedEventKind + `'`
	default:
		q += ` AND kind = $3`
		args = append(args, p.Kind)
	}
	q += ` ORDER BY seq`
	if p.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", p.Limit)
	}
	return q, args
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

// BatchCommit implements store.Store. Batches committed at the same time
// by different goroutines (the runs a worker executes at once) share one
// transaction (see group); each transaction — BEGIN, the run locks, the
// fence checks, the run updates, the other writes, COMMIT — goes to the
// server in one pipelined round trip, each kind of row in one multi-row
// statement. A run update or attempt finish that matches no row, or a
// fence that no longer holds, fails the transaction there
// (smithc_expect), so nothing after it is committed; the batches of a
// failed shared transaction are then committed one by one, so that each
// gets its own outcome.
func (s *Store) BatchCommit(ctx context.Context, b *store.Batch) error {
	if b.Empty() {
		return nil
	}
	for _, r := range b.Runs {
		if r.Sources != nil {
			return s.batchCommitTx(ctx, b) // a run adopting sources: the general path
		}
	}
	return s.group.commit(ctx, b)
}

// commitBatches commits bs (of distinct runs) in one transaction.
func (s *Store) commitBatches(ctx context.Context, bs []*store.Batch) error {
	var pb pgx.Batch
	pb.Queue(`BEGIN`)
	var runs []string
	for _, b := range bs {
		runs = append(runs, batchRuns(b)...)
	}
	pb.Queue(lockSQL, uniq(runs))
	fenced := map[string]bool{}
	for _, b := range bs {
		if f := b.Fence; f != nil {
			fenced[f.RunID] = true
			// Under the run's lock: still its owner, with the claim's token?
			pb.Queue(fenceSQL, f.RunID, f.Owner, f.Token, "fence:"+f.RunID)
		}
	}
	merged := bs[0]
	if len(bs) > 1 {
		merged = &store.Batch{}
		for _, b := range bs {
			merged.Merge(b)
		}
	}
	for _, r := range merged.Runs {
		queueRunUpdate(&pb, r, fenced[r.ID])
	}
	queueWrites(&pb, merged)
	pb.Queue(`COMMIT`)
	return s.sendBatch(ctx, &pb)
}

const fenceSQL = `SELECT smithc_expect((SELECT count(*) FROM run WHERE id = $1 AND owner = $2 AND fence = $3), $4)`

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
	queueNodes(pb, b.Nodes)
	queueAttemptStarts(pb, b.AttemptStarts)
	for _, h := range b.AttemptHeartbeats {
		queueAttemptHeartbeat(pb, h)
	}
	for _, f := range b.AttemptFinishes {
		queueAttemptFinish(pb, f)
	}
	var notified []string
	for _, a := range b.Approvals {
		queueApproval(pb, a)
		if !slices.Contains(notified, a.RunID) {
			notified = append(notified, a.RunID)
			pb.Queue(`SELECT pg_notify($1, $2)`, Channel, a.RunID)
		}
	}
	queueEvents(pb, b.Events)
	queueTasks(pb, b.Tasks) // task.go
}

// sendBatch sends a BEGIN … COMMIT batch in one round trip; see
// batchError for what its errors mean.
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
		return err
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
