package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// This file is the runtime's read model: the queries a client (the CLI's
// ps, inspect, why and hints; a web server) needs about runs, answered
// from the store and the run's stored program. Clients call these rather
// than read store rows or compile sources themselves. Every query is
// read-only and safe for concurrent use.

// RunSummary is where a run stands, as people see it.
type RunSummary struct {
	ID       string
	Workflow string
	// ParentRunID and ParentNode are set for the child run of a call.
	ParentRunID, ParentNode string
	SourcePath, SourceHash  string
	// Status is the run's status as it stands: a run executed by a live
	// process that is only waiting (run --wait always) reads
	// waiting-approval, waiting-event or waiting-timer, not running;
	// StoredStatus is the status column as the store has it.
	Status       store.RunStatus
	StoredStatus store.RunStatus
	Error        string
	// TimedOut: the run failed (or was cancelled) at its deadline; a
	// resume with a new timeout continues it.
	TimedOut bool
	Input    json.RawMessage
	Output   json.RawMessage // null until finished
	// Owner is the process executing the run ("pid@host"), "" when none
	// does; OwnerLive tells whether it is alive (or its lease holds).
	Owner           string
	OwnerLive       bool
	LeaseExpiresAt  time.Time
	CancelRequested bool
	CreatedAt       time.Time
	UpdatedAt       time.Time
	FinishedAt      time.Time // zero until terminal
	// Elapsed is how long the run has existed: up to FinishedAt once
	// terminal, up to now otherwise (a waiting run's clock runs).
	Elapsed time.Duration
	// WaitingSince is when the earliest of its waits began; zero unless
	// the run waits.
	WaitingSince time.Time
}

// NodeView is one node instance of a run, for a node table.
type NodeView struct {
	NodeID    string
	Scope     string // enclosing for/loop path, "" outside any
	Iteration int
	Kind      string
	State     store.NodeState
	// Depth is the node's depth in the workflow tree (0 at top level),
	// when the run's program can be compiled.
	Depth    int
	Attempts int
	// StartedAt, FinishedAt and Duration: Duration runs to now for a node
	// still running or waiting.
	StartedAt  time.Time
	FinishedAt time.Time
	Duration   time.Duration
	Output     json.RawMessage // null when none
	Error      string
	ErrorKind  string
	Data       json.RawMessage // control data (a for's list, a timer's due time...)
	// ChildRunID is the child run of a call step, once started.
	ChildRunID string
	// Session is the agent session an agent step's last attempt that
	// reported one runs (or ran) in; Handoff the last time it was
	// hijacked (smithc hijack). Nil when none.
	Session *AgentSession
	Handoff *Handoff
}

// ApprovalView is an approval of a run, waiting or decided.
type ApprovalView struct {
	NodeID, Scope  string
	Title, Summary string
	RequestedAt    time.Time
	// Deadline is when an undecided approval times out (zero: never).
	Deadline time.Time
	// Fields is the approval's own output schema (the fields an approver
	// gives beside approved/by/note), nil when it declares none or the
	// program cannot be compiled.
	Fields *schema.Type
	// OnDeny is what a denial does: "fail", "skip" or "continue".
	OnDeny    string
	Decided   bool
	Approved  bool
	By, Note  string
	Data      json.RawMessage
	DecidedAt time.Time
}

// EventView is an event node of a run waiting for a signal.
type EventView struct {
	NodeID, Scope string
	// Signal is the name a signal must have for the event to take it.
	Signal string
	// Output is the schema the signal's data must fit (nil: any).
	Output   *schema.Type
	Since    time.Time
	Deadline time.Time // zero: no timeout
	// Buffered: a signal of that name has been sent and not consumed yet
	// (resuming the run lets the event take it).
	Buffered bool
	// Due: the deadline passed (resuming the run applies on_timeout).
	Due bool
}

// Wait kinds (Wait.Kind).
const (
	WaitApproval = "approval"
	WaitEvent    = "event"
	WaitTimer    = "timer"
	// WaitPaused: the run was paused (smithc pause); resume continues it.
	WaitPaused = "paused"
)

