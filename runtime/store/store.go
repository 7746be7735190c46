package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/smithc/smithc/schema"
)

// Store is the durable state of runs. Every method takes ctx first and
// one params struct. Methods return errors wrapping ErrNotFound or
// ErrConflict where documented. Implementations are safe for concurrent
// use by several goroutines and several processes sharing one database.
type Store interface {
	// RunCreate inserts a run; ErrConflict if the id exists.
	RunCreate(ctx context.Context, p *RunCreateParams) (*Run, error)
	// RunGetByID returns a run; ErrNotFound if absent.
	RunGetByID(ctx context.Context, p *RunGetByIDParams) (*Run, error)
	// RunList lists runs, newest first.
	RunList(ctx context.Context, p *RunListParams) ([]*Run, error)
	// RunUpdate sets the fields given; ErrNotFound if absent, ErrConflict
	// if IfOwner is set and the run's owner differs.
	RunUpdate(ctx context.Context, p *RunUpdateParams) (*Run, error)
	// RunClaim makes the caller the run's owner if the run has no owner,
	// is already owned by the caller, is owned by ExpectOwner (an owner
	// the caller found dead), or its lease expired before Now; otherwise
	// ErrConflict. Each claim increments the run's Fence (the returned run
	// has the new token). It clears CancelRequested when ClearCancel is
	// set, PauseRequested when ClearPause is.
	RunClaim(ctx context.Context, p *RunClaimParams) (*Run, error)
	// RunHeartbeat extends the lease of the run and of its running
	// attempts held by Owner, and returns the run (whose CancelRequested
	// and PauseRequested the owner polls) without its input (Input is
	// nil: an owner has it, and a long one is not read again at each
	// renewal); ErrConflict if the run is no longer Owner's, or Fence is
	// set and differs from the run's.
	RunHeartbeat(ctx context.Context, p *RunHeartbeatParams) (*Run, error)
	// RunCancelRequest sets CancelRequested.
	RunCancelRequest(ctx context.Context, p *RunCancelRequestParams) (*Run, error)
	// RunSourceList returns the files of a run's program as RunCreate or
	// the last RunUpdate with Sources stored them, main file first, with
	// their content; an empty list for a run stored without sources;
	// ErrNotFound if the run is absent. Content is never nil (an empty
	// file reads as empty), and is kept once per hash however many runs
	// share it. A SourceFile stored with Hash "" gets HashSource(Content).
	RunSourceList(ctx context.Context, p *RunSourceListParams) ([]*SourceFile, error)

	// NodeList returns a run's node instances ordered by node id, scope.
	NodeList(ctx context.Context, p *NodeListParams) ([]*Node, error)
	// NodeGet returns one node instance; ErrNotFound if absent.
	NodeGet(ctx context.Context, p *NodeGetParams) (*Node, error)
	// NodeUpsert inserts or replaces node instances.
	NodeUpsert(ctx context.Context, p *NodeUpsertParams) error
	// NodeReset deletes every instance of the given node ids (they read
	// as pending again) and their approvals; with Scope set, only the
	// instances (and approvals) whose scope is Scope or lies inside it
	// (Scope + "/..."). It returns how many node rows it deleted.
	NodeReset(ctx context.Context, p *NodeResetParams) (int, error)

	// AttemptStart inserts a running attempt; ErrConflict if it exists.
	AttemptStart(ctx context.Context, p *AttemptStartParams) error
	// AttemptHeartbeat records a heartbeat of one running attempt.
	AttemptHeartbeat(ctx context.Context, p *AttemptHeartbeatParams) error
	// AttemptFinish ends an attempt; ErrNotFound if absent.
	AttemptFinish(ctx context.Context, p *AttemptFinishParams) error
	// AttemptList returns a run's attempts ordered by node, scope, number.
	AttemptList(ctx context.Context, p *AttemptListParams) ([]*Attempt, error)

	// EventAppend appends events and sets their Seq.
	EventAppend(ctx context.Context, p *EventAppendParams) error
	// EventList returns a run's events with Seq > AfterSeq in order.
	EventList(ctx context.Context, p *EventListParams) ([]*Event, error)

	// ApprovalRequest records a pending approval; requesting one that
	// exists leaves it unchanged.
	ApprovalRequest(ctx context.Context, p *ApprovalRequestParams) error
	// ApprovalGet returns an approval; ErrNotFound if absent.
	ApprovalGet(ctx context.Context, p *ApprovalGetParams) (*Approval, error)
	// ApprovalList returns a run's approvals.
	ApprovalList(ctx context.Context, p *ApprovalListParams) ([]*Approval, error)
	// ApprovalDecide records a decision on the pending approval of
	// NodeID (with Scope "", the oldest pending one of that node);
	// ErrNotFound if none is pending and none was decided, ErrConflict
	// if it was already decided.
	ApprovalDecide(ctx context.Context, p *ApprovalDecideParams) (*Approval, error)

	// SignalSend buffers a signal for a run.
	SignalSend(ctx context.Context, p *SignalSendParams) (*Signal, error)
	// SignalConsume hands the oldest unconsumed signal of that name to a
	// consumer node instance and marks it consumed. It is idempotent: a
	// consumer asking again gets the signal it already consumed.
	// ErrNotFound if none is buffered.
	SignalConsume(ctx context.Context, p *SignalConsumeParams) (*Signal, error)
	// SignalList returns a run's signals in sending order.
	SignalList(ctx context.Context, p *SignalListParams) ([]*Signal, error)

	// CacheGet returns an unexpired entry; ErrNotFound otherwise.
	CacheGet(ctx context.Context, p *CacheGetParams) (*CacheEntry, error)
	// CachePut inserts or replaces an entry.
	CachePut(ctx context.Context, p *CachePutParams) error

	// BatchCommit applies every write of the batch in one transaction, in
	// the order: run updates, nodes, attempt starts, attempt heartbeats,
	// attempt finishes, approvals, events (whose Seq it sets), tasks
	// (stores implementing TaskStore; others refuse them). With Fence
	// set it first checks, in the same transaction, that the run is still
	// owned by Fence.Owner with token Fence.Token; otherwise ErrConflict
	// and nothing is applied.
	BatchCommit(ctx context.Context, b *Batch) error

	// TypeViewsEnsure (re)creates one SQL view per named type, named like
	// the type, with columns run_id, node_id, scope, iteration and one
	// column per top-level field, over finished nodes whose OutputType is
	// that name.
	TypeViewsEnsure(ctx context.Context, p *TypeViewsEnsureParams) error

	// Close releases the store's resources.
	Close() error
}

