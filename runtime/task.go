package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
)

// Step-level distribution (Config.Distribute): the session holding a
// run's lease decides everything about the run as before (readiness,
// match, loop and for decisions, approvals, timers, cancel), but an
// attempt of a step with an effect outside the run is committed as a
// task (store.TaskStore) in the same transaction as the attempt's start,
// and the session waits for its result; any worker claims the task,
// executes the action (ExecuteTask) under the task's lease and fencing
// token, and writes the result back. The session then commits the node's
// result as if the attempt had run in-process. Compute steps (pure) and
// call steps (child runs) stay in the session, and so do steps inside a
// worktree block (the worktree is on the holder's machine).

// ErrTaskLost is returned (wrapped, saying why) by ExecuteTask when the
// task's lease was lost before its result was written: the worker was
// stopped or cut off past its lease and the task was abandoned or given
// to another attempt. The result is dropped.
var ErrTaskLost = errors.New("the task's lease was lost; its result was dropped")

// maxTaskLosses bounds how many times in a row one step's attempt may be
// abandoned by the workers executing it (their leases expired) before the
// step fails: a step that kills every worker that runs it does not go on
// forever.
const maxTaskLosses = 5

// taskState is a session's side of its run's tasks.
type taskState struct {
	ts store.TaskStore

	mu      sync.Mutex
	adopted map[string]int // instance key → attempt in flight found at load
	waiters map[string]*taskWaiter
	running bool          // the watcher goroutine runs
	wake    chan struct{} // a new waiter
	gen     int64         // waiters registered so far
}

type taskWaiter struct {
	key  store.TaskKey
	num  int
	gen  int64       // when it was registered: rows read before say nothing of it
	last *store.Task // the row as last seen
	ch   chan *store.Task
}

// taskStore returns the session's task state, nil when the store has no
// tasks.
func (r *runner) taskStore() *taskState {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tasks == nil {
		ts, ok := r.e.cfg.Store.(store.TaskStore)
		if !ok {
			return nil
		}
		r.tasks = &taskState{ts: ts, adopted: map[string]int{}, waiters: map[string]*taskWaiter{}, wake: make(chan struct{}, 1)}
	}
	return r.tasks
}

// distributed reports whether the attempts of in go to workers as tasks:
// the engine distributes, or an attempt of in is in flight as a task from
// an earlier session.
func (r *runner) distributed(in *instance) *taskState {
	t := r.taskStore()
	if t == nil {
		return nil
	}
	t.mu.Lock()
	_, adopted := t.adopted[instKey(in.node.ID, in.scope)]
	t.mu.Unlock()
	if adopted {
		return t
	}
	s := in.node.Step
	if !r.e.cfg.Distribute || s.Action == "compute" || s.Action == "call" || r.dirOf(in.node, in.path) != r.dir {
		return nil
	}
	return t
}

// adoptTask decides, at load, about an attempt an earlier session left
// running: one executing (or queued, or done) as a task is awaited rather
// than abandoned. It reports whether a is adopted; a task whose worker's
// lease expired (or one queued for a session that no longer distributes)
// is abandoned, and so is a.
func (r *runner) adoptTask(ctx context.Context, tasks []*store.Task, a *store.Attempt) bool {
	t := r.taskStore()
	if t == nil {
		return false
	}
	var row *store.Task
	for _, x := range tasks {
		if x.NodeID == a.NodeID && x.Scope == a.Scope && x.Number == a.Number {
			row = x
		}
	}
	if row == nil {
		return false // an attempt that ran in its session's process
	}
	now := r.e.now()
	keep := false
	switch row.State {
	case store.TaskFinished, store.TaskFailed:
		keep = true
	case store.TaskRunning:
		keep = row.LeaseExpiresAt.After(now)
	case store.TaskQueued:
		keep = r.e.cfg.Distribute
	}
	if !keep {
		if row.State == store.TaskQueued || row.State == store.TaskRunning {
			if err := t.ts.TaskAbandon(ctx, &store.TaskAbandonParams{RunID: a.RunID, NodeID: a.NodeID, Scope: a.Scope,
				Number: a.Number, Token: row.Token, Now: now}); err != nil {
				return true // completed or renewed meanwhile: await it
			}
		}
		return false
	}
	t.mu.Lock()
	t.adopted[instKey(a.NodeID, a.Scope)] = a.Number
	t.mu.Unlock()
	return true
}

