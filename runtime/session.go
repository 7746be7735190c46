package runtime

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// Causes of a session's cancellation.
var (
	errCancelRequested = errors.New("cancel requested")
	errRunTimeout      = errors.New("run timed out")
	errLeaseLost       = errors.New("the run's lease was taken over by another process")
)

// runTimeoutPrefix starts the error of a run that hit its deadline.
const runTimeoutPrefix = "the run timed out after "

// sessionParams say what a session executes and how.
type sessionParams struct {
	prog *ir.Program
	wf   *ir.Workflow
	srcs []Source // the program's files (nil: unknown)
	// adopt: the run takes prog (and srcs) in place of its stored
	// program; dropped are the node ids that left with the old one.
	adopt     bool
	dropped   []string
	mode      WaitMode
	timeout   time.Duration
	startKind string
	startData map[string]any // more data for the start event (a fork's origin)
	// input is the value whose encoding Start has just stored as the
	// run's input (nil: the session decodes what was stored).
	input any
}

// session executes a run this engine owns until it ends or waits, then
// releases it.
func (e *Engine) session(ctx context.Context, run *store.Run, sp sessionParams) (*Result, error) {
	prog, wf, mode, timeout := sp.prog, sp.wf, sp.mode, sp.timeout
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	e.mu.Lock()
	if _, live := e.live[run.ID]; live {
		e.mu.Unlock()
		return nil, fmt.Errorf("runtime: run %s: %w: it is executing in this process", run.ID, ErrRunLive)
	}
	e.live[run.ID] = cancel
	wf.Lookup("") // builds the index (and Parent links) once
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.live, run.ID)
		e.mu.Unlock()
	}()
	// The workflow's timeout runs from the run's creation; one given for
	// a resumed session (resume --timeout) from now, so that a run that
	// hit its deadline can be continued.
	from := run.CreatedAt
	if timeout > 0 && sp.startKind == EventRunResumed {
		from = e.now()
	}
	if timeout <= 0 {
		timeout = wf.Timeout
	}
	if timeout > 0 {
		var c2 context.CancelFunc
		sctx, c2 = context.WithDeadlineCause(sctx, from.Add(timeout), errRunTimeout)
		defer c2()
	}

	secrets, err := e.secretsOf(prog)
	if err != nil {
		return nil, err
	}
	r := &runner{e: e, run: run, prog: prog, wf: wf, srcs: sp.srcs, mode: mode, dir: e.cfg.Dir, timeout: timeout,
		insts: map[string]*instance{}, sem: make(chan struct{}, e.cfg.MaxConcurrency), secrets: secrets, stored: sp.input}
	// Every write of the session checks that this engine still owns the
	// run with the token of its claim (fencing): an owner stopped past its
	// lease and taken over commits nothing when it wakes.
	claim := &store.Fence{RunID: run.ID, Owner: e.cfg.Owner.String(), Token: run.Fence}
	r.c = newCommitter(e.cfg.Store, claim, e.cfg.ObserveFunc, r.redactor())
	if err := r.load(ctx, sp); err != nil {
		r.c.close() //nolint:errcheck // the load error is the one to report
		return nil, err
	}

	if r.budget, err = e.newBudget(ctx, run, wf, cancel); err != nil {
		r.c.close() //nolint:errcheck // the load error is the one to report
		return nil, err
	}
	r.budget.check()

	stop := make(chan struct{})
	polled := make(chan struct{})
	go r.poll(sctx, cancel, stop, polled)
	o := r.execBody(sctx, wf.Root, nil, &fence{})
	close(stop)
	<-polled
	res, err := r.finish(sctx, o)
	if cerr := r.c.close(); err == nil && cerr != nil {
		err = cerr
	}
	return res, err
}

