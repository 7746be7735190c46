package runtime

import (
	"context"
	"fmt"
	"time"

	"github.com/smithc/smithc/runtime/store"
)

// AttemptView is one attempt of a node instance.
type AttemptView struct {
	NodeID, Scope string
	Number        int
	State         store.AttemptState
	Error         string
	ErrorKind     string
	// Detail is the last heartbeat's detail (what a running attempt
	// does).
	Detail     string
	StartedAt  time.Time
	FinishedAt time.Time // zero while running
}

// Attempts returns every attempt of a run, ordered by node, scope and
// number.
func (e *Engine) Attempts(ctx context.Context, runID string) ([]*AttemptView, error) {
	rows, err := e.cfg.Store.AttemptList(ctx, &store.AttemptListParams{RunID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: attempts of run %s: %w", runID, err)
	}
	out := make([]*AttemptView, len(rows))
	for i, a := range rows {
		out[i] = &AttemptView{NodeID: a.NodeID, Scope: a.Scope, Number: a.Number, State: a.State, Error: a.Error,
			ErrorKind: a.ErrorKind, Detail: a.Detail, StartedAt: a.StartedAt, FinishedAt: a.FinishedAt}
	}
	return out, nil
}

// NewRunID returns a fresh run id (time-ordered, then random), the kind
// Start generates when given none: for a caller that must know the id
// before the run starts.
func NewRunID() string { return newRunID(time.Now()) }

// Command is the one command line that moves the wait on: approve an
// approval (naming its scope when several instances wait), signal an
// event, resume anything else. Run ids, node ids and signal names need no
// quoting (they are validated); a scope is single-quoted.
func (w *Wait) Command() string {
	switch w.Kind {
	case WaitApproval:
		target := w.NodeID
		if w.Ambiguous && w.Scope != "" {
			target += " --scope '" + w.Scope + "'"
		}
		return "smithc approve " + w.RunID + " " + target
	case WaitEvent:
		name := w.Signal
		if name == "" {
			name = "NAME"
		}
		return "smithc signal " + w.RunID + " " + name + " --data '{...}'"
	}
	return "smithc resume " + w.RunID
}