// loadTasks lists the run's tasks for adoptTask (nil without tasks).
func (r *runner) loadTasks(ctx context.Context) ([]*store.Task, error) {
	t := r.taskStore()
	if t == nil {
		return nil, nil
	}
	tasks, err := t.ts.TaskList(ctx, &store.TaskListParams{RunID: r.run.ID})
	if err != nil {
		return nil, fmt.Errorf("runtime: load run %s: %w", r.run.ID, err)
	}
	return tasks, nil
}

// taskInput is what the holder hands the executor of a task.
type taskInput struct {
	Prev *taskFailure `json:"prev,omitempty"` // the previous attempt's error
	// Continue is the session of an interrupted attempt before it (see
	// Attempt.Continue).
	Continue *ContinuedSession `json:"continue,omitempty"`
	// Nodes are the rows of the instances the step may read, as the
	// holder had them when it queued the attempt (nil: the executor
	// lists the run's nodes).
	Nodes []*store.Node `json:"nodes"`
}

// taskOutput is a finished task's result.
type taskOutput struct {
	Value   json.RawMessage  `json:"value"`
	Replies []map[string]any `json:"replies,omitempty"` // AgentReply data, for the run's budget
}

// taskFailure is a failed attempt's error, as StepError.
type taskFailure struct {
	Kind     string           `json:"kind"`
	Message  string           `json:"message"`
	ExitCode int              `json:"exit_code,omitempty"`
	Status   int              `json:"status,omitempty"`
	Output   any              `json:"output,omitempty"`
	Retry    bool             `json:"retry,omitempty"`
	Path     string           `json:"path,omitempty"`
	Replies  []map[string]any `json:"replies,omitempty"`
}

func failureOf(serr *StepError) *taskFailure {
	if serr == nil {
		return nil
	}
	return &taskFailure{Kind: serr.Kind, Message: serr.Message, ExitCode: serr.ExitCode, Status: serr.Status,
		Output: serr.Output, Retry: serr.Retry, Path: serr.Path}
}

func (f *taskFailure) stepError() *StepError {
	return &StepError{Kind: f.Kind, Message: f.Message, ExitCode: f.ExitCode, Status: f.Status, Output: f.Output,
		Retry: f.Retry, Path: f.Path}
}