// prepare sets the run's input (normalised against the workflow's input
// type when it fits) and indexes the workflow tree (r.pre, r.end); the
// error is the input's decoding error.
func (r *runner) prepare() error {
	var in any
	var err error
	switch {
	case r.stored != nil:
		// The first session: what a resume will decode from the stored
		// encoding, computed from the value encoded instead of decoding
		// it again (a 10 MB input was decoded through another 16 MB of
		// buffers).
		in, err = schema.RoundTrip(r.stored)
		r.stored = nil
	case len(r.run.Input) > 0:
		in, err = schema.DecodeJSON(r.run.Input)
	}
	if err != nil {
		return err
	}
	// The decoded input is what the run reads from now on: the stored
	// text is not kept beside it (a 10 MB input was held three times).
	r.run.Input = nil
	m, _ := in.(map[string]any)
	if r.wf.Input != nil {
		if nv, err := schema.Normalize(r.wf.Input, in, "input"); err == nil {
			m, _ = nv.(map[string]any)
		}
	}
	if m == nil {
		m = map[string]any{}
	}
	r.input = m
	r.pre, r.end = map[*ir.Node]int{}, map[*ir.Node]int{}
	k := 0
	var walk func(n *ir.Node)
	walk = func(n *ir.Node) {
		r.pre[n] = k
		k++
		for _, c := range n.Body() {
			walk(c)
		}
		r.end[n] = k
	}
	walk(r.wf.Root)
	return nil
}

// load reads the run's input and node states, indexes the workflow and
// abandons attempts left running by an earlier owner.
func (r *runner) load(ctx context.Context, sp sessionParams) error {
	if err := r.prepare(); err != nil {
		return fmt.Errorf("runtime: run %s: decode input: %w", r.run.ID, err)
	}

	// A run Start just created has no nodes and no attempts yet: it
	// reads nothing (a one-step run then never opens a read connection).
	rows, all, tasks, err := r.loadState(ctx, sp.startKind == EventRunStarted) // loadstate.go
	if err != nil {
		return err
	}
	runFailed := r.run.Status == store.RunFailed
	for _, row := range rows {
		n := r.wf.Lookup(row.NodeID)
		if n == nil {
			continue // a node of another version of the source (--force)
		}
		r.loadRow(n, row, runFailed)
	}
	now := r.e.now()
	fresh := sp.startKind == EventRunStarted && !sp.adopt
	u := &store.RunUpdateParams{ID: r.run.ID, Status: ptr(store.RunRunning), Error: ptr(""),
		SourceHash: ptr(r.prog.SourceHash), Now: now}
	b := &store.Batch{}
	// a run Start just created has that row already: one statement less
	// to prepare and run in a short process
	if !fresh || r.run.Status != store.RunRunning || r.run.Error != "" || r.run.SourceHash != r.prog.SourceHash {
		b.Runs = []*store.RunUpdateParams{u}
	}
	if sp.adopt {
		u.Sources = toStoreSources(sp.srcs)
		if u.Sources == nil {
			u.Sources = []*store.SourceFile{}
		}
		data := map[string]any{"from": r.run.SourceHash, "to": r.prog.SourceHash}
		if len(sp.dropped) > 0 {
			data["dropped"] = sp.dropped
		}
		b.Events = append(b.Events, r.event(EventSourceAdopted, nil, 0, data))
	}
	for _, a := range all {
		// Attempt numbers go on after the last one, even for a node reset
		// by Retry.
		if n := r.wf.Lookup(a.NodeID); n != nil {
			r.atLeastAttempts(n, a.Scope, a.Number)
		}
		if a.State != store.AttemptRunning || r.adoptTask(ctx, tasks, a) {
			continue // ended, or executing in a worker: awaited (task.go)
		}
		if r.abandoned == nil {
			r.abandoned = map[string]int{}
		}
		r.abandoned[instKey(a.NodeID, a.Scope)] = a.Number
		// What the dead owner's attempt left running (the step's process
		// group) is killed before the step runs again beside it.
		if killed := r.e.killLeftover(a); killed {
			b.Events = append(b.Events, &store.Event{RunID: r.run.ID, NodeID: a.NodeID, Scope: a.Scope, Attempt: a.Number,
				Kind: EventProcessGroupKilled, Time: now, Data: mustJSON(map[string]any{"pgid": a.PID, "owner": a.Owner})})
		}
		b.AttemptFinishes = append(b.AttemptFinishes, &store.AttemptFinishParams{RunID: a.RunID, NodeID: a.NodeID, Scope: a.Scope,
			Number: a.Number, State: store.AttemptAbandoned, Error: "abandoned by " + a.Owner, ErrorKind: ErrKindInternal, Now: now})
		b.Events = append(b.Events, &store.Event{RunID: r.run.ID, NodeID: a.NodeID, Scope: a.Scope, Attempt: a.Number,
			Kind: EventAttemptAbandoned, Time: now, Data: mustJSON(map[string]any{"owner": a.Owner})})
	}
	r.forgetOldIterations()
	data := map[string]any{"workflow": r.wf.Name, "owner": r.e.cfg.Owner.String()}
	for k, v := range sp.startData {
		data[k] = v
	}
	b.Events = append(b.Events, r.event(sp.startKind, nil, 0, data))
	if fresh {
		// A run Start just created: its row is committed already and this
		// batch only marks the session's start, which nothing outside the
		// run waits for. It goes with the first write that is waited for
		// (a step with an effect, or the run's end): a one-step run is then
		// two transactions, not three.
		r.c.write(b)
		return nil
	}
	return r.c.commit(ctx, b)
}