// Wait is one thing a run waits on, and since when.
type Wait struct {
	// RunID is the run to act on: the run asked about, or the child run
	// whose wait holds it (then Via names the calling step).
	RunID string
	Via   string
	// Kind is WaitApproval, WaitEvent, WaitTimer or WaitPaused.
	Kind          string
	NodeID, Scope string
	Title         string // an approval's rendered title
	Signal        string // an event's signal name
	Since         time.Time
	// Deadline is an approval's or event's timeout, a timer's due time.
	Deadline time.Time
	// Ambiguous: several instances of this approval wait, so a decision
	// must name Scope.
	Ambiguous bool
}

// Inspection is everything inspect shows about a run.
type Inspection struct {
	Run   *RunSummary
	Nodes []*NodeView
	// NodeCount is how many node instances the run has (of the node
	// InspectParams.Node names, when it names one); NodesOmitted how many
	// of them Nodes leaves out (InspectPage), after its first Head.
	NodeCount    int
	NodesOmitted int
	// NodeStates counts the instances of every node of the run by state,
	// all of them, whatever Nodes leaves out: what a drawing of the
	// workflow colours its nodes by.
	NodeStates map[string]map[store.NodeState]int
	Approvals  []*ApprovalView
	Waits      []*Wait
	// ForkedFrom is the run and node a run made by Fork came from (nil
	// for other runs).
	ForkedFrom *ForkOrigin
}

// ForkOrigin is where a forked run came from: its RunForked event.
type ForkOrigin struct{ RunID, Node string }

// forkOrigin reads a run's first event: RunForked names its origin.
func (e *Engine) forkOrigin(ctx context.Context, runID string) (*ForkOrigin, error) {
	evs, err := e.cfg.Store.EventList(ctx, &store.EventListParams{RunID: runID, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("runtime: events of run %s: %w", runID, err)
	}
	if len(evs) == 0 || evs[0].Kind != EventRunForked {
		return nil, nil
	}
	var d struct {
		Run  string `json:"from_run"`
		Node string `json:"from_node"`
	}
	if json.Unmarshal(evs[0].Data, &d) != nil || d.Run == "" {
		return nil, nil
	}
	return &ForkOrigin{RunID: d.Run, Node: d.Node}, nil
}

// leafKinds are the node kinds that do work or wait themselves (control
// nodes only reflect their children).
var leafKinds = map[string]bool{"step": true, "approval": true, "event": true, "timer": true}

var waitOfKind = map[string]store.RunStatus{"approval": store.RunWaitingApproval, "event": store.RunWaitingEvent, "timer": store.RunWaitingTimer}

// RunSummary returns where a run stands; the error wraps
// store.ErrNotFound for an unknown run.
func (e *Engine) RunSummary(ctx context.Context, runID string) (*RunSummary, error) {
	run, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: run %s: %w", runID, err)
	}
	var nodes []*store.Node
	if !run.Status.Terminal() {
		if nodes, err = e.cfg.Store.NodeList(ctx, liveNodes(runID)); err != nil {
			return nil, fmt.Errorf("runtime: run %s: %w", runID, err)
		}
	}
	return e.summarize(run, nodes), nil
}

// liveNodes lists what summarize reads of a run that is not terminal:
// its running and waiting nodes (states, kinds, errors, data and times;
// no outputs), not the thousands it may have finished.
func liveNodes(runID string) *store.NodeListParams {
	return &store.NodeListParams{RunID: runID, NoOutput: true, States: []store.NodeState{store.NodeRunning, store.NodeWaiting}}
}

// RunListParams are the arguments of RunList.
type RunListParams struct {
	Statuses    []store.RunStatus // empty: all (matched against RunSummary.Status)
	Workflow    string            // "": all
	ParentRunID string            // "": any
	Limit       int               // 0: no limit
}

// RunList lists runs, newest first, and reports whether Limit cut the
// list short.
func (e *Engine) RunList(ctx context.Context, p RunListParams) (runs []*RunSummary, truncated bool, err error) {
	q := &store.RunListParams{Workflow: p.Workflow, ParentRunID: p.ParentRunID}
	if len(p.Statuses) > 0 {
		// A run shown waiting may be stored running (a live owner waits).
		q.Statuses = append([]store.RunStatus(nil), p.Statuses...)
		for _, s := range p.Statuses {
			if s.Waiting() {
				q.Statuses = append(q.Statuses, store.RunRunning)
				break
			}
		}
	}
	want := map[store.RunStatus]bool{}
	for _, s := range p.Statuses {
		want[s] = true
	}
	// Filtering by the shown status happens here, so the store's limit
	// cannot be used as is when it may drop rows; one more than asked
	// tells whether the list was cut.
	if len(want) == 0 && p.Limit > 0 {
		q.Limit = p.Limit + 1
	}
	rows, err := e.cfg.Store.RunList(ctx, q)
	if err != nil {
		return nil, false, fmt.Errorf("runtime: list runs: %w", err)
	}
	for _, run := range rows {
		var nodes []*store.Node
		if !run.Status.Terminal() {
			if nodes, err = e.cfg.Store.NodeList(ctx, liveNodes(run.ID)); err != nil {
				return nil, false, fmt.Errorf("runtime: list runs: %w", err)
			}
		}
		s := e.summarize(run, nodes)
		if len(want) > 0 && !want[s.Status] {
			continue
		}
		if p.Limit > 0 && len(runs) == p.Limit {
			return runs, true, nil
		}
		runs = append(runs, s)
	}
	return runs, false, nil
}