// attemptTask performs an attempt of in through a task: it queues it
// (unless one is in flight from an earlier session), waits for a worker's
// result and records the attempt's end. An attempt whose worker's lease
// expires is abandoned and queued again as a new attempt.
func (r *runner) attemptTask(ctx context.Context, in *instance, t *taskState, prev error) (any, int, *StepError) {
	key := instKey(in.node.ID, in.scope)
	t.mu.Lock()
	num, adopted := t.adopted[key]
	delete(t.adopted, key)
	t.mu.Unlock()
	for losses := 0; ; {
		if !adopted {
			var err error
			if num, err = r.queueTask(ctx, in, prev); err != nil {
				return nil, num, &StepError{Kind: ErrKindInternal, Message: err.Error(), Err: err}
			}
		}
		adopted = false
		row, serr := r.awaitTask(ctx, in, t, num)
		if serr != nil {
			return nil, num, serr
		}
		if row != nil && row.Number == num {
			switch row.State {
			case store.TaskFinished:
				v, serr := r.taskValue(in, row)
				if serr != nil {
					return nil, num, r.attemptFailed(in, num, serr)
				}
				return v, num, nil
			case store.TaskFailed:
				var f taskFailure
				if err := json.Unmarshal(row.Failure, &f); err != nil || f.Kind == "" {
					f = taskFailure{Kind: ErrKindInternal, Message: "the worker's error could not be read", Retry: true}
				}
				r.account(f.Replies)
				return nil, num, r.attemptFailed(in, num, f.stepError())
			case store.TaskRunning:
				err := t.ts.TaskAbandon(context.WithoutCancel(ctx), &store.TaskAbandonParams{RunID: r.run.ID, NodeID: in.node.ID,
					Scope: in.scope, Number: num, Token: row.Token, Now: r.e.now()})
				if errors.Is(err, store.ErrConflict) {
					adopted = true // completed or renewed meanwhile: wait on
					continue
				}
				if err != nil {
					return nil, num, &StepError{Kind: ErrKindInternal, Message: err.Error(), Err: err}
				}
			}
		}
		owner, expired := "", true
		if row != nil {
			owner = row.LeaseOwner
			expired = row.Number != num || row.State != store.TaskAbandoned // else handed back by its worker
		}
		losses++
		why := fmt.Sprintf("abandoned: the lease of worker %s expired", owner)
		if !expired {
			why = fmt.Sprintf("abandoned: handed back by worker %s (stopping)", owner)
		}
		r.c.write(&store.Batch{
			AttemptFinishes: []*store.AttemptFinishParams{{RunID: r.run.ID, NodeID: in.node.ID, Scope: in.scope, Number: num,
				State: store.AttemptAbandoned, Error: why, ErrorKind: ErrKindInternal, Now: r.e.now()}},
			Events: []*store.Event{r.event(EventAttemptAbandoned, in, num, map[string]any{"owner": owner, "lease_expired": expired})},
		})
		if losses >= maxTaskLosses {
			return nil, num, &StepError{Kind: ErrKindInternal, Retry: false, Message: fmt.Sprintf(
				"attempt %d was abandoned: the workers executing the step stopped renewing their leases %d times in a row (killed, stopped or cut off); see their logs, then `smithc retry %s %s`",
				num, losses, r.run.ID, in.node.ID)}
		}
	}
}

// queueTask commits the start of the next attempt of in as a task.
func (r *runner) queueTask(ctx context.Context, in *instance, prev error) (int, error) {
	n := in.node
	now := r.e.now()
	var num int
	row := r.update(in, func(row *store.Node) { row.Attempts++; num = row.Attempts })
	ti := taskInput{Nodes: r.readRows(n), Continue: r.continued(in, num)}
	if prev != nil {
		ti.Prev = failureOf(AsStepError(prev))
	}
	input, err := json.Marshal(ti)
	if err != nil && ti.Prev != nil {
		ti.Prev.Output = nil // a partial output that does not encode
		input, err = json.Marshal(ti)
	}
	if err != nil {
		return num, fmt.Errorf("runtime: queue attempt %d of %s: %w", num, in.node.ID, err)
	}
	b := &store.Batch{
		Nodes: []*store.Node{row},
		AttemptStarts: []*store.Attempt{{RunID: r.run.ID, NodeID: n.ID, Scope: in.scope, Number: num,
			State: store.AttemptRunning, HeartbeatAt: now, StartedAt: now}},
		Events: []*store.Event{r.event(EventAttemptStarted, in, num, map[string]any{"queued": true})},
		Tasks: []*store.Task{{RunID: r.run.ID, NodeID: n.ID, Scope: in.scope, Number: num, Action: n.Step.Action,
			State: store.TaskQueued, Input: input, CreatedAt: now}},
	}
	return num, r.c.commit(context.WithoutCancel(ctx), b)
}

