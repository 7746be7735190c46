package runtime

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
)

// heldStart is a compute step's start (its row becoming running,
// NodeStarted, its first attempt's start and AttemptStarted) held back
// so that it goes to the committer with the step's end as one write: one
// batch with the step's last row, its attempt already finished and its
// three events, made in one allocation. The committer would merge these
// writes into one transaction anyway (their rows are queued, never
// awaited); a compute step has no effect outside the run, so nothing
// needs its start on record before its end.
//
// Whatever else the step writes before its end (a failure, a log line, a
// heartbeat, a cancellation) writes the held start first (flushHeld):
// the writes keep their order, and their batches are those the step
// would have queued one by one without other steps' writes in between.
type heldStart struct {
	req   request
	b     store.Batch
	node  store.Node
	nodes [1]*store.Node
	att   store.Attempt
	atts  [1]*store.Attempt
	ev    [3]store.Event
	evs   [3]*store.Event
	n     int  // events held
	tried bool // the attempt's start is held
	held  bool // nothing was written yet
}

// batch fills h.b with what is held and in's row as it is now.
func (h *heldStart) batch(r *runner, in *instance) *store.Batch {
	r.mu.Lock()
	h.node = in.row
	r.mu.Unlock()
	return h.finish()
}

func (h *heldStart) finish() *store.Batch {
	h.held = false
	h.nodes[0] = &h.node
	h.b.Nodes = h.nodes[:]
	if h.tried {
		h.atts[0] = &h.att
		h.b.AttemptStarts = h.atts[:]
	}
	for i := 0; i < h.n; i++ {
		h.evs[i] = &h.ev[i]
	}
	h.b.Events = h.evs[:h.n]
	h.req.b = &h.b
	return &h.b
}

// flushHeld queues what h holds, if anything; h is nil for steps that
// hold nothing.
func (r *runner) flushHeld(in *instance, h *heldStart) {
	if h == nil || !h.held {
		return
	}
	h.batch(r, in)
	r.c.enqueue(&h.req) //nolint:errcheck // like write: a failed committer stops the session
}

// holdStart records a compute step's start in in's row and h (nothing is
// written yet).
func (r *runner) holdStart(in *instance, h *heldStart) {
	now := r.e.now()
	r.modify(in, func(row *store.Node) {
		row.State = store.NodeRunning
		if row.StartedAt.IsZero() {
			row.StartedAt = now
		}
	})
	r.eventInto(&h.ev[0], EventNodeStarted, in, 0, nil)
	h.n, h.held = 1, true
}

// succeedHeld is succeed for a compute step whose start is still held:
// the start, the attempt's end and the output go in one write (awaited
// when durable is set).
func (r *runner) succeedHeld(ctx context.Context, in *instance, h *heldStart, num int, v any, raw json.RawMessage, durable bool) error {
	now := r.e.now()
	r.mu.Lock()
	finishLocked(in, v, raw, now)
	h.node = in.row
	r.mu.Unlock()
	// The attempt's end folded into its start, as the committer does
	// with a start and an end in one transaction (foldAttempts).
	h.att.State, h.att.Error, h.att.ErrorKind, h.att.FinishedAt = store.AttemptFinished, "", "", now
	r.eventInto(&h.ev[h.n], EventNodeFinished, in, num, nil)
	h.n++
	b := h.finish()
	if durable {
		return r.c.commit(context.WithoutCancel(ctx), b)
	}
	r.c.enqueue(&h.req) //nolint:errcheck // like write
	return nil
}

// attemptScope is what the callbacks of one attempt act on; it holds the
// Attempt the action sees (one allocation for both). A compute step's
// Attempt reaches it through Attempt's methods only (its Func fields are
// nil); other actions get the Func fields too.
type attemptScope struct {
	a        Attempt
	r        *runner
	ctx      context.Context
	in       *instance
	h        *heldStart
	num      int
	runEnv   map[string]any
	lastBeat time.Time
	beat     atomic.Int64 // wall time of the last heartbeat, for heartbeat_timeout
}

func (sc *attemptScope) eval(x *ir.Expr) (any, error) {
	return sc.r.eval(x, sc.in, sc.in.path, sc.r.pre[sc.in.node], sc.runEnv)
}

func (sc *attemptScope) render(x *ir.Expr, quote func(any) (string, error)) (string, error) {
	return sc.r.render(x, sc.in, sc.in.path, sc.r.pre[sc.in.node], sc.runEnv, quote)
}

func (sc *attemptScope) heartbeat(detail string) {
	r, in := sc.r, sc.in
	sc.beat.Store(time.Now().UnixNano())
	t := r.e.now()
	if t.Sub(sc.lastBeat) < time.Second {
		return
	}
	sc.lastBeat = t
	r.flushHeld(in, sc.h)
	r.c.write(&store.Batch{AttemptHeartbeats: []*store.AttemptHeartbeatParams{{RunID: r.run.ID, NodeID: in.node.ID,
		Scope: in.scope, Number: sc.num, Detail: detail, LeaseExpiresAt: t.Add(r.e.cfg.LeaseDuration), Now: t}}})
}

func (sc *attemptScope) log(kind string, data map[string]any) {
	r := sc.r
	r.flushHeld(sc.in, sc.h)
	r.c.write(&store.Batch{Events: []*store.Event{r.event(kind, sc.in, sc.num, data)}})
	r.budget.account(kind, data)
}

func (sc *attemptScope) process(pgid int) {
	r, in := sc.r, sc.in
	r.flushHeld(in, sc.h)
	_ = r.c.commit(context.WithoutCancel(sc.ctx), &store.Batch{AttemptHeartbeats: []*store.AttemptHeartbeatParams{{RunID: r.run.ID,
		NodeID: in.node.ID, Scope: in.scope, Number: sc.num, PID: pgid, PIDStart: processStart(pgid), Now: r.e.now()}}}) // a failed commit stops the session anyway
}

func (sc *attemptScope) call(ctx context.Context, workflow string, input any) (any, error) {
	return sc.r.call(ctx, sc.in, workflow, input)
}

func (sc *attemptScope) addSecret(s string) error { return sc.r.e.addSecret(sc.r.secrets, "", s) }