// summarize builds a run's summary; nodes are its node rows (needed only
// for a run that is not terminal, and only those liveNodes lists).
func (e *Engine) summarize(run *store.Run, nodes []*store.Node) *RunSummary {
	now := e.now()
	s := &RunSummary{
		ID: run.ID, Workflow: run.Workflow, ParentRunID: run.ParentRunID, ParentNode: run.ParentNode,
		SourcePath: run.SourcePath, SourceHash: run.SourceHash, Status: run.Status, StoredStatus: run.Status,
		Error: run.Error, Input: run.Input, Output: run.Output, Owner: run.Owner, LeaseExpiresAt: run.LeaseExpiresAt,
		CancelRequested: run.CancelRequested, TimedOut: strings.HasPrefix(run.Error, runTimeoutPrefix),
		CreatedAt: run.CreatedAt, UpdatedAt: run.UpdatedAt, FinishedAt: run.FinishedAt,
	}
	end := run.FinishedAt
	if end.IsZero() || !run.Status.Terminal() {
		end = now
	}
	if s.Elapsed = end.Sub(run.CreatedAt); s.Elapsed < 0 {
		s.Elapsed = 0
	}
	if run.Status.Terminal() {
		return s
	}
	if run.Owner != "" {
		e.mu.Lock()
		_, here := e.live[run.ID]
		e.mu.Unlock()
		_, err := e.checkOwner(run)
		s.OwnerLive = here || err != nil
	}
	// What the leaves do tells a live owner that only waits from one that
	// works.
	busy := false
	var wait store.RunStatus
	rank := map[store.RunStatus]int{store.RunWaitingApproval: 3, store.RunWaitingEvent: 2, store.RunWaitingTimer: 1}
	for _, n := range nodes {
		if !leafKinds[n.Kind] {
			continue
		}
		switch n.State {
		case store.NodeRunning:
			busy = true
		case store.NodeWaiting:
			k := waitOfKind[n.Kind]
			if n.Kind == "step" {
				k = store.RunWaitingApproval // a call step whose child waits; refined below
				if c := childWaitStatus(n); c != "" {
					k = c
				}
			}
			if rank[k] > rank[wait] {
				wait = k
			}
			if t := waitStart(n); s.WaitingSince.IsZero() || !t.IsZero() && t.Before(s.WaitingSince) {
				s.WaitingSince = t
			}
		}
	}
	if run.Status == store.RunRunning && (busy || wait == "") {
		s.WaitingSince = time.Time{}
	}
	if run.Status == store.RunRunning && !busy && wait != "" && s.OwnerLive {
		s.Status = wait
	}
	return s
}

// childWaitStatus reads how a call step's child waits from its error
// ("child run X is waiting-event"); "" when unknown.
func childWaitStatus(n *store.Node) store.RunStatus {
	for _, st := range []store.RunStatus{store.RunWaitingApproval, store.RunWaitingEvent, store.RunWaitingTimer} {
		if len(n.Error) >= len(st) && n.Error[len(n.Error)-len(st):] == string(st) {
			return st
		}
	}
	return ""
}

// waitStart is when a waiting node began to wait (best known).
func waitStart(n *store.Node) time.Time {
	if !n.StartedAt.IsZero() {
		return n.StartedAt
	}
	return n.UpdatedAt
}

// workflowOf compiles a run's program when it can; reads that only enrich
// an answer (tree order, schemas, signal names) go on without it.
func (e *Engine) workflowOf(ctx context.Context, run *store.Run) *ir.Workflow {
	prog, _, err := e.storedProgram(ctx, run)
	if err != nil {
		return nil
	}
	wf := prog.Workflow(run.Workflow)
	if wf != nil {
		e.mu.Lock()
		wf.Lookup("")
		e.mu.Unlock()
	}
	return wf
}