// awaitTask waits until the task of attempt num of in is done, lost
// (its lease expired, or it was abandoned) or the session stops. A
// session that stops because it is cancelled (or timed out) abandons the
// task, so that its worker stops it; one that hands the run back or lost
// its lease leaves it for the next session to await.
func (r *runner) awaitTask(ctx context.Context, in *instance, t *taskState, num int) (*store.Task, *StepError) {
	key := instKey(in.node.ID, in.scope)
	w := &taskWaiter{key: store.TaskKey{NodeID: in.node.ID, Scope: in.scope}, num: num, ch: make(chan *store.Task, 1)}
	t.mu.Lock()
	t.gen++
	w.gen = t.gen
	t.waiters[key] = w
	start := !t.running
	t.running = true
	t.mu.Unlock()
	if start {
		go r.watchTasks(t)
	}
	select {
	case t.wake <- struct{}{}:
	default:
	}
	select {
	case row := <-w.ch:
		return row, nil
	case <-ctx.Done():
	}
	t.mu.Lock()
	if t.waiters[key] == w {
		delete(t.waiters, key)
	}
	last := w.last
	t.mu.Unlock()
	cause := context.Cause(ctx)
	if errors.Is(cause, ErrHandBack) || errors.Is(cause, errLeaseLost) {
		return nil, &StepError{Kind: ErrKindCancelled, Message: "cancelled", Err: cause}
	}
	if last == nil || last.Number != num {
		if rows, err := t.ts.TaskList(context.WithoutCancel(ctx), &store.TaskListParams{RunID: r.run.ID,
			Only: []store.TaskKey{{NodeID: in.node.ID, Scope: in.scope}}}); err == nil {
			for _, x := range rows {
				if x.NodeID == in.node.ID && x.Scope == in.scope && x.Number == num {
					last = x
				}
			}
		}
	}
	if last != nil {
		_ = t.ts.TaskAbandon(context.WithoutCancel(ctx), &store.TaskAbandonParams{RunID: r.run.ID, NodeID: in.node.ID, Scope: in.scope,
			Number: num, Token: last.Token, Force: true, Now: r.e.now()}) // a conflict: it ended meanwhile, its result is not wanted
	}
	r.c.write(&store.Batch{AttemptFinishes: []*store.AttemptFinishParams{{RunID: r.run.ID, NodeID: in.node.ID, Scope: in.scope,
		Number: num, State: store.AttemptCancelled, Error: "cancelled", ErrorKind: ErrKindCancelled, Now: r.e.now()}}})
	return nil, &StepError{Kind: ErrKindCancelled, Message: "cancelled", Err: cause}
}

// watchTasks reads the run's tasks whenever a worker says one completed
// (Engine.TaskNotify) and every poll interval, and hands each waiter its
// task once it is done or lost. It returns when nobody waits.
func (r *runner) watchTasks(t *taskState) {
	wake := r.e.hub.subscribe(r.run.ID)
	defer r.e.hub.unsubscribe(r.run.ID, wake)
	tick := time.NewTicker(r.e.cfg.PollInterval)
	defer tick.Stop()
	for {
		t.mu.Lock()
		if len(t.waiters) == 0 {
			t.running = false
			t.mu.Unlock()
			return
		}
		gen := t.gen
		only := make([]store.TaskKey, 0, len(t.waiters))
		for _, w := range t.waiters {
			only = append(only, w.key)
		}
		t.mu.Unlock()
		rows, err := t.ts.TaskList(context.Background(), &store.TaskListParams{RunID: r.run.ID, Only: only})
		if err == nil {
			byKey := make(map[string]*store.Task, len(rows))
			for _, x := range rows {
				byKey[instKey(x.NodeID, x.Scope)] = x
			}
			now := r.e.now()
			t.mu.Lock()
			for k, w := range t.waiters {
				if w.gen > gen {
					continue // registered after the rows were read
				}
				row := byKey[k]
				if row != nil && row.Number == w.num {
					w.last = row
					if row.State == store.TaskQueued || row.State == store.TaskRunning && !row.LeaseExpiresAt.Before(now) {
						continue // under way
					}
				}
				w.ch <- row
				delete(t.waiters, k)
			}
			t.mu.Unlock()
		}
		select {
		case <-wake:
		case <-t.wake:
		case <-tick.C:
		}
	}
}

// taskValue decodes a finished task's output.
func (r *runner) taskValue(in *instance, row *store.Task) (any, *StepError) {
	var out taskOutput
	if err := json.Unmarshal(row.Output, &out); err != nil {
		return nil, &StepError{Kind: ErrKindInternal, Message: fmt.Sprintf("the worker's output could not be read: %v", err), Retry: true}
	}
	r.account(out.Replies)
	return decodeOutput(in.node.Output, out.Value), nil
}

