package runtime

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// execStep runs a step: skip_if, cache, then attempts under the retry
// policy, each with a lease and an optional timeout. Its output is
// validated and committed before execStep returns.
func (r *runner) execStep(ctx context.Context, in *instance, f *fence) outcome {
	n, s, p := in.node, in.node.Step, in.path
	pos := r.pre[n]
	if s.SkipIf != nil {
		skip, err := r.evalBool(s.SkipIf, in, p, pos, nil)
		if err != nil {
			return r.fail(in, f, err, s.ContinueOnFail)
		}
		if skip {
			return r.skip(ctx, in, "skip_if holds")
		}
	}
	action := r.e.cfg.Actions[s.Action]
	if action == nil {
		return r.fail(in, f, &StepError{Kind: ErrKindInternal, Message: fmt.Sprintf("no action %q is registered", s.Action)}, s.ContinueOnFail)
	}
	var cacheKey string
	if s.Cache != nil && s.Cache.Key != nil {
		k, err := r.render(s.Cache.Key, in, p, pos, nil, nil)
		if err != nil {
			return r.fail(in, f, AsStepError(err), s.ContinueOnFail)
		}
		cacheKey = k
		if o, hit := r.cacheHit(ctx, in, cacheKey); hit {
			return o
		}
	}
	// A compute step holds its start back to write it with its end (see
	// heldStart); other steps queue it once they have a slot.
	var h *heldStart
	var started *store.Batch
	r.mu.Lock()
	before, beforeAt := in.row.State, in.row.StartedAt
	r.mu.Unlock()
	// unstart puts back a step that never got a slot, as if it had not
	// been reached: nothing of its start is written, and the next session
	// (a resume, the run after a pause) starts it.
	unstart := func() {
		started = nil
		if h != nil {
			h.held, h.n = false, 0
		}
		r.modify(in, func(row *store.Node) { row.State, row.StartedAt = before, beforeAt })
	}
	if s.Action == "compute" {
		h = &heldStart{}
		r.holdStart(in, h)
	} else {
		now := r.e.now()
		row := r.update(in, func(row *store.Node) {
			row.State = store.NodeRunning
			if row.StartedAt.IsZero() {
				row.StartedAt = now
			}
		})
		// The start is queued once the step has a slot to run in, so that in
		// a fan-out it lands next to its attempt's start and end (one event
		// row, one node row per element in the commit) instead of among the
		// other elements' starts; the event keeps the time the step started.
		started = &store.Batch{Nodes: []*store.Node{row}, Events: []*store.Event{r.event(EventNodeStarted, in, 0, nil)}}
	}
	writeStarted := func() {
		r.flushHeld(in, h)
		if started != nil {
			r.c.write(started)
			started = nil
		}
	}

	maxTries := 1
	if s.Retry != nil && s.Retry.Attempts > 1 {
		maxTries = s.Retry.Attempts
	}
	var prev error
	for try := 1; ; try++ {
		if r.halted(ctx, f) {
			switch {
			case ctx.Err() != nil:
				writeStarted() // a step cancelled before its first slot is on record as started first
				return r.cancelled(in, 0)
			case prev == nil:
				// A failure elsewhere (or a pause) came first: this step
				// did not start.
				unstart()
				return blocked
			case r.paused.Load():
				return blocked // a pause: the next session tries again
			}
			return r.fail(in, f, AsStepError(prev), true)
		}
		select {
		case r.sem <- struct{}{}:
		case <-ctx.Done():
			writeStarted()
			return r.cancelled(in, 0)
		}
		// A failure (or a cancel, or a pause) while this step waited
		// for its slot stops it as one before the wait would have: it
		// does not start after the node that failed.
		if r.halted(ctx, f) {
			<-r.sem
			try--
			continue
		}
		if h == nil {
			writeStarted()
		}
		v, num, serr := r.attempt(ctx, in, action, prev, h)
		<-r.sem
		if serr == nil {
			o, _ := r.succeed(ctx, in, num, v, cacheKey, h)
			return o
		}
		r.flushHeld(in, h) // written already by the attempt's failure
		if serr.Kind == ErrKindCancelled && ctx.Err() != nil {
			return r.cancelled(in, num)
		}
		var cw *childWaiting
		if errors.As(serr, &cw) {
			return r.waiting(in, cw.status)
		}
		prev = serr
		if try >= maxTries || !serr.Retry || !r.retryWanted(in, serr) {
			return r.fail(in, f, serr, s.ContinueOnFail)
		}
		d := retryDelay(s.Retry, try)
		r.c.write(&store.Batch{Events: []*store.Event{r.event(EventRetryScheduled, in, num, map[string]any{
			"delay": d.String(), "next_attempt": num + 1})}})
		if d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return r.cancelled(in, 0)
			}
		}
	}
}