func (e *Engine) lookup(wf *ir.Workflow, id string) *ir.Node {
	if wf == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return wf.Lookup(id)
}

// NodeTable returns a run's node instances in the workflow's tree order
// (parents before children, instances by scope and iteration; nodes the
// program no longer has last), with their depth, attempts, durations,
// outputs, errors and child runs.
func (e *Engine) NodeTable(ctx context.Context, runID string) ([]*NodeView, error) {
	run, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: run %s: %w", runID, err)
	}
	return e.nodeTable(ctx, run, e.workflowOf(ctx, run))
}

func (e *Engine) nodeTable(ctx context.Context, run *store.Run, wf *ir.Workflow) ([]*NodeView, error) {
	rows, err := e.cfg.Store.NodeList(ctx, &store.NodeListParams{RunID: run.ID})
	if err != nil {
		return nil, fmt.Errorf("runtime: nodes of run %s: %w", run.ID, err)
	}
	out, _, err := e.nodePage(ctx, run, wf, rows, 0, 0, 0)
	return out, err
}

// FailedLoop returns the loop whose reaching its max_iterations failed
// the run ("" when none did): resume cannot change that, only retrying
// the loop can. It reads the run's failed loops only.
func (e *Engine) FailedLoop(ctx context.Context, runID string) (string, error) {
	rows, err := e.cfg.Store.NodeList(ctx, &store.NodeListParams{RunID: runID, NoOutput: true,
		States: []store.NodeState{store.NodeFailed}, Kinds: []string{ir.KindLoop.String()}})
	if err != nil {
		return "", fmt.Errorf("runtime: nodes of run %s: %w", runID, err)
	}
	for _, n := range rows {
		if n.ErrorKind == ErrKindMaxIterations {
			return n.NodeID, nil
		}
	}
	return "", nil
}

// outputsFetchedOneByOne bounds the nodes whose outputs a paged
// inspection reads one by one (NodeGet) after a listing without them;
// past it, or when the page is more than a quarter of the run's nodes,
// one full listing is cheaper.
const outputsFetchedOneByOne = 500

// withOutputs returns rows, shown of the total nodes a brief listing
// returned, whole (outputs, errors, data and times): read node by node
// for a small part of a large run, or in one full listing. A node gone
// since the listing (a retry reset it) stays as listed.
func (e *Engine) withOutputs(ctx context.Context, runID string, rows []*store.Node, total int) ([]*store.Node, error) {
	out := make([]*store.Node, len(rows))
	if len(rows) > outputsFetchedOneByOne || 4*len(rows) > total {
		all, err := e.cfg.Store.NodeList(ctx, &store.NodeListParams{RunID: runID})
		if err != nil {
			return nil, fmt.Errorf("runtime: nodes of run %s: %w", runID, err)
		}
		byKey := make(map[nodeKey]*store.Node, len(all))
		for _, n := range all {
			byKey[nodeKey{n.NodeID, n.Scope}] = n
		}
		for i, n := range rows {
			if out[i] = byKey[nodeKey{n.NodeID, n.Scope}]; out[i] == nil {
				out[i] = n
			}
		}
		return out, nil
	}
	for i, n := range rows {
		full, err := e.cfg.Store.NodeGet(ctx, &store.NodeGetParams{RunID: runID, NodeID: n.NodeID, Scope: n.Scope})
		switch {
		case errors.Is(err, store.ErrNotFound):
			full = n
		case err != nil:
			return nil, fmt.Errorf("runtime: node %s of run %s: %w", n.NodeID, runID, err)
		}
		out[i] = full
	}
	return out, nil
}