// account adds agent replies a worker reported to the run's budget.
func (r *runner) account(replies []map[string]any) {
	for _, d := range replies {
		r.budget.account(EventAgentReply, d)
	}
}

// taskHub wakes the sessions waiting on a run's tasks when a worker
// relays a completion notice (Engine.TaskNotify).
type taskHub struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]bool
}

func (h *taskHub) subscribe(runID string) chan struct{} {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[string]map[chan struct{}]bool{}
	}
	if h.subs[runID] == nil {
		h.subs[runID] = map[chan struct{}]bool{}
	}
	h.subs[runID][ch] = true
	h.mu.Unlock()
	return ch
}

func (h *taskHub) unsubscribe(runID string, ch chan struct{}) {
	h.mu.Lock()
	delete(h.subs[runID], ch)
	if len(h.subs[runID]) == 0 {
		delete(h.subs, runID)
	}
	h.mu.Unlock()
}

// TaskNotify tells the engine that a task of a run completed (a
// store.TaskNote relayed by a worker listening for them), so that a
// session of this engine waiting on it reads it at once instead of at
// its next poll. A note with RunID "" wakes every waiting session.
func (e *Engine) TaskNotify(n store.TaskNote) {
	h := &e.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, subs := range h.subs {
		if n.RunID != "" && id != n.RunID {
			continue
		}
		for ch := range subs {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// Distributes reports whether the engine hands steps to workers as tasks
// (Config.Distribute on a store that has them).
func (e *Engine) Distributes() bool {
	_, ok := e.cfg.Store.(store.TaskStore)
	return ok && e.cfg.Distribute
}

// ExecuteTask executes a task this engine's owner claimed
// (store.TaskStore.TaskClaim): it compiles the run's program from its
// stored sources (once per source hash), reads the step's inputs from the
// store, runs the action under the task's lease (renewed every third of
// LeaseDuration), validates the output against the step's type, and
// writes the result if the task is still this owner's with its token.
// A result refused by the fencing check is dropped: the error wraps
// ErrTaskLost. When ctx ends first the task is handed back (abandoned;
// the run's holder queues a new attempt) and ctx's error is returned.
func (e *Engine) ExecuteTask(ctx context.Context, t *store.Task) error {
	ts, ok := e.cfg.Store.(store.TaskStore)
	if !ok {
		return errors.New("runtime: the store has no tasks")
	}
	owner := e.cfg.Owner.String()
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	lost := make(chan error, 1)
	stop := make(chan struct{})
	beaten := make(chan struct{})
	go func() {
		defer close(beaten)
		tick := time.NewTicker(e.cfg.LeaseDuration / 3)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			now := e.now()
			err := ts.TaskHeartbeat(context.WithoutCancel(ctx), &store.TaskHeartbeatParams{RunID: t.RunID, NodeID: t.NodeID, Scope: t.Scope,
				Number: t.Number, Owner: owner, Token: t.Token, LeaseExpiresAt: now.Add(e.cfg.LeaseDuration), Now: now})
			if errors.Is(err, store.ErrConflict) {
				lost <- err
				cancel(fmt.Errorf("%w: %v", ErrTaskLost, err))
				return
			}
		}
	}()
	var value any
	var replies []map[string]any
	r, in, serr := e.taskRunner(ctx, t)
	if serr == nil {
		value, replies, serr = r.perform(actx, in, t)
		r.c.close() //nolint:errcheck // the events of the attempt are best effort; the result is what counts
	}
	close(stop)
	<-beaten
	if ctx.Err() != nil {
		// Stopped (a draining worker): hand the task back.
		_ = ts.TaskAbandon(context.WithoutCancel(ctx), &store.TaskAbandonParams{RunID: t.RunID, NodeID: t.NodeID, Scope: t.Scope,
			Number: t.Number, Token: t.Token, Force: true, Now: e.now()}) // a conflict: it was lost anyway
		return ctx.Err()
	}
	p := &store.TaskCompleteParams{RunID: t.RunID, NodeID: t.NodeID, Scope: t.Scope, Number: t.Number, Owner: owner, Token: t.Token, Now: e.now()}
	if serr != nil {
		f := failureOf(serr)
		f.Replies = replies
		raw, err := json.Marshal(f)
		if err != nil {
			f.Output = nil
			raw, _ = json.Marshal(f)
		}
		p.State, p.Failure = store.TaskFailed, raw
	} else {
		v, err := json.Marshal(value)
		if err != nil {
			return fmt.Errorf("runtime: task %s: encode output: %w", taskName(t), err)
		}
		raw, err := json.Marshal(taskOutput{Value: v, Replies: replies})
		if err != nil {
			return fmt.Errorf("runtime: task %s: encode output: %w", taskName(t), err)
		}
		p.State, p.Output = store.TaskFinished, raw
	}
	err := ts.TaskComplete(context.WithoutCancel(ctx), p)
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("runtime: task %s: %w: %v", taskName(t), ErrTaskLost, err)
	}
	select {
	case lerr := <-lost:
		// Renewed too late but completed: cannot happen (the completion
		// checks the same token); report the lost heartbeat anyway.
		if err == nil {
			return fmt.Errorf("runtime: task %s: %w: %v", taskName(t), ErrTaskLost, lerr)
		}
	default:
	}
	if err != nil {
		return fmt.Errorf("runtime: task %s: %w", taskName(t), err)
	}
	return nil
}

// taskName names a task in messages: "run R step S [scope] attempt N".
func taskName(t *store.Task) string {
	s := fmt.Sprintf("run %s step %s", t.RunID, t.NodeID)
	if t.Scope != "" {
		s += " [" + t.Scope + "]"
	}
	return s + fmt.Sprintf(" attempt %d", t.Number)
}

// taskRunner builds a read-only view of the task's run: its program, input
// and node states, enough to evaluate the step's expressions; events the
// action logs are appended through its committer (not fenced on the run).
func (e *Engine) taskRunner(ctx context.Context, t *store.Task) (*runner, *instance, *StepError) {
	internal := func(err error) *StepError {
		return &StepError{Kind: ErrKindInternal, Retry: true, Err: err,
			Message: fmt.Sprintf("worker %s could not execute the step: %v", e.cfg.Owner, err)}
	}
	run, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: t.RunID})
	if err != nil {
		return nil, nil, internal(err)
	}
	prog, srcs, err := e.storedProgram(ctx, run)
	if err != nil {
		return nil, nil, internal(err)
	}
	wf := prog.Workflow(run.Workflow)
	if wf == nil {
		return nil, nil, internal(fmt.Errorf("the program has no workflow %q", run.Workflow))
	}
	if err := e.validate(wf); err != nil {
		return nil, nil, internal(err)
	}
	n := wf.Lookup(t.NodeID)
	if n == nil || n.Kind != ir.KindStep || n.Step == nil {
		return nil, nil, internal(fmt.Errorf("workflow %s has no step %s", wf.Name, t.NodeID))
	}
	secrets, err := e.secretsOf(prog)
	if err != nil {
		return nil, nil, internal(err)
	}
	r := &runner{e: e, run: run, prog: prog, wf: wf, srcs: srcs, dir: e.cfg.Dir, insts: map[string]*instance{}, secrets: secrets}
	r.c = newCommitter(e.cfg.Store, nil, nil, r.redactor())
	var ti taskInput
	if len(t.Input) > 0 {
		_ = json.Unmarshal(t.Input, &ti) // unreadable: the run's nodes are listed
	}
	if err := r.loadView(ctx, ti.Nodes); err != nil {
		r.c.close() //nolint:errcheck // the load error is the one to report
		return nil, nil, internal(err)
	}
	p, err := parseScope(wf, t.Scope)
	if err != nil {
		r.c.close() //nolint:errcheck // the scope error is the one to report
		return nil, nil, internal(err)
	}
	return r, r.inst(n, p), nil
}

