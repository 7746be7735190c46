package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/smithc/smithc/runtime/store"
)

// EventAppend implements store.Store.
func (s *Store) EventAppend(ctx context.Context, p *store.EventAppendParams) error {
	return s.BatchCommit(ctx, &store.Batch{Events: p.Events})
}

// An event row holds one event, or a run of up to maxGroup consecutive
// events of one run that carry no data: a step's NodeStarted,
// AttemptStarted and NodeFinished committed together, or a for's
// elements committed in one group commit, are one row, not one or three
// per step (one B-tree insert and one index entry for them all). Such a
// row's kind is the events' kinds joined by commas (one per event), its
// node, scope and iteration the first event's, its time the first
// event's, its attempt the last one's, and its data the events'
// attempts and times, [[attempt,"time"],…]; an event of another node
// instance than the event before it has its instance too,
// [attempt,"time","node","scope",iteration] (from migration 0007 on;
// before, a row held the events of one instance, with different kinds).
// Its seq is its last event's: the events of a row have consecutive
// seqs ending at the row's, so a seq still names one event, and the next
// row continues after it. EventList expands rows back into the events,
// exactly as appended.
const maxGroup = 32

// eventGroups splits events into the runs stored as one row each.
func eventGroups(events []*store.Event) [][]*store.Event {
	out := make([][]*store.Event, 0, len(events)/4+1)
	for i := 0; i < len(events); {
		j := i + 1
		if groupable(events[i]) {
			for j < len(events) && j-i < maxGroup && groupable(events[j]) && events[j].RunID == events[i].RunID {
				j++
			}
		}
		out = append(out, events[i:j:j])
		i = j
	}
	return out
}

// groupable: e carries no data, is not of the indexed kind (whose rows
// event_agent_reply_idx holds, one event each), and its kind, node and scope are text
// the row's encoding keeps exactly (valid UTF-8; a kind without the
// commas that join kinds or the quotes the down migration's split needs
// absent).
func groupable(e *store.Event) bool {
	return (len(e.Data) == 0 || string(e.Data) == "null") && e.Kind != "" && e.Kind != store.IndexedEventKind && !strings.ContainsAny(e.Kind, ",\"\\") &&
		utf8.ValidString(e.NodeID) && utf8.ValidString(e.Scope)
}

func sameInstance(a, b *store.Event) bool {
	return a.RunID == b.RunID && a.NodeID == b.NodeID && a.Scope == b.Scope && a.Iteration == b.Iteration
}

// eventInsertSQL inserts rows with their seqs given: a batch numbers its
// events on from the highest seq, read in its transaction (maxSeqSQL, or
// with the fence).
const eventInsertSQL = `INSERT INTO event (seq, run_id, node_id, scope, iteration, attempt, kind, time, data)
	VALUES (?,?,?,?,?,?,?,?,?)`

const maxSeqSQL = `SELECT coalesce(max(seq), 0) FROM event`

// eventSQLN is eventInsertSQL for n rows (a chunk size).
var eventSQLN = chunkSQLs(func(n int) string { return multiRow(eventInsertSQL, n) })

// eventAppendN inserts rows (groups of events, len(groups) is a chunk
// size) with one statement, the events numbered on from seq, in order,
// and sets their Seq; it returns the last one's (the writer is alone in
// its transaction).
func eventAppendN(t *wtx, bx *boxes, seq int64, groups [][]*store.Event) (int64, error) {
	var node, scope any // a step's events follow each other: same node, same scope
	n := 0
	for i, g := range groups {
		e := g[0]
		if i == 0 || e.NodeID != groups[i-1][0].NodeID {
			node = e.NodeID
		}
		if i == 0 || e.Scope != groups[i-1][0].Scope {
			scope = e.Scope
		}
		n += len(g)
		t.arg(seq + int64(n))
		t.arg(bx.box(e.RunID))
		t.arg(node)
		t.arg(scope)
		t.arg(int64(e.Iteration))
		if len(g) == 1 {
			t.arg(int64(e.Attempt))
			t.arg(bx.box(e.Kind))
			t.arg(bx.ts(e.Time))
			t.arg(bx.box(js(e.Data)))
			continue
		}
		kinds := bx.kinds[:0]
		for k, ge := range g {
			if k > 0 {
				kinds = append(kinds, ',')
			}
			kinds = append(kinds, ge.Kind...)
		}
		bx.kinds = kinds
		data := bx.data[:0]
		data = append(data, '[')
		for k, ge := range g {
			if k > 0 {
				data = append(data, ',')
			}
			data = append(data, '[')
			data = strconv.AppendInt(data, int64(ge.Attempt), 10)
			data = append(data, ',', '"')
			data = appendTS(data, ge.Time)
			data = append(data, '"')
			if k > 0 && !sameInstance(g[k-1], ge) {
				data = append(data, ',')
				data = appendJSONString(data, ge.NodeID)
				data = append(data, ',')
				data = appendJSONString(data, ge.Scope)
				data = append(data, ',')
				data = strconv.AppendInt(data, int64(ge.Iteration), 10)
			}
			data = append(data, ']')
		}
		data = append(data, ']')
		bx.data = data
		t.arg(int64(g[len(g)-1].Attempt))
		t.arg(bx.boxBytes(kinds))
		t.arg(bx.ts(e.Time))
		t.arg(string(data))
	}
	if _, err := t.exec(eventSQLN(len(groups))); err != nil {
		return 0, fmt.Errorf("sqlitestore: append event %s of run %q: %w", groups[0][0].Kind, groups[0][0].RunID, err)
	}
	for _, g := range groups {
		for _, e := range g {
			seq++
			e.Seq = seq
		}
	}
	return seq, nil
}

