package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
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
	Via        string      `json:"via,omitempty"` // the call step whose child run waits
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
	Run    runJSON    `json:"run"`
	Input  any        `json:"input,omitempty"`
	Output any        `json:"output,omitempty"`
	Nodes  []nodeJSON `json:"nodes"`
	// Node is the node ?node= asked for (Nodes holds its instances only);
	// NodeCount how many instances the table had before paging and
	// NodesOmitted how many Nodes leaves out, between its two ends;
	// NodeStates every node's instances counted by state, all of them.
	Node         string                    `json:"node,omitempty"`
	NodeCount    int                       `json:"node_count"`
	NodesOmitted int                       `json:"nodes_omitted"`
	NodeStates   map[string]map[string]int `json:"node_states"`
	Waiting      []waitingJSON             `json:"waiting"`
	Children     []runJSON                 `json:"children,omitempty"`
	// ForkedFrom is where a run made by fork came from.
	ForkedFrom *forkJSON `json:"forked_from,omitempty"`
}

type forkJSON struct {
	RunID string `json:"run_id"`
	Node  string `json:"node"`
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
	Offset, Limit            int
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

func summaryJSON(s *runtime.RunSummary) runJSON {
	return runJSON{ID: s.ID, Workflow: s.Workflow, Status: string(s.Status), ParentRunID: s.ParentRunID, ParentNode: s.ParentNode,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, FinishedAt: timePtr(s.FinishedAt), ElapsedMS: s.Elapsed.Milliseconds(), Error: s.Error}
}

func waitJSON(w *runtime.Wait, approvals map[[2]string]*runtime.ApprovalView) waitingJSON {
	out := waitingJSON{Node: w.NodeID, Scope: w.Scope, Kind: w.Kind, Title: w.Title, Signal: w.Signal,
		Since: timePtr(w.Since), Deadline: timePtr(w.Deadline), Via: w.Via}
	if w.Via != "" {
		out.ChildRunID = w.RunID
	}
	out.Command = w.Command()
	if ap := approvals[[2]string{w.NodeID, w.Scope}]; ap != nil && w.Via == "" && ap.Fields != nil {
		out.Fields = formFields(ap.Fields)
	}
	return out
}

// formFields describes an approval's output fields for a form.
func formFields(t *schema.Type) []fieldJSON {
	var out []fieldJSON
	for _, f := range t.Fields {
		fj := fieldJSON{Name: f.Name, Type: f.Type.Kind.String(), Optional: f.Optional}
		if f.Type.Kind == schema.Enum {
			fj.Enum = f.Type.Enum
		}
		if f.HasDefault {
			fj.Default = f.Default
		}
		out = append(out, fj)
	}
	return out
}

func rawValue(b json.RawMessage) any {
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	v, err := schema.DecodeJSON(b)
	if err != nil {
		return nil
	}
	return v
}

// runList answers GET /runs and the runs stream.
func (s *Server) runList(ctx context.Context, f listFilter) ([]runJSON, bool, error) {
	p := runtime.RunListParams{Workflow: f.Workflow, ParentRunID: f.Parent, Limit: f.Limit + f.Offset}
	if f.Status != "" {
		st := store.RunStatus(f.Status)
		if !validStatus(st) {
			return nil, false, &badRequest{field: "status", msg: fmt.Sprintf("status %q: want one of %s", f.Status, strings.Join(statusNames(), ", "))}
		}
		p.Statuses = []store.RunStatus{st}
	}
	runs, more, err := s.eng.RunList(ctx, p)
	if err != nil {
		return nil, false, err
	}
	if f.Offset >= len(runs) {
		runs = nil
	} else {
		runs = runs[f.Offset:]
	}
	out := make([]runJSON, 0, len(runs))
	for _, r := range runs {
		rj := summaryJSON(r)
		if r.Status.Waiting() {
			if ws, err := s.eng.Waits(ctx, r.ID); err == nil {
				for _, w := range ws {
					rj.Waiting = append(rj.Waiting, waitJSON(w, nil))
				}
			}
		}
		out = append(out, rj)
	}
	return out, more, nil
}

var allStatuses = []store.RunStatus{store.RunRunning, store.RunWaitingApproval, store.RunWaitingEvent, store.RunWaitingTimer,
	store.RunPaused, store.RunFinished, store.RunFailed, store.RunCancelled}

func validStatus(st store.RunStatus) bool {
	for _, s := range allStatuses {
		if s == st {
			return true
		}
	}
	return false
}

func statusNames() []string {
	var out []string
	for _, s := range allStatuses {
		out = append(out, string(s))
	}
	return out
}

// badRequest is an error of the request itself (400).
type badRequest struct{ field, msg string }

func (e *badRequest) Error() string { return e.msg }

// runDetail answers GET /runs/{id}.
func (s *Server) runDetail(ctx context.Context, id string, p runtime.InspectParams) (*detailJSON, error) {
	in, err := s.eng.InspectPage(ctx, id, p)
	if err != nil {
		return nil, err
	}
	atts, err := s.eng.Attempts(ctx, id)
	if err != nil {
		return nil, err
	}
	usage, err := s.eng.Usage(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &detailJSON{Run: summaryJSON(in.Run), Input: rawValue(in.Run.Input), Output: rawValue(in.Run.Output),
		Nodes: []nodeJSON{}, Waiting: []waitingJSON{}, Node: p.Node, NodeCount: in.NodeCount, NodesOmitted: in.NodesOmitted,
		NodeStates: map[string]map[string]int{}}
	if f := in.ForkedFrom; f != nil {
		d.ForkedFrom = &forkJSON{RunID: f.RunID, Node: f.Node}
	}
	for node, counts := range in.NodeStates {
		m := map[string]int{}
		for st, n := range counts {
			m[string(st)] = n
		}
		d.NodeStates[node] = m
	}
	d.Run.Tokens, d.Run.CostUSD = usage.Total.Tokens(), usage.Total.CostUSD
	byInst := map[[2]string][]attemptJSON{}
	for _, a := range atts {
		aj := attemptJSON{Number: a.Number, State: string(a.State), StartedAt: timePtr(a.StartedAt), FinishedAt: timePtr(a.FinishedAt),
			DurationMS: durPtr(a.StartedAt, a.FinishedAt), Error: a.Error}
		k := [2]string{a.NodeID, a.Scope}
		byInst[k] = append(byInst[k], aj)
	}
	for _, n := range in.Nodes {
		nj := nodeJSON{ID: n.NodeID, Scope: n.Scope, Iteration: n.Iteration, Kind: n.Kind, State: string(n.State), Attempts: n.Attempts,
			StartedAt: timePtr(n.StartedAt), FinishedAt: timePtr(n.FinishedAt), Output: rawValue(n.Output), Error: n.Error,
			ChildRunID: n.ChildRunID, AttemptList: byInst[[2]string{n.NodeID, n.Scope}]}
		if !n.StartedAt.IsZero() {
			ms := n.Duration.Milliseconds()
			nj.DurationMS = &ms
		}
		if m, ok := nj.Output.(map[string]any); ok && n.Kind == "step" {
			if sid, ok := m["session_id"].(string); ok {
				nj.SessionID = sid
			}
		}
		if u := usage.Node(n.NodeID, n.Scope); u != nil {
			nj.Tokens = &tokensJSON{Input: u.InputTokens, Output: u.OutputTokens, Cache: u.CacheTokens()}
			nj.CostUSD = u.CostUSD
		}
		d.Nodes = append(d.Nodes, nj)
	}
	aps := map[[2]string]*runtime.ApprovalView{}
	for _, a := range in.Approvals {
		aps[[2]string{a.NodeID, a.Scope}] = a
	}
	for _, w := range in.Waits {
		d.Waiting = append(d.Waiting, waitJSON(w, aps))
	}
	d.Run.Waiting = d.Waiting
	kids, _, err := s.eng.RunList(ctx, runtime.RunListParams{ParentRunID: id, Limit: 200})
	if err == nil {
		for _, k := range kids {
			d.Children = append(d.Children, summaryJSON(k))
		}
	}
	return d, nil
}

// eventPage answers GET /runs/{id}/events and feeds the run stream.
func (s *Server) eventPage(ctx context.Context, id string, after int64, limit int) ([]eventJSON, error) {
	if _, err := s.eng.RunSummary(ctx, id); err != nil {
		return nil, err
	}
	evs, err := s.eng.Events(ctx, id, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]eventJSON, len(evs))
	for i, ev := range evs {
		ej := eventJSON{Seq: ev.Seq, Kind: ev.Kind, Node: ev.NodeID, Scope: ev.Scope, Attempt: ev.Attempt, Time: ev.Time}
		if v := rawValue(ev.Data); v != nil {
			ej.Data = v
			if m, ok := v.(map[string]any); ok {
				if t, ok := m["text"].(string); ok {
					ej.Text = t
				}
			}
		}
		out[i] = ej
	}
	return out, nil
}
