package cli

import (
	"context"
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
		evs, err := eng.PendingEvents(ctx, r.RunID)
		if err != nil {
			continue
		}
		due := false
		for _, ev := range evs {
			due = due || ev.Buffered || ev.Due
		}
		if !due {
			continue
		}
		next, err := eng.Resume(ctx, r.RunID, runtime.ResumeParams{Wait: runtime.WaitAuto})
		if errors.Is(err, runtime.ErrRunLive) {
			continue // another process resumed it first; the next poll sees it
		}
		return next, err
	}
}
