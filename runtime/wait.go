package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// waiting marks an instance waiting and returns the outcome.
func (r *runner) waiting(in *instance, kind store.RunStatus) outcome {
	// A wait re-opened by a resume (an approval that had timed out) no
	// longer carries its old error.
	now := r.e.now()
	row := r.update(in, func(row *store.Node) {
		row.State, row.Error, row.ErrorKind = store.NodeWaiting, "", ""
		if row.StartedAt.IsZero() {
			row.StartedAt = now // since when it waits
		}
	})
	r.c.write(&store.Batch{Nodes: []*store.Node{row}})
	return outcome{state: store.NodeWaiting, wait: kind}
}

// sleep waits d (at most the poll interval) or until ctx ends; false when
// ctx ended.
func (r *runner) sleep(ctx context.Context, d time.Duration) bool {
	if d > r.e.cfg.PollInterval || d <= 0 {
		d = r.e.cfg.PollInterval
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// finishWith commits a finished wait node with its output.
func (r *runner) finishWith(ctx context.Context, in *instance, v any, evs ...*store.Event) outcome {
	if l := r.secrets.FindIn(v, in.node.ID); l != nil {
		// Decision or signal data is stored as the node's output: one
		// holding a secret of the run fails the node, naming the field.
		return r.fail(in, &fence{}, leakError(l, "the "+in.node.Kind.String()+"'s output"), false)
	}
	var raw []byte
	if v != nil {
		var err error
		if raw, err = jsonMarshal(v); err != nil {
			return r.fail(in, &fence{}, &StepError{Kind: ErrKindInternal, Message: err.Error()}, false)
		}
	}
	row := r.setOutput(in, v, raw, r.e.now())
	evs = append(evs, r.event(EventNodeFinished, in, 0, nil))
	if err := r.c.commit(context.WithoutCancel(ctx), &store.Batch{Nodes: []*store.Node{row}, Events: evs}); err != nil {
		return blocked
	}
	return done
}

type timerData struct {
	Due time.Time `json:"due"`
}

// execTimer persists the due time once, then fires when it has passed.
func (r *runner) execTimer(ctx context.Context, in *instance, f *fence) outcome {
	t := in.node.Timer
	var d timerData
	if !r.data(in, &d) || d.Due.IsZero() {
		now := r.e.now()
		d.Due = now.Add(t.Duration)
		if t.Until != nil {
			v, err := r.eval(t.Until, in, in.path, r.pre[in.node], nil)
			if err != nil {
				return r.fail(in, f, AsStepError(err), false)
			}
			due, perr := parseTime(v)
			if perr != nil {
				return r.fail(in, f, &StepError{Kind: ErrKindExpr, Message: fmt.Sprintf("timer %s: until: %v", in.node.ID, perr)}, false)
			}
			d.Due = due
		}
		if err := r.setData(ctx, in, d, r.event(EventTimerScheduled, in, 0, map[string]any{"due": d.Due})); err != nil {
			return r.fail(in, f, AsStepError(err), false)
		}
	}
	for {
		now := r.e.now()
		if !now.Before(d.Due) {
			return r.finishWith(ctx, in, nil, r.event(EventTimerFired, in, 0, map[string]any{"due": d.Due}))
		}
		if r.mode == WaitNever {
			return r.waiting(in, store.RunWaitingTimer)
		}
		if f.halted() || r.paused.Load() {
			return r.waiting(in, store.RunWaitingTimer) // a failure ends the run
		}
		if r.state(in) != store.NodeWaiting {
			r.waiting(in, store.RunWaitingTimer)
		}
		if !r.sleep(ctx, d.Due.Sub(now)) {
			return r.cancelled(in, 0)
		}
	}
}

// parseTime reads a timer's until value: an RFC 3339 string or Unix
// seconds.
func parseTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case string:
		return time.Parse(time.RFC3339, x)
	case int64:
		return time.Unix(x, 0), nil
	case float64:
		return time.Unix(0, int64(x*1e9)), nil
	case time.Time:
		return x, nil
	}
	return time.Time{}, fmt.Errorf("%s is not a time (want an RFC 3339 string)", schema.Describe(v))
}

type eventData struct {
	Deadline time.Time `json:"deadline"`
}

// execEvent consumes a buffered signal, waiting for one as the wait mode
// allows; with a timeout, on_timeout decides what happens.
func (r *runner) execEvent(ctx context.Context, in *instance, f *fence) outcome {
	ev := in.node.Event
	var d eventData
	if !r.data(in, &d) && ev.Timeout > 0 {
		d.Deadline = r.e.now().Add(ev.Timeout)
		if err := r.setData(ctx, in, d, nil); err != nil {
			return r.fail(in, f, AsStepError(err), false)
		}
	}
	for {
		now := r.e.now()
		sig, err := r.e.cfg.Store.SignalConsume(context.WithoutCancel(ctx), &store.SignalConsumeParams{RunID: r.run.ID, Name: ev.Name,
			ConsumerNode: in.node.ID, ConsumerScope: in.scope, Now: now})
		if err == nil {
			v := decodeOutput(nil, sig.Data)
			if in.node.Output != nil {
				nv, verr := schema.Normalize(in.node.Output, v, in.node.ID)
				if verr != nil {
					return r.fail(in, f, &StepError{Kind: ErrKindValidation, Message: verr.Error(), Err: verr}, false)
				}
				v = nv
			}
			return r.finishWith(ctx, in, v, r.event(EventSignalReceived, in, 0, map[string]any{"name": ev.Name, "signal": sig.ID}))
		}
		if !errors.Is(err, store.ErrNotFound) {
			return r.fail(in, f, &StepError{Kind: ErrKindInternal, Message: err.Error(), Err: err}, false)
		}
		if !d.Deadline.IsZero() && !now.Before(d.Deadline) {
			switch ev.OnTimeout {
			case "skip":
				return r.skip(ctx, in, "no signal before the timeout")
			case "continue":
				return r.finishWith(ctx, in, nil)
			}
			return r.fail(in, f, &StepError{Kind: ErrKindTimeout, Message: fmt.Sprintf("event %s: no signal %q within %s", in.node.ID, ev.Name, ev.Timeout)}, false)
		}
		if r.mode != WaitAlways {
			return r.waiting(in, store.RunWaitingEvent)
		}
		if f.halted() || r.paused.Load() {
			return r.waiting(in, store.RunWaitingEvent)
		}
		if r.state(in) != store.NodeWaiting {
			r.waiting(in, store.RunWaitingEvent)
		}
		wait := r.e.cfg.PollInterval
		if !d.Deadline.IsZero() && d.Deadline.Sub(now) < wait {
			wait = d.Deadline.Sub(now)
		}
		if !r.sleep(ctx, wait) {
			return r.cancelled(in, 0)
		}
	}
}

