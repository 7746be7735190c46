package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/smithc/smithc/runtime/store"
)

// EventAppend implements store.Store.
func (s *Store) EventAppend(ctx context.Context, p *store.EventAppendParams) error {
	return s.BatchCommit(ctx, &store.Batch{Events: p.Events})
}

const eventInsertSQL = `INSERT INTO event (run_id, node_id, scope, iteration, attempt, kind, time, data)
	VALUES (?,?,?,?,?,?,?,?)`

// eventSQLN is eventInsertSQL for n rows.
func eventSQLN(n int) string { return multiRow(eventInsertSQL, n) }

// eventAppendN inserts events (len(events) is a chunk size) with one
// statement and sets their Seq: the rows of one INSERT get consecutive
// seqs, in order, ending at the last insert id (the writer is alone in
// its transaction).
func eventAppendN(ctx context.Context, stmt *sql.Stmt, bx *boxes, events []*store.Event) error {
	args := make([]any, 0, 8*len(events))
	var node, scope any // a step's events follow each other: same node, same scope
	for i, e := range events {
		if i == 0 || e.NodeID != events[i-1].NodeID {
			node = e.NodeID
		}
		if i == 0 || e.Scope != events[i-1].Scope {
			scope = e.Scope
		}
		args = append(args, bx.box(e.RunID), node, scope, e.Iteration, e.Attempt, bx.box(e.Kind), bx.ts(e.Time), bx.box(js(e.Data)))
	}
	res, err := stmt.ExecContext(ctx, args...)
	if err == nil {
		var last int64
		if last, err = res.LastInsertId(); err == nil {
			for i, e := range events {
				e.Seq = last - int64(len(events)-1-i)
			}
			return nil
		}
	}
	return fmt.Errorf("sqlitestore: append event %s of run %q: %w", events[0].Kind, events[0].RunID, err)
}

// multiRow turns a one-row INSERT ... VALUES (?,…) into one of n rows.
func multiRow(one string, n int) string {
	i := strings.LastIndex(one, "(")
	row := one[i:]
	var sb strings.Builder
	sb.Grow(len(one) + (n-1)*(len(row)+1))
	sb.WriteString(one)
	for k := 1; k < n; k++ {
		sb.WriteByte(',')
		sb.WriteString(row)
	}
	return sb.String()
}

// maxChunk bounds the rows of one multi-row statement; a batch is
// written in chunks of sizes that are powers of two (chunks), so that few
// statements are prepared, once each.
const maxChunk = 64

// chunks splits n rows into power-of-two chunk sizes, largest first.
func chunks(n int) []int {
	var out []int
	for n > 0 {
		k := maxChunk
		for k > n {
			k /= 2
		}
		out = append(out, k)
		n -= k
	}
	return out
}

// EventList implements store.Store.
func (s *Store) EventList(ctx context.Context, p *store.EventListParams) ([]*store.Event, error) {
	q := `SELECT seq, run_id, node_id, scope, iteration, attempt, kind, time, data FROM event
		WHERE run_id = ? AND seq > ?`
	args := []any{p.RunID, p.AfterSeq}
	if p.Kind != "" {
		q += ` AND kind = ?`
		args = append(args, p.Kind)
	}
	q += ` ORDER BY seq`
	if p.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", p.Limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
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
	if len(b.Tasks) > 0 {
		return fmt.Errorf("sqlitestore: commit batch: this store does not queue tasks (step distribution needs PostgreSQL)")
	}
	nodeSizes, eventSizes, attemptSizes := chunks(len(b.Nodes)), chunks(len(b.Events)), chunks(len(b.AttemptStarts))
	var qs []string
	for _, k := range attemptSizes {
		qs = append(qs, attemptStartSQLN(k))
	}
	for _, k := range nodeSizes {
		qs = append(qs, nodeUpsertSQLN(k))
	}
	for _, k := range eventSizes {
		qs = append(qs, eventSQLN(k))
	}
	if err := s.ensure(ctx, qs); err != nil {
		return err
	}
	bx := &boxes{}
	return s.tx(ctx, "commit batch", func(tx *sql.Tx) error {
		if b.Fence != nil {
			if err := s.checkFence(ctx, tx, b.Fence); err != nil {
				return err
			}
		}
		for _, r := range b.Runs {
			if err := runUpdate(ctx, tx, r); err != nil {
				return err
			}
		}
		rest := b.Nodes
		for _, k := range nodeSizes {
			stmt, err := s.stmt(ctx, tx, nodeUpsertSQLN(k))
			if err != nil {
				return err
			}
			if err := nodeUpsertN(ctx, stmt, bx, rest[:k]); err != nil {
				return err
			}
			rest = rest[k:]
		}
		starts := b.AttemptStarts
		for _, k := range attemptSizes {
			stmt, err := s.stmt(ctx, tx, attemptStartSQLN(k))
			if err != nil {
				return err
			}
			if err := s.attemptStartN(ctx, tx, stmt, bx, starts[:k]); err != nil {
				return err
			}
			starts = starts[k:]
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
		events := b.Events
		for _, k := range eventSizes {
			stmt, err := s.stmt(ctx, tx, eventSQLN(k))
			if err != nil {
				return err
			}
			if err := eventAppendN(ctx, stmt, bx, events[:k]); err != nil {
				return err
			}
			events = events[k:]
		}
		return nil
	})
}

// boxes holds the strings a batch repeats in every row (its run's id,
// event kinds, node kinds and states) converted to interface values once,
// so that building a multi-row statement's arguments does not allocate a
// copy of each for every row.
type boxes struct {
	s [16]string
	v [16]any
	n int
	// the last times formatted (ts), most recent first
	t  [2]time.Time
	tv [2]any
}

// ts is ts(t) as an argument, reusing the text of a time just formatted
// (a row's times are often equal: started and heartbeat, finished and
// updated).
func (b *boxes) ts(t time.Time) any {
	for i := range b.t {
		if b.tv[i] != nil && b.t[i].Equal(t) {
			return b.tv[i]
		}
	}
	var v any = ts(t)
	b.t[1], b.tv[1] = b.t[0], b.tv[0]
	b.t[0], b.tv[0] = t, v
	return v
}

func (b *boxes) box(s string) any {
	if s == "" {
		return "" // boxing the empty string allocates nothing
	}
	for i := 0; i < b.n; i++ {
		if b.s[i] == s {
			return b.v[i]
		}
	}
	var v any = s
	if b.n < len(b.s) {
		b.s[b.n], b.v[b.n] = s, v
		b.n++
	}
	return v
}