// expandRow returns the events of one stored row (see maxGroup).
func expandRow(e *store.Event, data string) ([]*store.Event, error) {
	if !strings.Contains(e.Kind, ",") {
		e.Data = rj(data)
		return []*store.Event{e}, nil
	}
	kinds := strings.Split(e.Kind, ",")
	var parts [][]json.RawMessage
	if err := json.Unmarshal([]byte(data), &parts); err != nil || len(parts) != len(kinds) {
		return nil, fmt.Errorf("event row %d of run %q: the grouped events' data does not match their kinds %q", e.Seq, e.RunID, e.Kind)
	}
	out := make([]*store.Event, len(kinds))
	node, scope, iter := e.NodeID, e.Scope, e.Iteration
	for k, kind := range kinds {
		p := parts[k]
		var num int
		var t string
		if len(p) != 2 && len(p) != 5 || json.Unmarshal(p[0], &num) != nil || json.Unmarshal(p[1], &t) != nil ||
			len(p) == 5 && (json.Unmarshal(p[2], &node) != nil || json.Unmarshal(p[3], &scope) != nil || json.Unmarshal(p[4], &iter) != nil) {
			return nil, fmt.Errorf("event row %d of run %q: the grouped events' data is damaged", e.Seq, e.RunID)
		}
		ev := *e
		ev.Seq = e.Seq - int64(len(kinds)-1-k)
		ev.NodeID, ev.Scope, ev.Iteration = node, scope, iter
		ev.Kind, ev.Attempt, ev.Time, ev.Data = kind, num, pt(t), nil
		out[k] = &ev
	}
	return out, nil
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

// maxChunkLog is log2(maxChunk).
const maxChunkLog = 6

// chunkIndex returns k for a chunk of 2^k rows.
func chunkIndex(n int) int {
	k := 0
	for 1<<k < n {
		k++
	}
	if 1<<k != n || n > maxChunk {
		panic(fmt.Sprintf("sqlitestore: %d rows is not a chunk size", n))
	}
	return k
}

// chunkSQLs returns the statement text sql(n) for a chunk size n, each
// built at its first use (a short run uses one or two of the seven sizes;
// building them all cost every process 25 KB and about 60 µs at start).
func chunkSQLs(sql func(n int) string) func(n int) string {
	var (
		once [maxChunkLog + 1]sync.Once
		text [maxChunkLog + 1]string
	)
	return func(n int) string {
		k := chunkIndex(n)
		once[k].Do(func() { text[k] = sql(n) })
		return text[k]
	}
}

// chunks splits n rows into power-of-two chunk sizes, largest first,
// with the last fewer than four rows one by one: each chunk size is a
// statement of its own to prepare, which in a short process costs more
// than executing the one-row statement again (a one-step run's last batch
// has three event rows: one statement instead of two).
func chunks(n int) []int {
	var out []int
	for n > 0 {
		k := maxChunk
		for k > n {
			k /= 2
		}
		if k < 4 {
			k = 1
		}
		out = append(out, k)
		n -= k
	}
	return out
}

// EventList implements store.Store.
// eventListSQL is EventList's query.
func eventListSQL(p *store.EventListParams) (string, []any) {
	q := `SELECT seq, run_id, node_id, scope, iteration, attempt, kind, time, data FROM event
		WHERE run_id = ? AND seq > ?`
	args := []any{p.RunID, p.AfterSeq}
	switch p.Kind {
	case "":
	case store.IndexedEventKind:
		// never grouped, and in a partial index that SQLite uses only for
		// a query whose text has the index's own condition
		q += ` AND kind = '` + store.IndexedEventKind + `'`
	default:
		// a grouped row holds each of its kinds once: LIMIT still counts
		// the events that match
		q += ` AND (kind = ? OR (instr(kind, ',') > 0 AND instr(',' || kind || ',', ?) > 0))`
		args = append(args, p.Kind, ","+p.Kind+",")
	}
	q += ` ORDER BY seq`
	if p.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", p.Limit)
	}
	return q, args
}