// execApproval requests a decision once, then applies it when made.
func (r *runner) execApproval(ctx context.Context, in *instance, f *fence) outcome {
	a := in.node.Approval
	get := func() (*store.Approval, error) {
		return r.e.cfg.Store.ApprovalGet(context.WithoutCancel(ctx), &store.ApprovalGetParams{RunID: r.run.ID, NodeID: in.node.ID, Scope: in.scope})
	}
	ap, err := get()
	if errors.Is(err, store.ErrNotFound) {
		title, terr := r.render(a.Title, in, in.path, r.pre[in.node], nil, nil)
		if terr != nil {
			return r.fail(in, f, AsStepError(terr), false)
		}
		summary, serr := r.render(a.Summary, in, in.path, r.pre[in.node], nil, nil)
		if serr != nil {
			return r.fail(in, f, AsStepError(serr), false)
		}
		ap = &store.Approval{RunID: r.run.ID, NodeID: in.node.ID, Scope: in.scope, Title: title, Summary: summary, RequestedAt: r.e.now()}
		row := r.update(in, func(row *store.Node) { row.State, row.StartedAt = store.NodeWaiting, ap.RequestedAt })
		if err := r.c.commit(context.WithoutCancel(ctx), &store.Batch{Nodes: []*store.Node{row}, Approvals: []*store.Approval{ap},
			Events: []*store.Event{r.event(EventApprovalRequested, in, 0, map[string]any{"title": title, "summary": summary})}}); err != nil {
			return r.fail(in, f, AsStepError(err), false)
		}
		// Re-read: a decision may have been recorded meanwhile.
		ap, err = get()
	}
	// The timeout runs from the node's first wait, or from its fresh
	// start when a failed run is resumed (see loadRow).
	var d eventData
	if a.Timeout > 0 && err == nil && !ap.Decided && (!r.data(in, &d) || d.Deadline.IsZero()) {
		d.Deadline = r.e.now().Add(a.Timeout)
		if serr := r.setData(ctx, in, d, nil); serr != nil {
			return r.fail(in, f, AsStepError(serr), false)
		}
	}
	for {
		if err != nil {
			return r.fail(in, f, &StepError{Kind: ErrKindInternal, Message: err.Error(), Err: err}, false)
		}
		if ap.Decided {
			return r.decided(ctx, in, f, ap)
		}
		if a.Timeout > 0 && !d.Deadline.IsZero() && !r.e.now().Before(d.Deadline) {
			return r.fail(in, f, &StepError{Kind: ErrKindTimeout, Message: fmt.Sprintf("approval %s was not decided within %s", in.node.ID, a.Timeout)}, false)
		}
		if r.mode != WaitAlways {
			return r.waiting(in, store.RunWaitingApproval)
		}
		if f.halted() || r.paused.Load() {
			return r.waiting(in, store.RunWaitingApproval)
		}
		if r.state(in) != store.NodeWaiting {
			r.waiting(in, store.RunWaitingApproval)
		}
		if !r.sleep(ctx, r.e.cfg.PollInterval) {
			return r.cancelled(in, 0)
		}
		ap, err = get()
	}
}

// decided applies a decision: approved goes on; denied follows on_deny.
func (r *runner) decided(ctx context.Context, in *instance, f *fence, ap *store.Approval) outcome {
	out := map[string]any{}
	if len(ap.Data) > 0 {
		if m, ok := decodeOutput(nil, ap.Data).(map[string]any); ok {
			for k, v := range m {
				out[k] = v
			}
		}
	}
	out["approved"], out["by"], out["note"] = ap.Approved, ap.By, ap.Note
	var v any = out
	if ap.Approved && in.node.Output != nil {
		nv, err := schema.Normalize(in.node.Output, v, in.node.ID)
		if err != nil {
			return r.fail(in, f, &StepError{Kind: ErrKindValidation, Message: err.Error(), Err: err}, false)
		}
		v = nv
	}
	if ap.Approved {
		return r.finishWith(ctx, in, v)
	}
	switch in.node.Approval.OnDeny {
	case "skip":
		o := r.finishWith(ctx, in, v)
		o.skipRest = o.state == store.NodeFinished
		return o
	case "continue":
		return r.finishWith(ctx, in, v)
	}
	msg := fmt.Sprintf("denied by %s", ap.By)
	if ap.Note != "" {
		msg += ": " + ap.Note
	}
	return r.fail(in, f, &StepError{Kind: "denied", Message: msg}, false)
}
