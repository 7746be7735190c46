package runtime

import (
	"context"
	"errors"
	"time"

	"github.com/smithc/smithc/runtime/store"
)

// ErrHandBack is a cancel cause: cancelling a session's context with it
// (context.WithCancelCause) hands the run back instead of cancelling it:
// attempts in flight are stopped (they are retried later, counting as
// attempts), the run stays running with no owner, and any worker or
// `smithc resume` continues it. A draining worker uses it.
var ErrHandBack = errors.New("the run was handed back")

// EventRunReleased is logged when a session hands its run back.
const EventRunReleased = "RunReleased"

// handBack releases the run: status running, no owner, no lease.
func (r *runner) handBack() (*Result, error) {
	now := r.e.now()
	u := &store.RunUpdateParams{ID: r.run.ID, IfOwner: ptr(r.e.cfg.Owner.String()), Status: ptr(store.RunRunning),
		Owner: ptr(""), OwnerStart: ptr(""), LeaseExpiresAt: ptr(time.Time{}), Now: now}
	ev := r.event(EventRunReleased, nil, 0, map[string]any{"owner": r.e.cfg.Owner.String()})
	if err := r.c.commit(context.Background(), &store.Batch{Runs: []*store.RunUpdateParams{u}, Events: []*store.Event{ev}}); err != nil {
		return nil, err
	}
	return &Result{RunID: r.run.ID, Status: store.RunRunning}, nil
}
