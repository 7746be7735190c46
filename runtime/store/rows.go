package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"
)

// Sentinel errors callers branch on. Implementations wrap them with
// context; test with errors.Is.
var (
	// ErrNotFound: the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the row exists but is not in the state the operation
	// needs (a run owned by another live process, an approval already
	// decided, a row that already exists).
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: the store could not do the operation for a reason
	// outside the run (the disk is full, a file size limit, an I/O error,
	// the database locked by another process for longer than the store
	// waits, a database written by a newer smithc). Nothing of the failed
	// operation was recorded; the run is left as it was, resumable.
	ErrUnavailable = errors.New("store unavailable")
)

// RunStatus is the status of a run.
type RunStatus string

// Run statuses (LANGUAGE.md §9).
const (
	RunRunning         RunStatus = "running"
	RunWaitingApproval RunStatus = "waiting-approval"
	RunWaitingEvent    RunStatus = "waiting-event"
	RunWaitingTimer    RunStatus = "waiting-timer"
	RunFinished        RunStatus = "finished"
	RunFailed          RunStatus = "failed"
	RunCancelled       RunStatus = "cancelled"
	// RunPaused: smithc pause stopped the scheduling of new attempts (the
	// running ones finished and were persisted); resume continues it.
	RunPaused RunStatus = "paused"
)

// Terminal reports whether the status is finished, failed or cancelled.
func (s RunStatus) Terminal() bool {
	return s == RunFinished || s == RunFailed || s == RunCancelled
}

// Waiting reports whether the status is one of the waiting-* statuses.
func (s RunStatus) Waiting() bool {
	return s == RunWaitingApproval || s == RunWaitingEvent || s == RunWaitingTimer
}

// NodeState is the state of a node instance.
type NodeState string

// Node states (LANGUAGE.md §9).
const (
	NodePending   NodeState = "pending"
	NodeRunning   NodeState = "running"
	NodeWaiting   NodeState = "waiting"
	NodeFinished  NodeState = "finished"
	NodeFailed    NodeState = "failed"
	NodeSkipped   NodeState = "skipped"
	NodeCancelled NodeState = "cancelled"
)

// Terminal reports whether the state is finished, failed or skipped.
// Cancelled is not terminal: a resumed run runs the node again.
func (s NodeState) Terminal() bool {
	return s == NodeFinished || s == NodeFailed || s == NodeSkipped
}

// AttemptState is the state of one attempt of a step.
type AttemptState string

// Attempt states. An abandoned attempt was left running by a process that
// died or lost its lease.
const (
	AttemptRunning   AttemptState = "running"
	AttemptFinished  AttemptState = "finished"
	AttemptFailed    AttemptState = "failed"
	AttemptCancelled AttemptState = "cancelled"
	AttemptAbandoned AttemptState = "abandoned"
)

// Run is one execution of a workflow.
type Run struct {
	ID          string
	Workflow    string
	ParentRunID string // set for the child run of a call step
	ParentNode  string
	SourcePath  string
	SourceHash  string
	Input       json.RawMessage
	Status      RunStatus
	Output      json.RawMessage // null until finished
	Error       string

	// Owner is "pid@host" of the process executing the run, "" when none;
	// OwnerStart identifies that process's start (so a reused pid is not
	// mistaken for the owner). LeaseExpiresAt is renewed by heartbeats.
	Owner           string
	OwnerStart      string
	LeaseExpiresAt  time.Time
	CancelRequested bool
	// PauseRequested asks the owner to stop scheduling new attempts and
	// end the session paused.
	PauseRequested bool
	// Fence is the fencing token: RunClaim increments it, and an owner's
	// writes (Batch.Fence, RunHeartbeatParams.Fence) check it.
	Fence int64

	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt time.Time // zero until terminal
}

// SourceFile is one file of a run's program. Stores keep Content once
// per Hash (content addressing): runs of one program share it.
type SourceFile struct {
	// Path names the file as the compiler read it; imports are resolved
	// relative to it, so the set of a run's paths compiles on its own.
	Path string
	// Hash is the hex SHA-256 of Content (see HashSource).
	Hash    string
	Content []byte
}

// HashSource returns the hex SHA-256 of content, the Hash of a SourceFile.
func HashSource(content []byte) string {
	h := sha256.Sum256(content)
	return hex.EncodeToString(h[:])
}

// Node is the persisted state of one node instance.
type Node struct {
	RunID     string
	NodeID    string
	Scope     string // enclosing for/loop path; see the package doc
	Iteration int    // innermost enclosing loop iteration
	Kind      string // "step", "loop", ...
	State     NodeState
	Attempts  int             // attempts started so far
	Output    json.RawMessage // what the node reads as; null if none
	// OutputType is the declared name of the output's type ("Analysis"),
	// "" for inline types; type views select on it.
	OutputType string
	Error      string
	ErrorKind  string
	// Data holds control data as JSON: a match's chosen arm, a for's
	// evaluated list, a loop's iteration count, a timer's due time.
	Data       json.RawMessage
	StartedAt  time.Time
	FinishedAt time.Time
	UpdatedAt  time.Time
}

// Attempt is one try of a step.
type Attempt struct {
	RunID          string
	NodeID         string
	Scope          string
	Number         int // 1-based, increasing across resumes
	State          AttemptState
	Owner          string
	LeaseExpiresAt time.Time
	HeartbeatAt    time.Time
	Detail         string // last heartbeat detail
	// PID and PIDStart identify the process group the attempt started
	// (its leader's pid and kernel start time), 0 and "" when none was
	// reported; a resume after the owner died kills that group.
	PID        int
	PIDStart   string
	Error      string
	ErrorKind  string
	StartedAt  time.Time
	FinishedAt time.Time
}

// Event is one entry of a run's append-only event log. Seq is assigned by
// the store, increasing in commit order across all runs.
type Event struct {
	Seq       int64
	RunID     string
	NodeID    string
	Scope     string
	Iteration int
	Attempt   int
	Kind      string
	Time      time.Time
	Data      json.RawMessage
}

// Approval is a request for a person's decision and, once made, the
// decision.
type Approval struct {
	RunID       string
	NodeID      string
	Scope       string
	Title       string
	Summary     string
	RequestedAt time.Time
	Decided     bool
	Approved    bool
	By          string
	Note        string
	Data        json.RawMessage // extra output fields given by the approver
	DecidedAt   time.Time
}

// Signal is an external event sent to a run, buffered until an event node
// consumes it.
type Signal struct {
	ID            int64
	RunID         string
	Name          string
	Data          json.RawMessage
	SentAt        time.Time
	Consumed      bool
	ConsumerNode  string
	ConsumerScope string
	ConsumedAt    time.Time
}

// CacheEntry is a step output reused across runs of the same workflow
// source with the same key.
type CacheEntry struct {
	Workflow   string
	SourceHash string
	Key        string
	Output     json.RawMessage
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never
}