// RunCreateParams are the arguments of RunCreate.
type RunCreateParams struct {
	Run *Run // CreatedAt and UpdatedAt are set from Now when zero
	// Sources are the files of the run's program, main file first, stored
	// in the same transaction (see RunSourceList); nil: none.
	Sources []*SourceFile
	Now     time.Time
}

// RunSourceListParams are the arguments of RunSourceList.
type RunSourceListParams struct{ RunID string }

// RunGetByIDParams are the arguments of RunGetByID.
type RunGetByIDParams struct {
	ID string
	// NoInput leaves the returned run's Input nil instead of reading it:
	// a live run polls its row four times a second for a cancel or a
	// pause, and an input of megabytes read each time cost a quarter of
	// a core.
	NoInput bool
}

// RunListParams are the arguments of RunList.
type RunListParams struct {
	Statuses    []RunStatus // empty: all
	Workflow    string      // "": all
	ParentRunID string      // "": any
	Limit       int         // 0: no limit
	// NoInput leaves each run's Input nil instead of reading it (a
	// worker's scan, a list of child runs by id).
	NoInput bool
	// FreeAt, when set, keeps only the runs no process holds at that
	// time: no owner, or a lease that expired before it.
	FreeAt time.Time
	// Oldest lists the oldest runs first (default: the newest first).
	Oldest bool
}