// loadView reads the run's input and node states (as load does, without
// writing anything): rows, when not nil, else the run's nodes in the
// store.
func (r *runner) loadView(ctx context.Context, rows []*store.Node) error {
	if err := r.prepare(); err != nil {
		return fmt.Errorf("decode the input of run %s: %w", r.run.ID, err)
	}
	if rows == nil {
		var err error
		if rows, err = r.e.cfg.Store.NodeList(ctx, &store.NodeListParams{RunID: r.run.ID}); err != nil {
			return err
		}
	}
	for _, row := range rows {
		if n := r.wf.Lookup(row.NodeID); n != nil {
			r.loadRow(n, row, false)
		}
	}
	return nil
}

// parseScope reads a stored scope ("loop#2/files[3]") back into a path.
func parseScope(wf *ir.Workflow, scope string) (path, error) {
	var p path
	if scope == "" {
		return p, nil
	}
	for _, part := range strings.Split(scope, "/") {
		var id, idx string
		if strings.HasSuffix(part, "]") {
			i := strings.LastIndexByte(part, '[')
			if i < 0 {
				return nil, fmt.Errorf("bad scope %q", scope)
			}
			id, idx = part[:i], part[i+1:len(part)-1]
		} else {
			i := strings.LastIndexByte(part, '#')
			if i < 0 {
				return nil, fmt.Errorf("bad scope %q", scope)
			}
			id, idx = part[:i], part[i+1:]
		}
		n := wf.Lookup(id)
		k, err := strconv.Atoi(idx)
		if n == nil || err != nil || (n.Kind != ir.KindLoop && n.Kind != ir.KindFor) {
			return nil, fmt.Errorf("scope %q does not fit workflow %s", scope, wf.Name)
		}
		p = p.with(n, k)
	}
	return p, nil
}