// nodePage orders a run's node rows as NodeTable does and returns the
// views of the first head and the last tail of them (all when head and
// tail are 0 or cover every row), and how many were left out between.
//
// listed, when not 0, says that rows were listed briefly
// (NodeListParams.Brief), from a listing of that many nodes: the nodes
// shown are read whole (withOutputs).
func (e *Engine) nodePage(ctx context.Context, run *store.Run, wf *ir.Workflow, rows []*store.Node, head, tail, listed int) ([]*NodeView, int, error) {
	children, err := e.cfg.Store.RunList(ctx, &store.RunListParams{ParentRunID: run.ID, NoInput: true})
	if err != nil {
		return nil, 0, fmt.Errorf("runtime: child runs of %s: %w", run.ID, err)
	}
	childOf := map[string]string{}
	for _, c := range children {
		childOf[c.ID] = c.ID
	}
	pos, depth := treePositions(wf)
	sorted := make([]*store.Node, len(rows))
	copy(sorted, rows)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		pa, oka := pos[a.NodeID]
		pb, okb := pos[b.NodeID]
		switch {
		case oka != okb:
			return oka
		case pa != pb:
			return pa < pb
		case a.NodeID != b.NodeID:
			return a.NodeID < b.NodeID
		case a.Scope != b.Scope:
			return scopeLess(a.Scope, b.Scope)
		}
		return a.Iteration < b.Iteration
	})
	omitted := 0
	if (head > 0 || tail > 0) && head+tail < len(sorted) {
		omitted = len(sorted) - head - tail
		sorted = append(sorted[:head:head], sorted[len(sorted)-tail:]...)
	}
	if listed > 0 {
		if sorted, err = e.withOutputs(ctx, run.ID, sorted, listed); err != nil {
			return nil, 0, err
		}
	}
	now := e.now()
	out := make([]*NodeView, 0, len(sorted))
	for _, n := range sorted {
		v := &NodeView{NodeID: n.NodeID, Scope: n.Scope, Iteration: n.Iteration, Kind: n.Kind, State: n.State,
			Depth: depth[n.NodeID], Attempts: n.Attempts, StartedAt: n.StartedAt, FinishedAt: n.FinishedAt,
			Output: n.Output, Error: n.Error, ErrorKind: n.ErrorKind, Data: n.Data}
		if n.Kind == "step" {
			d := readStepData(n.Data)
			v.Session, v.Handoff = d.Session, d.Handoff
		}
		if !n.StartedAt.IsZero() {
			end := n.FinishedAt
			if end.IsZero() && !n.State.Terminal() && n.State != store.NodePending && n.State != store.NodeCancelled && !run.Status.Terminal() {
				end = now
			}
			if !end.IsZero() && !end.Before(n.StartedAt) {
				v.Duration = end.Sub(n.StartedAt)
			}
		}
		if n.Kind == "step" {
			id := childRunID(run.ID, n.NodeID, n.Scope)
			if _, ok := childOf[id]; ok {
				v.ChildRunID = id
			}
		}
		out = append(out, v)
	}
	return out, omitted, nil
}

// childRunID is the id of the child run a call step's instance starts.
func childRunID(runID, nodeID, scope string) string {
	id := runID + "." + nodeID
	if scope != "" {
		id += "[" + scope + "]"
	}
	return id
}

// treePositions numbers the named nodes of wf in source order and gives
// each its depth; both empty without wf.
func treePositions(wf *ir.Workflow) (pos, depth map[string]int) {
	pos, depth = map[string]int{}, map[string]int{}
	if wf == nil {
		return pos, depth
	}
	var walk func(n *ir.Node, d int)
	walk = func(n *ir.Node, d int) {
		for _, c := range n.Body() {
			if c.ID == "" { // an anonymous block: its children sit at this depth
				walk(c, d)
				continue
			}
			pos[c.ID], depth[c.ID] = len(pos), d
			walk(c, d+1)
		}
	}
	walk(wf.Root, 0)
	return pos, depth
}

// Approvals returns a run's approvals, waiting and decided, ordered by
// node id and scope, with their deadlines and (when the program can be
// compiled) the fields an approver gives.
func (e *Engine) Approvals(ctx context.Context, runID string) ([]*ApprovalView, error) {
	run, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: run %s: %w", runID, err)
	}
	return e.approvals(ctx, run, e.workflowOf(ctx, run), nil)
}

// PendingApprovals returns the approvals of a run that wait for a
// decision (see Approvals).
func (e *Engine) PendingApprovals(ctx context.Context, runID string) ([]*ApprovalView, error) {
	all, err := e.Approvals(ctx, runID)
	if err != nil {
		return nil, err
	}
	var out []*ApprovalView
	for _, a := range all {
		if !a.Decided {
			out = append(out, a)
		}
	}
	return out, nil
}