// retryWanted evaluates the retry policy's when predicate over error.
func (r *runner) retryWanted(in *instance, serr *StepError) bool {
	rp := in.node.Step.Retry
	if rp == nil || rp.When == nil {
		return true
	}
	ev := &errorValue{Message: serr.Message, Kind: serr.Kind, ExitCode: serr.ExitCode}
	ok, err := r.evalBool(rp.When, in, in.path, r.pre[in.node], map[string]any{"error": ev.env()})
	return err == nil && ok
}

// retryDelay is the pause after the failed try number try (1-based).
func retryDelay(rp *ir.Retry, try int) time.Duration {
	d := rp.Delay
	switch rp.Backoff {
	case "linear":
		d *= time.Duration(try)
	case "exponential":
		for i := 1; i < try && d < 24*time.Hour; i++ {
			d *= 2
		}
	}
	if rp.MaxDelay > 0 && d > rp.MaxDelay {
		d = rp.MaxDelay
	}
	if rp.Jitter > 0 {
		d += rand.N(rp.Jitter)
	}
	return d
}

// attempt performs one attempt: it records its start (with a lease),
// runs the action with the step's timeout, and validates the output.
func (r *runner) attempt(ctx context.Context, in *instance, action Action, prev error, h *heldStart) (any, int, *StepError) {
	if t := r.distributed(in); t != nil {
		return r.attemptTask(ctx, in, t, prev) // a worker runs it (task.go)
	}
	n, s, p := in.node, in.node.Step, in.path
	now := r.e.now()
	sc := &attemptScope{r: r, ctx: ctx, in: in, h: h}
	if h != nil && h.held {
		// A compute step's first attempt: its start is held with the
		// step's (heldStart).
		r.modify(in, func(row *store.Node) { row.Attempts++; sc.num = row.Attempts })
		h.att = store.Attempt{RunID: r.run.ID, NodeID: n.ID, Scope: in.scope, Number: sc.num,
			State: store.AttemptRunning, Owner: r.e.owner, LeaseExpiresAt: now.Add(r.e.cfg.LeaseDuration),
			HeartbeatAt: now, StartedAt: now}
		h.tried = true
		r.eventInto(&h.ev[h.n], EventAttemptStarted, in, sc.num, nil)
		h.n++
	} else {
		row := r.update(in, func(row *store.Node) { row.Attempts++; sc.num = row.Attempts })
		start := &store.Batch{
			Nodes: []*store.Node{row},
			AttemptStarts: []*store.Attempt{{RunID: r.run.ID, NodeID: n.ID, Scope: in.scope, Number: sc.num,
				State: store.AttemptRunning, Owner: r.e.owner, LeaseExpiresAt: now.Add(r.e.cfg.LeaseDuration),
				HeartbeatAt: now, StartedAt: now}},
			Events: []*store.Event{r.event(EventAttemptStarted, in, sc.num, nil)},
		}
		// An attempt with side effects is on record before it begins, so a
		// crash leaves it abandoned rather than forgotten. A compute step has
		// none: its start rides with its end, in the same transaction.
		if s.Action == "compute" {
			r.c.write(start)
		} else if err := r.c.commit(context.WithoutCancel(ctx), start); err != nil {
			return nil, sc.num, &StepError{Kind: ErrKindInternal, Message: err.Error(), Err: err}
		}
	}
	num := sc.num
	sc.runEnv = r.attemptEnv(num)
	sc.beat.Store(time.Now().UnixNano())
	a := &sc.a
	*a = Attempt{
		RunID: r.run.ID, NodeID: n.ID, Number: num,
		Node: n, Step: s, Program: r.prog, Dir: r.dirOf(n, p), PrevError: prev,
		Secrets: r.secrets, sc: sc,
	}
	if s.Action != "compute" {
		// A compute step's action reaches the callbacks through the
		// methods (Eval, Log…); the Func fields cost an allocation each.
		a.EvalFunc, a.RenderFunc, a.HeartbeatFunc, a.LogFunc = sc.eval, sc.render, sc.heartbeat, sc.log
		a.ProcessFunc, a.CallFunc = sc.process, sc.call
		// Only an action with effects outside the run (an agent) has a
		// session to report or continue.
		a.Continue = r.continued(in, num)
		a.SessionFunc = func(as AgentSession) { r.reportSession(ctx, in, num, as) }
	}
	a.Key = n.ID
	if in.scope != "" {
		a.Key += "[" + in.scope + "]"
	}
	actx, cancel := ctx, func() {}
	// A compute step evaluates one expression in this goroutine: it needs
	// no context of its own to be cancelled when it returns (and 256 of
	// them in a for do not queue on the session context's lock for one).
	if s.Action != "compute" || s.Timeout > 0 || s.HeartbeatTimeout > 0 {
		var cancelCause context.CancelCauseFunc
		actx, cancelCause = context.WithCancelCause(ctx)
		cancel = func() { cancelCause(nil) }
		if s.HeartbeatTimeout > 0 {
			stop := make(chan struct{})
			defer close(stop)
			go watchHeartbeat(s.HeartbeatTimeout, &sc.beat, cancelCause, stop)
		}
	}
	if s.Timeout > 0 {
		var c2 context.CancelFunc
		actx, c2 = context.WithTimeout(actx, s.Timeout)
		outer := cancel
		cancel = func() { c2(); outer() }
	}
	v, err := runAction(actx, action, a)
	hbLost := errors.Is(context.Cause(actx), errHeartbeatTimeout)
	cancel()
	if err != nil {
		serr := redactError(r.secrets, AsStepError(err))
		switch {
		case errors.Is(context.Cause(ctx), errHijacked):
			r.mu.Lock()
			h := r.hijacked
			r.mu.Unlock()
			serr = &StepError{Kind: ErrKindCancelled, Message: hijackMessage(h), Err: err}
		case ctx.Err() != nil:
			serr = &StepError{Kind: ErrKindCancelled, Message: "cancelled", Err: err}
		case hbLost:
			serr = &StepError{Kind: ErrKindTimeout, Message: fmt.Sprintf("no heartbeat within %s", s.HeartbeatTimeout), Retry: true, Err: err}
		case s.Timeout > 0 && errors.Is(actx.Err(), context.DeadlineExceeded):
			serr = &StepError{Kind: ErrKindTimeout, Message: fmt.Sprintf("timed out after %s", s.Timeout), Retry: true, Err: err, Output: serr.Output}
		}
		kind := EventAttemptFailed
		var cw *childWaiting
		if errors.As(serr, &cw) {
			kind = EventAttemptSuspended
		}
		r.flushHeld(in, h)
		r.c.write(&store.Batch{
			AttemptFinishes: []*store.AttemptFinishParams{{RunID: r.run.ID, NodeID: n.ID, Scope: in.scope, Number: num,
				State: attemptEndState(serr), Error: serr.Error(), ErrorKind: serr.Kind, Now: r.e.now()}},
			Events: []*store.Event{r.event(kind, in, num, map[string]any{"error": serr.Error(), "kind": serr.Kind})},
		})
		return nil, num, serr
	}
	v = schema.Canonical(v)
	if l := r.secrets.FindIn(v, n.ID); l != nil {
		// Never stored, never rewritten: the step fails naming the field
		// (checked before validation, so that no message quotes it).
		r.flushHeld(in, h)
		return nil, num, r.attemptFailed(in, num, leakError(l, "the step's output"))
	}
	// An output of no declared type (a program built by hand) is
	// normalised as any: canonical, and refused if JSON cannot hold it.
	t := n.Output
	if t == nil {
		t = schema.AnyType
	}
	nv, verr := schema.Normalize(t, v, n.ID)
	if verr != nil {
		serr := &StepError{Kind: ErrKindValidation, Message: r.secrets.Redact(verr.Error()), Retry: true, Err: verr, Output: v}
		var ve *schema.ValidationError
		if errors.As(verr, &ve) {
			serr.Path = ve.Path
		}
		r.flushHeld(in, h)
		return nil, num, r.attemptFailed(in, num, serr)
	}
	return nv, num, nil
}

