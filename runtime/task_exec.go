package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// perform runs the action of a claimed task's attempt in a worker, as
// runner.attempt does in the run's own session: the step's timeout and
// heartbeat_timeout, its output checked for secrets and validated against
// its type. It writes no attempt row (the run's holder records the
// attempt's end from the task's result); the action's log lines are
// appended to the run's events. It returns the output or the error, and
// the AgentReply data logged (for the run's budget).
func (r *runner) perform(ctx context.Context, in *instance, t *store.Task) (any, []map[string]any, *StepError) {
	n, s, p := in.node, in.node.Step, in.path
	num := t.Number
	action := r.e.cfg.Actions[s.Action]
	if action == nil {
		return nil, nil, &StepError{Kind: ErrKindInternal, Message: fmt.Sprintf("no action %q is registered in worker %s", s.Action, r.e.cfg.Owner)}
	}
	var ti taskInput
	if len(t.Input) > 0 {
		_ = json.Unmarshal(t.Input, &ti) // an unreadable input only loses the previous error
	}
	var prev error
	if ti.Prev != nil {
		prev = ti.Prev.stepError()
	}
	var mu sync.Mutex
	var replies []map[string]any
	runEnv := map[string]any{"run": map[string]any{"id": r.run.ID, "attempt": int64(num)}}
	var lastBeat time.Time
	var beat atomic.Int64
	beat.Store(time.Now().UnixNano())
	a := &Attempt{
		RunID: r.run.ID, NodeID: n.ID, Key: n.ID, Number: num,
		Node: n, Step: s, Program: r.prog, Dir: r.dirOf(n, p), PrevError: prev, Continue: ti.Continue,
		SessionFunc: func(as AgentSession) { r.reportTaskSession(ctx, in, num, as) },
		EvalFunc:    func(x *ir.Expr) (any, error) { return r.eval(x, in, p, r.pre[n], runEnv) },
		RenderFunc: func(x *ir.Expr, quote func(any) (string, error)) (string, error) {
			return r.render(x, in, p, r.pre[n], runEnv, quote)
		},
		HeartbeatFunc: func(detail string) {
			beat.Store(time.Now().UnixNano())
			now := r.e.now()
			mu.Lock()
			due := now.Sub(lastBeat) >= time.Second
			if due {
				lastBeat = now
			}
			mu.Unlock()
			if due {
				r.c.write(&store.Batch{AttemptHeartbeats: []*store.AttemptHeartbeatParams{{RunID: r.run.ID, NodeID: n.ID,
					Scope: in.scope, Number: num, Detail: detail, Now: now}}})
			}
		},
		LogFunc: func(kind string, data map[string]any) {
			r.c.write(&store.Batch{Events: []*store.Event{r.event(kind, in, num, data)}})
			if kind == EventAgentReply {
				mu.Lock()
				replies = append(replies, data)
				mu.Unlock()
			}
		},
		ProcessFunc: func(pgid int) {
			_ = r.c.commit(context.WithoutCancel(ctx), &store.Batch{AttemptHeartbeats: []*store.AttemptHeartbeatParams{{RunID: r.run.ID,
				NodeID: n.ID, Scope: in.scope, Number: num, PID: pgid, PIDStart: processStart(pgid), Now: r.e.now()}}}) // best effort: only a later kill of leftovers reads it
		},
		CallFunc: func(context.Context, string, any) (any, error) {
			return nil, &StepError{Kind: ErrKindInternal, Message: "a call step runs in its run's session, not in a worker"}
		},
		Secrets: r.secrets,
		sc:      &attemptScope{r: r, ctx: ctx, in: in, num: num},
	}
	if in.scope != "" {
		a.Key += "[" + in.scope + "]"
	}
	got := func() []map[string]any {
		mu.Lock()
		defer mu.Unlock()
		return replies
	}
	actx, cancelCause := context.WithCancelCause(ctx)
	cancel := func() { cancelCause(nil) }
	if s.Timeout > 0 {
		var c2 context.CancelFunc
		actx, c2 = context.WithTimeout(actx, s.Timeout)
		cancel = func() { c2(); cancelCause(nil) }
	}
	if s.HeartbeatTimeout > 0 {
		stop := make(chan struct{})
		defer close(stop)
		go watchHeartbeat(s.HeartbeatTimeout, &beat, cancelCause, stop)
	}
	v, err := runAction(actx, action, a)
	hbLost := errors.Is(context.Cause(actx), errHeartbeatTimeout)
	cancel()
	if err != nil {
		serr := redactError(r.secrets, AsStepError(err))
		switch {
		case ctx.Err() != nil:
			serr = &StepError{Kind: ErrKindCancelled, Message: "cancelled: " + context.Cause(ctx).Error(), Err: err}
		case hbLost:
			serr = &StepError{Kind: ErrKindTimeout, Message: fmt.Sprintf("no heartbeat within %s", s.HeartbeatTimeout), Retry: true, Err: err}
		case s.Timeout > 0 && errors.Is(actx.Err(), context.DeadlineExceeded):
			serr = &StepError{Kind: ErrKindTimeout, Message: fmt.Sprintf("timed out after %s", s.Timeout), Retry: true, Err: err, Output: serr.Output}
		}
		return nil, got(), serr
	}
	v = schema.Canonical(v)
	if l := r.secrets.FindIn(v, n.ID); l != nil {
		return nil, got(), leakError(l, "the step's output")
	}
	if n.Output != nil {
		nv, verr := schema.Normalize(n.Output, v, n.ID)
		if verr != nil {
			serr := &StepError{Kind: ErrKindValidation, Message: r.secrets.Redact(verr.Error()), Retry: true, Err: verr, Output: v}
			var ve *schema.ValidationError
			if errors.As(verr, &ve) {
				serr.Path = ve.Path
			}
			return nil, got(), serr
		}
		v = nv
	}
	return v, got(), nil
}
