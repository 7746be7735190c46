package cli

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

// awaitPoll is how often a person's terminal session looks for the
// signal its run waits for.
const awaitPoll = 250 * time.Millisecond

// awaitEvent stays with a run that waits for an event while a person
// watches at a terminal (wait mode auto): it polls the store and resumes
// the run once a signal the waiting events take has been sent (smithc
// signal --no-continue, or a signal sent before they waited), or an
// event's deadline has passed. When another process moves the run on
// (smithc signal continues it), it returns the run as that left it. On
// ctx's end (Ctrl-C) it returns the run still waiting.
func (s *session) awaitEvent(ctx context.Context, eng *runtime.Engine, r *runtime.Result) (*runtime.Result, error) {
	st := eng.Store()
	wf := runWorkflow(ctx, eng, r.RunID)
	t := time.NewTicker(awaitPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return r, nil
		case <-t.C:
		}
		owner, fresh := liveOwner(ctx, eng, r.RunID)
		if fresh == nil {
			continue // a busy store: try again
		}
		if owner != "" || fresh.Status != store.RunWaitingEvent {
			return fresh, nil
		}
		due, err := eventDue(ctx, st, r.RunID, func(nodeID string) string {
			if n := lookup(wf, nodeID); n != nil && n.Event != nil {
				return n.Event.Name
			}
			return ""
		})
		if err != nil || !due {
			continue
		}
		next, err := eng.Resume(ctx, r.RunID, runtime.ResumeParams{Wait: runtime.WaitAuto})
		if errors.Is(err, runtime.ErrRunLive) {
			continue // another process resumed it first; the next poll sees it
		}
		return next, err
	}
}

// eventDue reports whether a waiting event of the run can go on: a
// signal it takes is waiting to be consumed, or its deadline passed.
// nameOf gives a node's signal name ("" when unknown).
func eventDue(ctx context.Context, st store.Store, runID string, nameOf func(nodeID string) string) (bool, error) {
	nodes, err := st.NodeList(ctx, &store.NodeListParams{RunID: runID})
	if err != nil {
		return false, err
	}
	names := map[string]bool{}
	for _, n := range nodes {
		if n.Kind != "event" || n.State != store.NodeWaiting {
			continue
		}
		var d struct {
			Deadline time.Time `json:"deadline"`
		}
		_ = json.Unmarshal(n.Data, &d) // no data: no deadline
		if !d.Deadline.IsZero() && !time.Now().Before(d.Deadline) {
			return true, nil
		}
		if name := nameOf(n.NodeID); name != "" {
			names[name] = true
		}
	}
	sigs, err := st.SignalList(ctx, &store.SignalListParams{RunID: runID})
	if err != nil {
		return false, err
	}
	for _, sg := range sigs {
		if !sg.Consumed && names[sg.Name] {
			return true, nil
		}
	}
	return false, nil
}
