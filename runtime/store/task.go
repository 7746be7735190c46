package store

import (
	"context"
	"encoding/json"
	"time"
)

// TaskStore is implemented by stores that can hand a run's attempts to
// other processes (step-level distribution): the process holding a run's
// lease commits an attempt as a task row (Batch.Tasks, in the same
// transaction as the attempt's start), any worker claims ready tasks,
// executes them under a per-task lease and writes the result back, and
// the holder commits the node's result. Every heartbeat and completion
// checks the task's lease owner and fencing token, so a worker that was
// stopped or cut off past its lease cannot overwrite a newer attempt.
//
// A task row is kept per node instance (RunID, NodeID, Scope): queuing
// the instance's next attempt replaces the row and keeps its Token, which
// only ever grows.
type TaskStore interface {
	// TaskClaim claims up to Limit queued tasks, oldest first, skipping
	// rows other claimers are locking (FOR UPDATE SKIP LOCKED): each
	// becomes running, with LeaseOwner = Owner, LeaseExpiresAt and
	// Token + 1; the attempt it executes gets Owner as its owner and the
	// same lease. It returns the claimed tasks with their new tokens.
	// With RunIDs set, only tasks of those runs are claimed.
	TaskClaim(ctx context.Context, p *TaskClaimParams) ([]*Task, error)
	// TaskHeartbeat extends the lease of a running task of attempt
	// Number held by Owner with Token (and the lease of its attempt);
	// ErrConflict otherwise.
	TaskHeartbeat(ctx context.Context, p *TaskHeartbeatParams) error
	// TaskComplete records the result of a running task of attempt
	// Number held by Owner with Token: State finished (Output) or failed
	// (Failure), and
	// notifies the run's holder; ErrConflict (nothing written) when the
	// task is no longer Owner's with that token.
	TaskComplete(ctx context.Context, p *TaskCompleteParams) error
	// TaskAbandon marks abandoned the task of an instance if it still is
	// attempt Number with Token and is queued, or running with its lease
	// expired before Now, or (Force) running at all; ErrConflict
	// otherwise (it was completed, renewed or claimed again). Reaping a
	// dead worker's task, cancelling one and handing one back use it.
	TaskAbandon(ctx context.Context, p *TaskAbandonParams) error
	// TaskList returns a run's tasks ordered by node id, scope.
	TaskList(ctx context.Context, p *TaskListParams) ([]*Task, error)
	// TaskQueued counts the queued tasks of all runs.
	TaskQueued(ctx context.Context) (int, error)
}

// TaskState is the state of a task row.
type TaskState string

// Task states.
const (
	TaskQueued    TaskState = "queued"    // waiting for a worker
	TaskRunning   TaskState = "running"   // claimed, under a lease
	TaskFinished  TaskState = "finished"  // Output holds the attempt's output
	TaskFailed    TaskState = "failed"    // Failure holds why
	TaskAbandoned TaskState = "abandoned" // its lease expired (reaped)
)

// Done reports whether the task holds a result (finished or failed).
func (s TaskState) Done() bool { return s == TaskFinished || s == TaskFailed }

// Task is one attempt of a step offered to any worker.
type Task struct {
	RunID, NodeID, Scope string
	Number               int    // the attempt it executes
	Action               string // the step's action, for metrics and logs
	State                TaskState
	// Input is what the holder hands the executor (the previous
	// attempt's error); opaque to the store.
	Input          json.RawMessage
	LeaseOwner     string
	LeaseExpiresAt time.Time
	Token          int64 // fencing token, incremented at each claim
	// Output (finished) or Failure (failed): the result, opaque to the
	// store.
	Output     json.RawMessage
	Failure    json.RawMessage
	CreatedAt  time.Time
	ClaimedAt  time.Time
	FinishedAt time.Time
}

// TaskClaimParams are the arguments of TaskClaim.
type TaskClaimParams struct {
	Owner          string
	Limit          int
	RunIDs         []string // when set, only tasks of these runs
	LeaseExpiresAt time.Time
	Now            time.Time
}

// TaskHeartbeatParams are the arguments of TaskHeartbeat.
type TaskHeartbeatParams struct {
	RunID, NodeID, Scope string
	Number               int // the attempt the caller executes
	Owner                string
	Token                int64
	LeaseExpiresAt       time.Time
	Now                  time.Time
}

// TaskCompleteParams are the arguments of TaskComplete.
type TaskCompleteParams struct {
	RunID, NodeID, Scope string
	Number               int // the attempt the caller executed
	Owner                string
	Token                int64
	State                TaskState // finished or failed
	Output               json.RawMessage
	Failure              json.RawMessage
	Now                  time.Time
}

// TaskAbandonParams are the arguments of TaskAbandon.
type TaskAbandonParams struct {
	RunID, NodeID, Scope string
	Number               int
	Token                int64
	Force                bool // a running task even with its lease valid
	Now                  time.Time
}

// TaskListParams are the arguments of TaskList.
type TaskListParams struct {
	RunID string
	// Only, when set, limits the list to these node instances (a
	// session reads only the tasks it waits on).
	Only []TaskKey
}

// TaskKey names the task of one node instance.
type TaskKey struct{ NodeID, Scope string }

// TaskNotifier is implemented by task stores that tell waiting processes
// when a task is queued or completed (PostgreSQL's LISTEN/NOTIFY).
// Callers still poll: a notification may be lost.
type TaskNotifier interface {
	// TaskNotifications delivers notes until ctx ends; a note with RunID
	// "" means that anything may have changed (the connection was
	// re-established).
	TaskNotifications(ctx context.Context) (<-chan TaskNote, error)
}

// TaskNote says that a task of a run was queued (Done false) or
// completed (Done true).
type TaskNote struct {
	RunID string
	Done  bool
}