// RunUpdateParams are the arguments of RunUpdate; nil fields are left
// unchanged.
type RunUpdateParams struct {
	ID              string
	IfOwner         *string // when set, update only if the owner is this
	Status          *RunStatus
	Output          json.RawMessage // nil: unchanged
	Error           *string
	Owner           *string
	OwnerStart      *string
	LeaseExpiresAt  *time.Time
	CancelRequested *bool
	PauseRequested  *bool
	SourceHash      *string
	// Sources, when not nil, replace the files of the run's program (a
	// run adopting an edited source), in the same transaction.
	Sources    []*SourceFile
	FinishedAt *time.Time
	Now        time.Time
}

// RunClaimParams are the arguments of RunClaim.
type RunClaimParams struct {
	ID             string
	Owner          string
	OwnerStart     string
	ExpectOwner    string // a stale owner the caller may take over
	LeaseExpiresAt time.Time
	ClearCancel    bool
	ClearPause     bool
	Now            time.Time
}

// RunHeartbeatParams are the arguments of RunHeartbeat.
type RunHeartbeatParams struct {
	ID             string
	Owner          string
	Fence          int64 // 0: not checked
	LeaseExpiresAt time.Time
	Now            time.Time
}

// RunCancelRequestParams are the arguments of RunCancelRequest.
type RunCancelRequestParams struct {
	ID  string
	Now time.Time
}

// NodeListParams are the arguments of NodeList.
type NodeListParams struct {
	RunID string
	// NoOutput leaves every node's Output nil (the rest as stored): a
	// listing for states, counts and paging, which reads the outputs of
	// only the nodes it shows (NodeGet).
	NoOutput bool
	// Brief reads each node's RunID, NodeID, Scope, Iteration, Kind,
	// State and Attempts only (the rest zero): a listing of a large run
	// for its counts and the choice of a page, cheaper by the columns it
	// leaves out.
	Brief bool
	// States and Kinds, when not empty, list only the nodes in one of
	// those states and of one of those kinds (the waiting nodes of a run
	// of 10⁵ finished ones, say).
	States []NodeState
	Kinds  []string
}

// NodeGetParams are the arguments of NodeGet.
type NodeGetParams struct{ RunID, NodeID, Scope string }

// NodeUpsertParams are the arguments of NodeUpsert.
type NodeUpsertParams struct{ Nodes []*Node }

// NodeResetParams are the arguments of NodeReset.
type NodeResetParams struct {
	RunID   string
	NodeIDs []string
	Scope   string // "": every instance
}

// AttemptStartParams are the arguments of AttemptStart.
type AttemptStartParams struct{ Attempt *Attempt }

// AttemptHeartbeatParams are the arguments of AttemptHeartbeat. A
// heartbeat with PID set also records the attempt's process group.
type AttemptHeartbeatParams struct {
	RunID, NodeID, Scope string
	Number               int
	Detail               string
	PID                  int    // 0: unchanged
	PIDStart             string // with PID
	LeaseExpiresAt       time.Time
	Now                  time.Time
}

// AttemptFinishParams are the arguments of AttemptFinish.
type AttemptFinishParams struct {
	RunID, NodeID, Scope string
	Number               int
	State                AttemptState
	Error                string
	ErrorKind            string
	Now                  time.Time
}

// AttemptListParams are the arguments of AttemptList.
type AttemptListParams struct {
	RunID string
	State AttemptState // "": all
}

// EventAppendParams are the arguments of EventAppend.
type EventAppendParams struct{ Events []*Event }

// IndexedEventKind is the one event kind both stores index apart from
// the rest of a run's log (a partial index of its rows, always one event
// a row), so that EventList with this Kind reads those rows only: a run's
// agent usage without a scan of its 10⁵ compute steps' events. It is the
// runtime's AgentReply, which always carries its accounting as data.
const IndexedEventKind = "AgentReply"