// attemptEnv is what an attempt's expressions read besides the rest of
// the environment: run.id and run.attempt. Made once per attempt number
// and shared (expressions only read it).
func (r *runner) attemptEnv(num int) map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.runEnvs) <= num {
		r.runEnvs = append(r.runEnvs, nil)
	}
	if r.runEnvs[num] == nil {
		r.runEnvs[num] = map[string]any{"run": map[string]any{"id": r.run.ID, "attempt": int64(num)}}
	}
	return r.runEnvs[num]
}

// attemptFailed records an attempt whose output was refused.
func (r *runner) attemptFailed(in *instance, num int, serr *StepError) *StepError {
	data := map[string]any{"error": serr.Error(), "kind": serr.Kind}
	if serr.Path != "" {
		data["path"] = serr.Path
	}
	r.c.write(&store.Batch{
		AttemptFinishes: []*store.AttemptFinishParams{{RunID: r.run.ID, NodeID: in.node.ID, Scope: in.scope, Number: num,
			State: store.AttemptFailed, Error: serr.Error(), ErrorKind: serr.Kind, Now: r.e.now()}},
		Events: []*store.Event{r.event(EventAttemptFailed, in, num, data)},
	})
	return serr
}

var errHeartbeatTimeout = errors.New("heartbeat timeout")