func (s *Store) EventList(ctx context.Context, p *store.EventListParams) ([]*store.Event, error) {
	q, args := eventListSQL(p)
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
		e.Time = pt(t)
		evs, err := expandRow(&e, data)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list events of run %q: %w", p.RunID, err)
		}
		for _, ev := range evs {
			if ev.Seq > p.AfterSeq && (p.Kind == "" || ev.Kind == p.Kind) {
				out = append(out, ev)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list events of run %q: %w", p.RunID, err)
	}
	if p.Limit > 0 && len(out) > p.Limit {
		out = out[:p.Limit] // a grouped row gave more; the rest come after the last seq returned
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
	groups := eventGroups(b.Events)
	starts, folded, err := foldAttempts(b.Nodes, b.AttemptStarts)
	if err != nil {
		return err
	}
	if s.w == nil {
		return fmt.Errorf("sqlitestore: commit batch: the store %s is open read-only", s.path)
	}
	nodeSizes, eventSizes, attemptSizes := chunks(len(b.Nodes)), chunks(len(groups)), chunks(len(starts))
	bx := &boxes{}
	var after fenceState // what a fenced batch leaves, once committed
	err = s.retry(ctx, "commit batch", func() error {
		return s.batchTx(ctx, "commit batch", func(t *wtx) error {
			var seq int64 // the highest event seq
			if b.Fence != nil {
				dv, known, ok, err := s.fenceKnown(t, b.Fence)
				if err != nil {
					return err
				}
				if ok {
					seq = known
				} else if seq, err = checkFence(t, b.Fence); err != nil {
					return err
				}
				after = fenceState{dataVersion: dv, write: s.writes.Load(), fence: *b.Fence}
			} else if len(groups) > 0 {
				if err := t.queryRow(maxSeqSQL, &seq); err != nil {
					return fmt.Errorf("sqlitestore: read the last event seq: %w", err)
				}
			}
			for _, r := range b.Runs {
				if err := runUpdate(ctx, t.conn, r); err != nil {
					return err
				}
			}
			rest := b.Nodes
			for _, k := range nodeSizes {
				if err := nodeUpsertN(t, bx, rest[:k], folded); err != nil {
					return err
				}
				rest = rest[k:]
			}
			starts := starts
			for _, k := range attemptSizes {
				if err := attemptStartN(t, bx, starts[:k]); err != nil {
					return err
				}
				starts = starts[k:]
			}
			for _, h := range b.AttemptHeartbeats {
				if err := attemptHeartbeat(ctx, t.conn, h); err != nil {
					return err
				}
			}
			for _, f := range b.AttemptFinishes {
				if err := attemptFinish(t, f); err != nil {
					return err
				}
			}
			for _, a := range b.Approvals {
				if err := approvalRequest(ctx, t.conn, a); err != nil {
					return err
				}
			}
			rest2 := groups
			for _, k := range eventSizes {
				var err error
				if seq, err = eventAppendN(t, bx, seq, rest2[:k]); err != nil {
					return err
				}
				rest2 = rest2[k:]
			}
			// A batch that updates run rows may change the owner or the
			// fence itself: the next batch checks again.
			after.ok, after.seq = b.Fence != nil && len(b.Runs) == 0, seq
			return nil
		})
	})
	s.fenceMu.Lock()
	if err == nil {
		s.fence = after
	} else {
		s.fence = fenceState{}
	}
	s.fenceMu.Unlock()
	return err
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
	// scratch space for building a grouped event row's kind and data
	kinds, data []byte
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

// boxBytes is box(string(s)), without a copy of s when it is boxed
// already.
func (b *boxes) boxBytes(s []byte) any {
	for i := 0; i < b.n; i++ {
		if b.s[i] == string(s) {
			return b.v[i]
		}
	}
	return b.box(string(s))
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