// poll renews the run's lease and watches the store for a cancel request
// until stop is closed.
func (r *runner) poll(ctx context.Context, cancel context.CancelCauseFunc, stop <-chan struct{}, polled chan<- struct{}) {
	defer close(polled)
	t := time.NewTicker(r.e.cfg.PollInterval)
	defer t.Stop()
	lastBeat := time.Now()
	hijackChecked := false
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		var run *store.Run
		var err error
		if time.Since(lastBeat) >= r.e.cfg.LeaseDuration/3 {
			now := r.e.now()
			run, err = r.e.cfg.Store.RunHeartbeat(ctx, &store.RunHeartbeatParams{ID: r.run.ID, Owner: r.e.cfg.Owner.String(),
				Fence: r.run.Fence, LeaseExpiresAt: now.Add(r.e.cfg.LeaseDuration), Now: now})
			lastBeat = time.Now()
			if errors.Is(err, store.ErrConflict) {
				cancel(errLeaseLost)
				return
			}
		} else {
			run, err = r.e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: r.run.ID, NoInput: true})
		}
		if err == nil && run.CancelRequested {
			if !hijackChecked {
				hijackChecked = true
				if r.takeHijack(ctx) {
					cancel(errHijacked)
				}
			}
			cancel(errCancelRequested)
		}
		if err == nil && run.PauseRequested && !r.paused.Load() {
			r.paused.Store(true)
			r.c.write(&store.Batch{Events: []*store.Event{r.event(EventPauseRequested, nil, 0, nil)}})
		}
	}
}