// Owner returns the identity this engine claims runs and tasks under.
func (e *Engine) Owner() Owner { return e.cfg.Owner }

// LeaseDuration returns the lease of the runs and tasks this engine
// holds.
func (e *Engine) LeaseDuration() time.Duration { return e.cfg.LeaseDuration }

// readSet returns the ids of the nodes whose instances the expressions
// of step n (and of the program's agents) may read: the nodes they name,
// and the enclosing loops, fors, tries and worktrees of n and of those
// (their iteration, items, caught error and directory).
func (r *runner) readSet(n *ir.Node) map[string]bool {
	ids := map[string]bool{}
	withAncestors := func(d *ir.Node) {
		for _, a := range ancestors(d) {
			if a.ID != "" {
				ids[a.ID] = true
			}
		}
	}
	withAncestors(n)
	var visit func(x *ir.Expr)
	visit = func(x *ir.Expr) {
		if x == nil {
			return
		}
		for _, id := range x.Names {
			if !ids[id] {
				ids[id] = true
				if d := r.wf.Lookup(id); d != nil {
					withAncestors(d)
				}
			}
		}
		for _, part := range x.Template {
			visit(part.Expr)
		}
		for _, px := range x.Params {
			visit(px)
		}
	}
	s := n.Step
	for _, x := range s.Args {
		visit(x)
	}
	for _, m := range s.Maps {
		for _, x := range m {
			visit(x)
		}
	}
	visit(s.SkipIf)
	if s.Retry != nil {
		visit(s.Retry.When)
	}
	if s.Cache != nil {
		visit(s.Cache.Key)
	}
	for _, a := range r.prog.Agents {
		visit(a.Model)
		visit(a.Args)
		visit(a.Cwd)
		for _, x := range a.Env {
			visit(x)
		}
		if o := a.OpenAI; o != nil {
			visit(o.BaseURL)
			visit(o.Model)
			visit(o.APIKey)
			visit(o.System)
		}
	}
	return ids
}

// readRows copies the session's rows of the instances step n may read
// (readSet), for its task: the worker executing it reads them from the
// task instead of listing the run's nodes.
func (r *runner) readRows(n *ir.Node) []*store.Node {
	ids := r.readSet(n)
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []*store.Node{}
	for _, in := range r.insts {
		if ids[in.node.ID] && in.row.State != store.NodePending {
			row := in.row
			out = append(out, &row)
		}
	}
	return out
}
