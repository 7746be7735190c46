package serve

import (
	"time"
)

// The JSON shapes of the API (docs/api.md). They are the server's own,
// filled from the runtime's read model, so the API stays stable while the
// runtime's Go types change.

// runJSON is one run, as listed.
type runJSON struct {
	ID          string        `json:"id"`
	Workflow    string        `json:"workflow"`
	Status      string        `json:"status"`
	ParentRunID string        `json:"parent_run_id,omitempty"`
	ParentNode  string        `json:"parent_node,omitempty"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
	FinishedAt  *time.Time    `json:"finished_at,omitempty"`
	ElapsedMS   int64         `json:"elapsed_ms"`
	Error       string        `json:"error,omitempty"`
	Waiting     []waitingJSON `json:"waiting,omitempty"`
	Tokens      int64         `json:"tokens,omitempty"`
	CostUSD     float64       `json:"cost_usd,omitempty"`
}

// version changes whenever what the list shows of the run changes.
func (r *runJSON) version() string {
	return r.Status + "|" + r.UpdatedAt.Format(time.RFC3339Nano) + "|" + r.Error
}

// waitingJSON is one thing a run waits on.
type waitingJSON struct {
	Node       string      `json:"node"`
	Scope      string      `json:"scope,omitempty"`
	Kind       string      `json:"kind"` // approval, event, timer
	Title      string      `json:"title,omitempty"`
	Signal     string      `json:"signal,omitempty"`
	Since      *time.Time  `json:"since,omitempty"`
	Deadline   *time.Time  `json:"deadline,omitempty"`
	Command    string      `json:"command,omitempty"`
	ChildRunID string      `json:"child_run_id,omitempty"`
	Fields     []fieldJSON `json:"fields,omitempty"` // an approval's output fields
}

// fieldJSON describes one field a form asks for.
type fieldJSON struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"` // string, int, float, bool, enum, list, object, any
	Enum     []string `json:"enum,omitempty"`
	Optional bool     `json:"optional,omitempty"`
	Default  any      `json:"default,omitempty"`
}

// nodeJSON is one node instance of a run.
type nodeJSON struct {
	ID          string        `json:"id"`
	Scope       string        `json:"scope,omitempty"`
	Iteration   int           `json:"iteration,omitempty"`
	Kind        string        `json:"kind,omitempty"`
	State       string        `json:"state"`
	Attempts    int           `json:"attempts"`
	StartedAt   *time.Time    `json:"started_at,omitempty"`
	FinishedAt  *time.Time    `json:"finished_at,omitempty"`
	DurationMS  *int64        `json:"duration_ms,omitempty"`
	Output      any           `json:"output,omitempty"`
	Error       string        `json:"error,omitempty"`
	ChildRunID  string        `json:"child_run_id,omitempty"`
	SessionID   string        `json:"session_id,omitempty"`
	Tokens      *tokensJSON   `json:"tokens,omitempty"`
	CostUSD     float64       `json:"cost_usd,omitempty"`
	AttemptList []attemptJSON `json:"attempt_list,omitempty"`
}

type tokensJSON struct {
	Input  int64 `json:"input,omitempty"`
	Output int64 `json:"output,omitempty"`
	Cache  int64 `json:"cache,omitempty"`
}

type attemptJSON struct {
	Number     int        `json:"number"`
	State      string     `json:"state"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	DurationMS *int64     `json:"duration_ms,omitempty"`
	Error      string     `json:"error,omitempty"`
}

// detailJSON is GET /runs/{id}.
type detailJSON struct {
	Run      runJSON       `json:"run"`
	Input    any           `json:"input,omitempty"`
	Output   any           `json:"output,omitempty"`
	Nodes    []nodeJSON    `json:"nodes"`
	Waiting  []waitingJSON `json:"waiting"`
	Children []runJSON     `json:"children,omitempty"`
}

// eventJSON is one entry of a run's event log.
type eventJSON struct {
	Seq     int64     `json:"seq"`
	Kind    string    `json:"kind"`
	Node    string    `json:"node,omitempty"`
	Scope   string    `json:"scope,omitempty"`
	Attempt int       `json:"attempt,omitempty"`
	Time    time.Time `json:"time"`
	Text    string    `json:"text,omitempty"` // a log line's text
	Data    any       `json:"data,omitempty"`
}

// listFilter is the query of GET /runs.
type listFilter struct {
	Status, Workflow, Parent string
	Before                   string // a cursor from a previous page's next
	Limit                    int
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func durPtr(a, b time.Time) *int64 {
	if a.IsZero() || b.IsZero() {
		return nil
	}
	ms := b.Sub(a).Milliseconds()
	return &ms
}