// approvals lists the run's approvals; rows are its node rows when the
// caller has them (nil: read them).
func (e *Engine) approvals(ctx context.Context, run *store.Run, wf *ir.Workflow, rows []*store.Node) ([]*ApprovalView, error) {
	aps, err := e.cfg.Store.ApprovalList(ctx, &store.ApprovalListParams{RunID: run.ID})
	if err != nil {
		return nil, fmt.Errorf("runtime: approvals of run %s: %w", run.ID, err)
	}
	if len(aps) == 0 {
		return []*ApprovalView{}, nil
	}
	if rows == nil {
		// The approval nodes' states, times and data (deadlines) only.
		if rows, err = e.cfg.Store.NodeList(ctx, &store.NodeListParams{RunID: run.ID, NoOutput: true, Kinds: []string{"approval"}}); err != nil {
			return nil, fmt.Errorf("runtime: nodes of run %s: %w", run.ID, err)
		}
	}
	nodes := make(map[nodeKey]*store.Node, len(aps))
	for _, ap := range aps {
		nodes[nodeKey{ap.NodeID, ap.Scope}] = nil
	}
	for _, r := range rows {
		if _, ok := nodes[nodeKey{r.NodeID, r.Scope}]; ok {
			nodes[nodeKey{r.NodeID, r.Scope}] = r
		}
	}
	out := make([]*ApprovalView, 0, len(aps))
	for _, ap := range aps {
		v := &ApprovalView{NodeID: ap.NodeID, Scope: ap.Scope, Title: ap.Title, Summary: ap.Summary, RequestedAt: ap.RequestedAt,
			Decided: ap.Decided, Approved: ap.Approved, By: ap.By, Note: ap.Note, Data: ap.Data, DecidedAt: ap.DecidedAt, OnDeny: "fail"}
		if n := e.lookup(wf, ap.NodeID); n != nil && n.Approval != nil {
			v.Fields = n.Approval.Fields
			if n.Approval.OnDeny != "" {
				v.OnDeny = n.Approval.OnDeny
			}
		}
		if row := nodes[nodeKey{ap.NodeID, ap.Scope}]; row != nil && !ap.Decided {
			v.Deadline = nodeDeadline(row)
		}
		out = append(out, v)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].NodeID != out[j].NodeID {
			return out[i].NodeID < out[j].NodeID
		}
		return out[i].Scope < out[j].Scope
	})
	return out, nil
}

type nodeKey struct{ id, scope string }

// nodeDeadline reads the deadline (approval, event) or due time (timer)
// a node stored in its data; zero when none.
func nodeDeadline(n *store.Node) time.Time {
	var d struct {
		Deadline time.Time `json:"deadline"`
		Due      time.Time `json:"due"`
	}
	if len(n.Data) == 0 || json.Unmarshal(n.Data, &d) != nil {
		return time.Time{}
	}
	if !d.Deadline.IsZero() {
		return d.Deadline
	}
	return d.Due
}

// PendingEvents returns the event nodes of a run that wait for a signal,
// with their signal names, data schemas and deadlines, and whether a
// signal for them is already buffered or their deadline passed.
func (e *Engine) PendingEvents(ctx context.Context, runID string) ([]*EventView, error) {
	run, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: run %s: %w", runID, err)
	}
	return e.pendingEvents(ctx, run, e.workflowOf(ctx, run))
}