// watchHeartbeat cancels an attempt whose action has not sent a heartbeat
// within limit.
func watchHeartbeat(limit time.Duration, beat *atomic.Int64, cancel context.CancelCauseFunc, stop <-chan struct{}) {
	t := time.NewTicker(limit / 4)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if time.Since(time.Unix(0, beat.Load())) > limit {
				cancel(errHeartbeatTimeout)
				return
			}
		}
	}
}

// runAction runs the action, turning a panic into an attempt failure.
func runAction(ctx context.Context, action Action, a *Attempt) (v any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &StepError{Kind: ErrKindInternal, Message: fmt.Sprintf("action panicked: %v", p)}
		}
	}()
	return action.Run(ctx, a)
}

func attemptEndState(serr *StepError) store.AttemptState {
	var cw *childWaiting
	if serr.Kind == ErrKindCancelled || errors.As(serr, &cw) {
		return store.AttemptCancelled
	}
	return store.AttemptFailed
}

// succeed commits a finished attempt and the step's output (with the
// step's start when h holds it).
func (r *runner) succeed(ctx context.Context, in *instance, num int, v any, cacheKey string, h *heldStart) (outcome, bool) {
	raw, err := schema.EncodeJSON(v)
	if err != nil {
		r.flushHeld(in, h)
		return r.fail(in, &fence{}, &StepError{Kind: ErrKindInternal, Message: fmt.Sprintf("encode output: %v", err)}, in.node.Step.ContinueOnFail), false
	}
	// A compute step has no effect outside the run: its result is
	// committed with the next awaited write, before anything with an
	// effect outside the run starts (a crash recomputes it). One with a
	// cache is awaited: the cache entry, which other runs read, is
	// written after the result it holds is committed.
	queued := in.node.Step.Action == "compute" && r.e.cfg.Durability != DurabilityFull && (in.node.Step.Cache == nil || cacheKey == "")
	var now time.Time
	if h != nil && h.held && h.tried {
		if err := r.succeedHeld(ctx, in, h, num, v, raw, !queued); err != nil {
			return outcome{state: store.NodePending}, false
		}
		now = h.att.FinishedAt
	} else {
		r.flushHeld(in, h)
		now = r.e.now()
		row := r.setOutput(in, v, raw, now)
		b := &store.Batch{
			Nodes: []*store.Node{row},
			AttemptFinishes: []*store.AttemptFinishParams{{RunID: r.run.ID, NodeID: in.node.ID, Scope: in.scope, Number: num,
				State: store.AttemptFinished, Now: now}},
			Events: []*store.Event{r.event(EventNodeFinished, in, num, nil)},
		}
		if queued {
			r.c.write(b)
		} else if err := r.c.commit(context.WithoutCancel(ctx), b); err != nil {
			return outcome{state: store.NodePending}, false
		}
	}
	if c := in.node.Step.Cache; c != nil && cacheKey != "" {
		e := &store.CacheEntry{Workflow: r.wf.Name, SourceHash: r.prog.SourceHash, Key: cacheKeyHash(cacheKey), Output: raw, CreatedAt: now}
		if c.TTL > 0 {
			e.ExpiresAt = now.Add(c.TTL)
		}
		if err := r.e.cfg.Store.CachePut(context.WithoutCancel(ctx), &store.CachePutParams{Entry: e}); err != nil {
			r.c.write(&store.Batch{Events: []*store.Event{r.event("CachePutFailed", in, num, map[string]any{"error": err.Error()})}})
		}
	}
	return done, true
}