// finish turns the root's outcome into the run's status, records it and
// releases the run.
func (r *runner) finish(ctx context.Context, o outcome) (*Result, error) {
	res := &Result{RunID: r.run.ID}
	cause := context.Cause(ctx)
	switch {
	case o.state == store.NodeFinished:
		out, err := r.output()
		if err != nil {
			res.Status, res.Error = store.RunFailed, err.Error()
		} else {
			res.Status, res.Output = store.RunFinished, out
		}
	case errors.As(cause, new(*budgetError)):
		res.Status, res.Error = store.RunFailed, cause.Error()
	case o.fail != nil:
		res.Status, res.Error = store.RunFailed, o.fail.message()
	case errors.Is(cause, errRunTimeout):
		res.Error, res.TimedOut = fmt.Sprintf("%s%s", runTimeoutPrefix, r.timeout), true
		res.Status = store.RunFailed
		if r.wf.OnTimeout == "cancel" {
			res.Status = store.RunCancelled
		}
	case errors.Is(cause, errLeaseLost):
		return nil, fmt.Errorf("runtime: run %s: %w", r.run.ID, errLeaseLost)
	case errors.Is(cause, ErrHandBack):
		return r.handBack()
	case errors.Is(cause, errHijacked):
		r.mu.Lock()
		h := r.hijacked
		r.mu.Unlock()
		res.Status, res.Error = store.RunCancelled, hijackMessage(h)
	case ctx.Err() != nil || o.state == store.NodeCancelled:
		res.Status, res.Error = store.RunCancelled, "cancelled"
	case r.paused.Load():
		res.Status = store.RunPaused
	case o.state == store.NodeWaiting:
		res.Status = o.wait
	default:
		if err := r.c.failed(); err != nil {
			return nil, err
		}
		r.mu.Lock()
		stuck := append([]string(nil), r.stuck...)
		r.mu.Unlock()
		sort.Strings(stuck)
		res.Status = store.RunFailed
		res.Error = "the run is stuck: nothing can run and nothing waits"
		if len(stuck) > 0 {
			res.Error += "; blocked: " + strings.Join(stuck, ", ")
		}
	}
	now := r.e.now()
	u := &store.RunUpdateParams{ID: r.run.ID, IfOwner: ptr(r.e.cfg.Owner.String()), Status: ptr(res.Status), Error: ptr(res.Error),
		Owner: ptr(""), OwnerStart: ptr(""), LeaseExpiresAt: ptr(time.Time{}), Now: now}
	kind := EventRunWaiting
	switch res.Status {
	case store.RunFinished:
		raw, err := jsonMarshal(res.Output)
		if err != nil {
			return nil, err
		}
		u.Output, kind = raw, EventRunFinished
	case store.RunFailed:
		kind = EventRunFailed
	case store.RunCancelled:
		kind = EventRunCancelled
	case store.RunPaused:
		kind = EventRunPaused
	}
	if res.Status.Terminal() {
		u.FinishedAt = &now
	}
	data := map[string]any{"status": res.Status}
	if res.Error != "" {
		data["error"] = res.Error
	}
	if err := r.c.commit(context.Background(), &store.Batch{Runs: []*store.RunUpdateParams{u},
		Events: []*store.Event{r.event(kind, nil, 0, data)}}); err != nil {
		return nil, err
	}
	res.Error = r.secrets.Redact(res.Error)
	return res, nil
}

// output computes the run's result: the output expression, or what the
// last top-level node reads as; validated against the output type.
func (r *runner) output() (any, error) {
	var v any
	switch {
	case r.wf.Output != nil:
		var err error
		v, err = r.eval(r.wf.Output, nil, nil, len(r.pre)+1, nil)
		if err != nil {
			return nil, fmt.Errorf("output: %w", err)
		}
	case len(r.wf.Root.Children) > 0:
		// Only a step, approval or event has an output; a control node or
		// a timer as the last node gives no result (the checker types it
		// any), never its internal state (a for's list of items).
		last := r.wf.Root.Children[len(r.wf.Root.Children)-1]
		switch last.Kind {
		case ir.KindStep, ir.KindApproval, ir.KindEvent:
			v = r.readValue(last.ID, nil, len(r.pre)+1)
		}
	}
	if l := r.secrets.FindIn(v, "output"); l != nil {
		return nil, leakError(l, "the run's output")
	}
	if r.wf.OutputType != nil && v != nil {
		nv, err := schema.Normalize(r.wf.OutputType, v, "output")
		if err != nil {
			return nil, err
		}
		v = nv
	}
	return v, nil
}

func ptr[T any](v T) *T { return &v }

func mustJSON(v any) []byte {
	b, _ := jsonMarshal(v) // maps of strings and numbers always encode
	return b
}