func (e *Engine) pendingEvents(ctx context.Context, run *store.Run, wf *ir.Workflow) ([]*EventView, error) {
	rows, err := e.cfg.Store.NodeList(ctx, &store.NodeListParams{RunID: run.ID, NoOutput: true,
		States: []store.NodeState{store.NodeWaiting}, Kinds: []string{"event"}})
	if err != nil {
		return nil, fmt.Errorf("runtime: nodes of run %s: %w", run.ID, err)
	}
	var sigs []*store.Signal
	var out []*EventView
	now := e.now()
	for _, n := range rows {
		if n.Kind != "event" || n.State != store.NodeWaiting {
			continue
		}
		v := &EventView{NodeID: n.NodeID, Scope: n.Scope, Since: waitStart(n), Deadline: nodeDeadline(n)}
		if node := e.lookup(wf, n.NodeID); node != nil && node.Event != nil {
			v.Signal, v.Output = node.Event.Name, node.Output
		}
		v.Due = !v.Deadline.IsZero() && !now.Before(v.Deadline)
		if sigs == nil {
			if sigs, err = e.cfg.Store.SignalList(ctx, &store.SignalListParams{RunID: run.ID}); err != nil {
				return nil, fmt.Errorf("runtime: signals of run %s: %w", run.ID, err)
			}
		}
		for _, sg := range sigs {
			if !sg.Consumed && sg.Name == v.Signal && v.Signal != "" {
				v.Buffered = true
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// EventNames returns the signal names the events of a run's workflow
// take, in source order (nil when the program cannot be compiled).
func (e *Engine) EventNames(ctx context.Context, runID string) ([]string, error) {
	run, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: run %s: %w", runID, err)
	}
	wf := e.workflowOf(ctx, run)
	if wf == nil {
		return nil, nil
	}
	var names []string
	seen := map[string]bool{}
	ir.Walk(wf.Root, func(n *ir.Node) bool {
		if n.Event != nil && !seen[n.Event.Name] {
			seen[n.Event.Name] = true
			names = append(names, n.Event.Name)
		}
		return true
	})
	return names, nil
}

// Waits returns what a run waits on, ordered by run, node id and scope:
// its waiting
// approvals, events and timers, those of the child runs its call steps
// wait on (RunID names the child, Via the calling step).
// Empty when the run does not wait.
func (e *Engine) Waits(ctx context.Context, runID string) ([]*Wait, error) {
	run, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: run %s: %w", runID, err)
	}
	return e.waits(ctx, run, e.workflowOf(ctx, run), 0, nil)
}

// waits lists what the run waits on; rows are its node rows when the
// caller has them (nil: read them).
func (e *Engine) waits(ctx context.Context, run *store.Run, wf *ir.Workflow, depth int, rows []*store.Node) ([]*Wait, error) {
	if run.Status.Terminal() {
		return nil, nil
	}
	var out []*Wait
	if run.Status == store.RunPaused {
		out = append(out, &Wait{RunID: run.ID, Kind: WaitPaused, Since: run.UpdatedAt})
	}
	var err error
	if rows == nil {
		// The waiting nodes' states, times and data (deadlines) only.
		if rows, err = e.cfg.Store.NodeList(ctx, &store.NodeListParams{RunID: run.ID, NoOutput: true, States: []store.NodeState{store.NodeWaiting}}); err != nil {
			return nil, fmt.Errorf("runtime: nodes of run %s: %w", run.ID, err)
		}
	}
	aps, err := e.cfg.Store.ApprovalList(ctx, &store.ApprovalListParams{RunID: run.ID})
	if err != nil {
		return nil, fmt.Errorf("runtime: approvals of run %s: %w", run.ID, err)
	}
	titles := map[nodeKey]*store.Approval{}
	pending := map[string]int{}
	for _, ap := range aps {
		titles[nodeKey{ap.NodeID, ap.Scope}] = ap
		if !ap.Decided {
			pending[ap.NodeID]++
		}
	}
	for _, n := range rows {
		if n.State != store.NodeWaiting {
			continue
		}
		w := &Wait{RunID: run.ID, NodeID: n.NodeID, Scope: n.Scope, Since: waitStart(n), Deadline: nodeDeadline(n)}
		switch n.Kind {
		case "approval":
			w.Kind = WaitApproval
			if ap := titles[nodeKey{n.NodeID, n.Scope}]; ap != nil {
				if ap.Decided {
					continue // decided: the run takes it when it continues
				}
				w.Title, w.Since = ap.Title, ap.RequestedAt
			}
			w.Ambiguous = pending[n.NodeID] > 1
		case "event":
			w.Kind = WaitEvent
			if node := e.lookup(wf, n.NodeID); node != nil && node.Event != nil {
				w.Signal = node.Event.Name
			}
		case "timer":
			w.Kind = WaitTimer
		case "step":
			id := childRunID(run.ID, n.NodeID, n.Scope)
			child, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: id})
			if errors.Is(err, store.ErrNotFound) || depth > 16 {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("runtime: child run %s: %w", id, err)
			}
			cws, err := e.waits(ctx, child, e.workflowOf(ctx, child), depth+1, nil)
			if err != nil {
				return nil, err
			}
			for _, cw := range cws {
				if cw.Via == "" {
					cw.Via = n.NodeID
				}
				out = append(out, cw)
			}
			continue
		default:
			continue // a control node reflects its children
		}
		out = append(out, w)
	}
	// In the workflow's order, not by time: instances of a for start
	// together, and a list that changes order between two looks reads as
	// two different lists.
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].RunID != out[j].RunID {
			return out[i].RunID < out[j].RunID
		}
		if out[i].NodeID != out[j].NodeID {
			return out[i].NodeID < out[j].NodeID
		}
		return scopeLess(out[i].Scope, out[j].Scope)
	})
	return out, nil
}