// cacheHit finishes the step from the cache when an entry exists.
func (r *runner) cacheHit(ctx context.Context, in *instance, key string) (outcome, bool) {
	c, err := r.e.cfg.Store.CacheGet(ctx, &store.CacheGetParams{Workflow: r.wf.Name, SourceHash: r.prog.SourceHash, Key: cacheKeyHash(key), Now: r.e.now()})
	if err != nil {
		return outcome{}, false
	}
	v := decodeOutput(in.node.Output, c.Output)
	if l := r.secrets.FindIn(v, in.node.ID); l != nil {
		// A cached output goes through the rule of every output: one that
		// holds a secret of this run is not used; the step runs.
		r.c.write(&store.Batch{Events: []*store.Event{r.event(EventCacheRefused, in, 0, map[string]any{"reason": l.Error()})}})
		return outcome{}, false
	}
	now := r.e.now()
	row := r.setOutput(in, v, c.Output, now)
	b := &store.Batch{Nodes: []*store.Node{row}, Events: []*store.Event{
		r.event(EventCacheHit, in, 0, map[string]any{"key": key}),
		r.event(EventNodeFinished, in, 0, map[string]any{"cached": true}),
	}}
	if err := r.c.commit(context.WithoutCancel(ctx), b); err != nil {
		return outcome{state: store.NodePending}, true
	}
	return done, true
}

// fail records a failed node. Unless cont (continue_on_fail), the failure
// propagates: the fence stops new work and the outcome carries it.
func (r *runner) fail(in *instance, f *fence, serr *StepError, cont bool) outcome {
	now := r.e.now()
	row := r.update(in, func(row *store.Node) {
		row.State, row.Error, row.ErrorKind, row.FinishedAt = store.NodeFailed, serr.Error(), serr.Kind, now
		row.Output = nil
	})
	r.mu.Lock()
	in.value = nil
	r.mu.Unlock()
	data := map[string]any{"error": serr.Error(), "kind": serr.Kind}
	if serr.Path != "" {
		data["path"] = serr.Path
	}
	if cont {
		data["continue_on_fail"] = true
	}
	fl := &failure{node: in.node.ID, kind: in.node.Kind, scope: in.scope, err: serr}
	if !cont {
		// Stop new work at once, before the failure is even committed.
		f.halt(fl)
	}
	// The commit is waited for even when the run is being cancelled.
	err := r.c.commit(context.Background(), &store.Batch{Nodes: []*store.Node{row}, Events: []*store.Event{r.event(EventNodeFailed, in, 0, data)}})
	if cont && err == nil {
		return outcome{state: store.NodeFailed}
	}
	f.halt(fl)
	return failed(fl)
}

// skip records a skipped node.
func (r *runner) skip(ctx context.Context, in *instance, why string) outcome {
	now := r.e.now()
	row := r.update(in, func(row *store.Node) { row.State, row.FinishedAt = store.NodeSkipped, now })
	if err := r.c.commit(context.WithoutCancel(ctx), &store.Batch{Nodes: []*store.Node{row},
		Events: []*store.Event{r.event(EventNodeSkipped, in, 0, map[string]any{"reason": why})}}); err != nil {
		return blocked
	}
	return skipped
}

// cancelled records a node cancelled while it ran.
func (r *runner) cancelled(in *instance, attempt int) outcome {
	now := r.e.now()
	row := r.update(in, func(row *store.Node) { row.State, row.FinishedAt = store.NodeCancelled, now })
	r.c.commit(context.Background(), &store.Batch{Nodes: []*store.Node{row}, //nolint:errcheck // a failed commit stops the session anyway
		Events: []*store.Event{r.event(EventNodeCancelled, in, attempt, nil)}})
	return outcome{state: store.NodeCancelled}
}