// EventListParams are the arguments of EventList.
type EventListParams struct {
	RunID    string
	AfterSeq int64
	Limit    int    // 0: no limit
	Kind     string // only events of this kind ("": all)
}

// ApprovalRequestParams are the arguments of ApprovalRequest.
type ApprovalRequestParams struct{ Approval *Approval }

// ApprovalGetParams are the arguments of ApprovalGet.
type ApprovalGetParams struct{ RunID, NodeID, Scope string }

// ApprovalListParams are the arguments of ApprovalList.
type ApprovalListParams struct{ RunID string }

// ApprovalDecideParams are the arguments of ApprovalDecide.
type ApprovalDecideParams struct {
	RunID, NodeID string
	Scope         string // "": the oldest pending instance of NodeID
	Approved      bool
	By, Note      string
	Data          json.RawMessage
	Now           time.Time
}

// SignalSendParams are the arguments of SignalSend.
type SignalSendParams struct {
	RunID, Name string
	Data        json.RawMessage
	Now         time.Time
}

// SignalConsumeParams are the arguments of SignalConsume.
type SignalConsumeParams struct {
	RunID, Name                 string
	ConsumerNode, ConsumerScope string
	Now                         time.Time
}

// SignalListParams are the arguments of SignalList.
type SignalListParams struct{ RunID string }

// CacheGetParams are the arguments of CacheGet.
type CacheGetParams struct {
	Workflow, SourceHash, Key string
	Now                       time.Time
}

// CachePutParams are the arguments of CachePut.
type CachePutParams struct{ Entry *CacheEntry }

// TypeViewsEnsureParams are the arguments of TypeViewsEnsure.
type TypeViewsEnsureParams struct{ Types []*schema.Type }

// Batch is a set of writes committed in one transaction (see
// Store.BatchCommit).
type Batch struct {
	// Fence, when set, makes the batch conditional on the run's owner
	// and fencing token (see Store.BatchCommit).
	Fence             *Fence
	Runs              []*RunUpdateParams // applied in order
	Nodes             []*Node
	AttemptStarts     []*Attempt
	AttemptHeartbeats []*AttemptHeartbeatParams
	AttemptFinishes   []*AttemptFinishParams
	Approvals         []*Approval // requests
	Events            []*Event
	// Tasks queue attempts for any worker (see TaskStore), after the
	// attempt starts; only stores implementing TaskStore take them.
	Tasks []*Task
}

// Fence names the owner and fencing token a batch's writes require.
type Fence struct {
	RunID string
	Owner string
	Token int64
}

// Empty reports whether the batch holds no write.
func (b *Batch) Empty() bool {
	return len(b.Runs) == 0 && len(b.Nodes) == 0 && len(b.AttemptStarts) == 0 &&
		len(b.AttemptHeartbeats) == 0 && len(b.AttemptFinishes) == 0 &&
		len(b.Approvals) == 0 && len(b.Events) == 0 && len(b.Tasks) == 0
}

// Merge appends o's writes to b, keeping their order (and b's Fence,
// or o's when b has none).
func (b *Batch) Merge(o *Batch) {
	if b.Fence == nil {
		b.Fence = o.Fence
	}
	b.Runs = append(b.Runs, o.Runs...)
	b.Nodes = append(b.Nodes, o.Nodes...)
	b.AttemptStarts = append(b.AttemptStarts, o.AttemptStarts...)
	b.AttemptHeartbeats = append(b.AttemptHeartbeats, o.AttemptHeartbeats...)
	b.AttemptFinishes = append(b.AttemptFinishes, o.AttemptFinishes...)
	b.Approvals = append(b.Approvals, o.Approvals...)
	b.Events = append(b.Events, o.Events...)
	b.Tasks = append(b.Tasks, o.Tasks...)
}