// scopeLess orders scopes with their indexes as numbers: "x[2]" before
// "x[10]", "L#9" before "L#10".
func scopeLess(a, b string) bool {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			i, j := digits(a), digits(b)
			na, nb := strings.TrimLeft(a[:i], "0"), strings.TrimLeft(b[:j], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb) // fewer digits: smaller
			}
			if na != nb {
				return na < nb
			}
			a, b = a[i:], b[j:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digits returns the length of the run of digits s starts with.
func digits(s string) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// InspectParams page the node table of InspectPage.
type InspectParams struct {
	// Head and Tail: only the first Head and the last Tail node instances
	// (in NodeTable's order) are returned when the run has more; 0 and 0:
	// all of them.
	Head, Tail int
	// Node, when set, keeps only the instances of that node in Nodes
	// (before the paging above): one node's instances of a loop of 10⁵
	// iterations.
	Node string
}

// Inspect returns a run's summary, node table, approvals and waits in one
// call (one compilation of its program, one read of its node rows).
func (e *Engine) Inspect(ctx context.Context, runID string) (*Inspection, error) {
	return e.InspectPage(ctx, runID, InspectParams{})
}

// InspectPage is Inspect with the node table paged: Nodes holds the
// first p.Head and the last p.Tail instances, NodeCount how many the run
// has and NodesOmitted how many were left out (between the head and the
// tail), so that a run of 10⁵ loop iterations is shown without building
// 10⁵ views.
func (e *Engine) InspectPage(ctx context.Context, runID string, p InspectParams) (*Inspection, error) {
	run, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: run %s: %w", runID, err)
	}
	wf := e.workflowOf(ctx, run)
	// A paged inspection (of 10⁵ loop iterations, say) lists the nodes
	// briefly, for the counts and the page's choice; the summary, the
	// approvals and the waits read only the nodes they look at (running,
	// waiting, approvals), and the nodes shown are read whole (nodePage).
	// An unpaged one reads and shows them all.
	paged := p.Head > 0 || p.Tail > 0
	nodes, err := e.cfg.Store.NodeList(ctx, &store.NodeListParams{RunID: runID, Brief: paged})
	if err != nil {
		return nil, fmt.Errorf("runtime: run %s: %w", runID, err)
	}
	listed, live, approvalRows := 0, nodes, nodes
	if paged {
		listed, approvalRows = len(nodes), nil
		if live, err = e.cfg.Store.NodeList(ctx, liveNodes(runID)); err != nil {
			return nil, fmt.Errorf("runtime: run %s: %w", runID, err)
		}
	}
	in := &Inspection{Run: e.summarize(run, live), NodeStates: map[string]map[store.NodeState]int{}}
	shown := nodes
	if p.Node != "" {
		shown = nil
	}
	for _, n := range nodes {
		c := in.NodeStates[n.NodeID]
		if c == nil {
			c = map[store.NodeState]int{}
			in.NodeStates[n.NodeID] = c
		}
		c[n.State]++
		if p.Node != "" && n.NodeID == p.Node {
			shown = append(shown, n)
		}
	}
	in.NodeCount = len(shown)
	if in.Nodes, in.NodesOmitted, err = e.nodePage(ctx, run, wf, shown, max(p.Head, 0), max(p.Tail, 0), listed); err != nil {
		return nil, err
	}
	if in.Approvals, err = e.approvals(ctx, run, wf, approvalRows); err != nil {
		return nil, err
	}
	if in.Waits, err = e.waits(ctx, run, wf, 0, live); err != nil {
		return nil, err
	}
	if in.ForkedFrom, err = e.forkOrigin(ctx, runID); err != nil {
		return nil, err
	}
	return in, nil
}

// Events returns a run's events with Seq > afterSeq in order (at most
// limit; 0: all), for logs and followers (poll with the last Seq seen).
func (e *Engine) Events(ctx context.Context, runID string, afterSeq int64, limit int) ([]*store.Event, error) {
	evs, err := e.cfg.Store.EventList(ctx, &store.EventListParams{RunID: runID, AfterSeq: afterSeq, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("runtime: events of run %s: %w", runID, err)
	}
	return evs, nil
}
