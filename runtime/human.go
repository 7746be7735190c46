package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// Decision is a person's answer to an approval.
type Decision struct {
	By   string
	Note string
	Data map[string]any // the approval's own output fields, if it declares any
	// Scope picks one instance of an approval inside a for or loop (the
	// scope `smithc inspect` shows, such as "for:x:gate[2]"); "" decides
	// the oldest one waiting.
	Scope string
}

// Approve records an approval of node in run. With cont, a run that no
// live process owns is continued in the caller (wait mode auto) and the
// result says where it stands; a live owner picks the decision up itself.
func (e *Engine) Approve(ctx context.Context, runID, nodeID string, d Decision, cont bool) (*Result, error) {
	return e.decide(ctx, runID, nodeID, true, d, cont)
}

// Deny records a denial of node in run; see Approve for cont.
func (e *Engine) Deny(ctx context.Context, runID, nodeID string, d Decision, cont bool) (*Result, error) {
	return e.decide(ctx, runID, nodeID, false, d, cont)
}

// ErrInvalidDecision is returned (wrapped, naming the field) when an
// approval's data does not fit the approval's output type; nothing is
// recorded then and the approval keeps waiting.
var ErrInvalidDecision = errors.New("invalid decision")

// ErrExpired is matched (errors.Is) by an *ExpiredError: a decision
// made after the approval's timeout, which is not recorded.
var ErrExpired = errors.New("the approval timed out")

// ExpiredError refuses a decision on an approval whose timeout passed;
// Approve and Deny return it with the run's result after continuing it
// (the approval then times out as its definition says).
type ExpiredError struct {
	RunID, Node, Scope string
	Deadline           time.Time
}

func (e *ExpiredError) Error() string {
	return fmt.Sprintf("approval %s of run %s timed out at %s; the decision was not recorded", e.Node, e.RunID, e.Deadline.Local().Format(time.DateTime))
}

// Is reports whether target is ErrExpired.
func (e *ExpiredError) Is(target error) bool { return target == ErrExpired }

// ErrUnknownNode is returned (wrapped, naming the node) when a call names
// a node the run's workflow does not have.
var ErrUnknownNode = errors.New("unknown node")

// UnknownNodeError names a node a run's workflow does not have; it
// matches ErrUnknownNode with errors.Is.
type UnknownNodeError struct {
	RunID, Workflow, Node string
}

func (e *UnknownNodeError) Error() string {
	return fmt.Sprintf("run %s: workflow %s has no node %q", e.RunID, e.Workflow, e.Node)
}

// Is reports whether target is ErrUnknownNode.
func (e *UnknownNodeError) Is(target error) bool { return target == ErrUnknownNode }

func (e *Engine) decide(ctx context.Context, runID, nodeID string, approved bool, d Decision, cont bool) (*Result, error) {
	// Only an approval that is waiting can be decided: one that timed out
	// (its node failed) is re-opened by resuming the run, not answered
	// after the fact.
	nodes, err := e.cfg.Store.NodeList(ctx, &store.NodeListParams{RunID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: decide %s of run %s: %w", nodeID, runID, err)
	}
	waiting := false
	var expired *store.Node
	now := e.now()
	for _, n := range nodes {
		if n.NodeID == nodeID && n.State == store.NodeWaiting && (d.Scope == "" || n.Scope == d.Scope) {
			if dl := nodeDeadline(n); n.Kind == "approval" && !dl.IsZero() && !now.Before(dl) {
				if expired == nil {
					expired = n
				}
				continue
			}
			waiting = true
		}
	}
	if !waiting && expired != nil {
		// The timeout holds whoever decides: the decision is refused and
		// the run is continued so that the approval times out as its
		// definition says.
		res, cerr := e.continueRun(ctx, runID, true)
		if cerr != nil {
			res = nil
		}
		return res, &ExpiredError{RunID: runID, Node: nodeID, Scope: expired.Scope, Deadline: nodeDeadline(expired)}
	}
	if !waiting {
		// An approval of a child run the run waits on is decided there
		// (continuing the child continues the parent).
		if child, err := e.childApproval(ctx, runID, nodeID); err != nil || child != "" {
			if err != nil {
				return nil, err
			}
			return e.decide(ctx, child, nodeID, approved, d, cont)
		}
		ap, err := e.cfg.Store.ApprovalGet(ctx, &store.ApprovalGetParams{RunID: runID, NodeID: nodeID, Scope: d.Scope})
		if err == nil && ap.Decided {
			verb := map[bool]string{true: "approved", false: "denied"}[ap.Approved]
			return nil, fmt.Errorf("runtime: decide %s of run %s: %w: already %s by %s", nodeID, runID, store.ErrConflict, verb, ap.By)
		}
		return nil, fmt.Errorf("runtime: decide %s of run %s: %w: it is not waiting for a decision", nodeID, runID, store.ErrNotFound)
	}
	if approved {
		if err := e.checkDecision(ctx, runID, nodeID, d); err != nil {
			return nil, err
		}
	}
	var data json.RawMessage
	if len(d.Data) > 0 {
		b, err := schema.EncodeJSON(d.Data)
		if err != nil {
			return nil, fmt.Errorf("runtime: encode decision data: %w", err)
		}
		data = b
	}
	ap, err := e.cfg.Store.ApprovalDecide(ctx, &store.ApprovalDecideParams{RunID: runID, NodeID: nodeID, Scope: d.Scope, Approved: approved,
		By: d.By, Note: d.Note, Data: data, Now: now})
	if err != nil {
		return nil, fmt.Errorf("runtime: decide %s of run %s: %w", nodeID, runID, err)
	}
	ev := &store.Event{RunID: runID, NodeID: nodeID, Scope: ap.Scope, Kind: EventApprovalDecided, Time: now,
		Data: mustJSON(map[string]any{"approved": approved, "by": d.By, "note": d.Note})}
	if err := e.cfg.Store.EventAppend(ctx, &store.EventAppendParams{Events: []*store.Event{ev}}); err != nil {
		return nil, fmt.Errorf("runtime: decide %s of run %s: %w", nodeID, runID, err)
	}
	e.observe(ev)
	return e.continueRun(ctx, runID, cont)
}

// ErrInvalidSignal is returned (wrapped, naming the field path) when a
// signal's data does not fit the output type of the events that take it;
// nothing is recorded then.
var ErrInvalidSignal = errors.New("invalid signal data")

// childApproval returns the child run (of a call step of runID) whose
// approval nodeID waits, "" when none does; several are an error naming
// them.
func (e *Engine) childApproval(ctx context.Context, runID, nodeID string) (string, error) {
	ws, err := e.Waits(ctx, runID)
	if err != nil {
		return "", nil // no read, no redirection: the caller reports the approval missing
	}
	var runs []string
	for _, w := range ws {
		if w.Kind == WaitApproval && w.NodeID == nodeID && w.RunID != runID {
			if len(runs) == 0 || runs[len(runs)-1] != w.RunID {
				runs = append(runs, w.RunID)
			}
		}
	}
	switch len(runs) {
	case 0:
		return "", nil
	case 1:
		return runs[0], nil
	}
	return "", fmt.Errorf("runtime: decide %s of run %s: %w: approval %s waits in several child runs (%s); decide it in one: smithc approve CHILD_RUN %s",
		nodeID, runID, ErrAmbiguous, nodeID, strings.Join(runs, ", "), nodeID)
}

// ErrAmbiguous is returned (wrapped, naming the choices) when a call
// names something several instances match.
var ErrAmbiguous = errors.New("ambiguous")

// ErrRunFinished is returned (wrapped) when a signal is sent to a run
// that has finished: no node of it will run again to take the signal, so
// nothing is recorded. (A failed or cancelled run keeps the signal for
// its resume.)
var ErrRunFinished = errors.New("the run has finished")

// Signal sends a signal to a run; it is buffered until an event node
// named name consumes it. A finished run takes none (ErrRunFinished).
// When the run's program can be compiled, data
// must fit the output type of every event of that name (otherwise an
// error wrapping ErrInvalidSignal, and nothing is recorded), and a name
// no event of the workflow takes is recorded with a warning in
// Result.Warnings naming the events there are. See Approve for cont.
func (e *Engine) Signal(ctx context.Context, runID, name string, data any, cont bool) (*Result, error) {
	warn, err := e.checkSignal(ctx, runID, name, data)
	if err != nil {
		return nil, err
	}
	res, err := e.signal(ctx, runID, name, data, cont)
	if res != nil {
		res.Warnings = append(res.Warnings, warn...)
	}
	return res, err
}

// checkSignal validates a signal against the events of the run's
// workflow (when its program can be compiled).
func (e *Engine) checkSignal(ctx context.Context, runID, name string, data any) ([]string, error) {
	run, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: signal run %s: %w", runID, err)
	}
	if run.Status == store.RunFinished {
		return nil, fmt.Errorf("runtime: signal %q for run %s: %w, so no node of it will take the signal; nothing was recorded", name, runID, ErrRunFinished)
	}
	wf := e.workflowOf(ctx, run)
	if wf == nil {
		return nil, nil // the event validates it when it takes it
	}
	var names []string
	seen := map[string]bool{}
	var takers []*ir.Node
	ir.Walk(wf.Root, func(n *ir.Node) bool {
		if n.Kind == ir.KindEvent && n.Event != nil {
			if !seen[n.Event.Name] {
				seen[n.Event.Name] = true
				names = append(names, n.Event.Name)
			}
			if n.Event.Name == name {
				takers = append(takers, n)
			}
		}
		return true
	})
	if len(takers) == 0 {
		if len(names) == 0 {
			return []string{fmt.Sprintf("workflow %s of run %s has no event: no node will take signal %q", wf.Name, runID, name)}, nil
		}
		return []string{fmt.Sprintf("workflow %s of run %s has no event taking signal %q; its events take: %s", wf.Name, runID, name, strings.Join(names, ", "))}, nil
	}
	for _, n := range takers {
		if n.Output == nil {
			continue
		}
		if _, err := schema.Normalize(n.Output, schema.Canonical(data), n.ID); err != nil {
			return nil, fmt.Errorf("runtime: signal %q for event %s of run %s: %w: %v", name, n.ID, runID, ErrInvalidSignal, err)
		}
	}
	return nil, nil
}

func (e *Engine) signal(ctx context.Context, runID, name string, data any, cont bool) (*Result, error) {
	raw, err := schema.EncodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("runtime: encode signal data: %w", err)
	}
	now := e.now()
	if _, err := e.cfg.Store.SignalSend(ctx, &store.SignalSendParams{RunID: runID, Name: name, Data: raw, Now: now}); err != nil {
		return nil, fmt.Errorf("runtime: signal run %s: %w", runID, err)
	}
	ev := &store.Event{RunID: runID, Kind: EventSignalSent, Time: now, Data: mustJSON(map[string]any{"name": name})}
	if err := e.cfg.Store.EventAppend(ctx, &store.EventAppendParams{Events: []*store.Event{ev}}); err != nil {
		return nil, fmt.Errorf("runtime: signal run %s: %w", runID, err)
	}
	e.observe(ev)
	return e.continueRun(ctx, runID, cont)
}

func (e *Engine) observe(ev *store.Event) {
	if e.cfg.ObserveFunc != nil {
		e.cfg.ObserveFunc(*ev)
	}
}

// continueRun resumes a run after a decision or signal unless it is
// terminal or a live process owns it (that process polls the store).
func (e *Engine) continueRun(ctx context.Context, runID string, cont bool) (*Result, error) {
	run, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: run %s: %w", runID, err)
	}
	if !cont || run.Status.Terminal() {
		return resultOf(run), nil
	}
	if _, err := e.checkOwner(run); err != nil {
		res := resultOf(run) // a live owner continues it
		res.LiveOwner = run.Owner
		return res, nil
	}
	res, err := e.Resume(ctx, runID, ResumeParams{Wait: WaitAuto})
	if errors.Is(err, ErrRunLive) {
		res := resultOf(run)
		res.LiveOwner = run.Owner
		return res, nil
	}
	if err == nil && run.ParentRunID != "" && res.Status.Terminal() {
		// A child run that ended continues the parent waiting on it; the
		// result is then the parent's.
		return e.continueRun(ctx, run.ParentRunID, true)
	}
	return res, err
}

// Cancel cancels a run. A run executing in this engine is cancelled at
// once; one executing in another process sees the request within a poll
// interval (the request goes through the store); a run nobody executes
// (waiting, or left by a dead process) is marked cancelled here. In-flight
// attempts are cancelled (actions kill their process groups), their nodes
// emit NodeCancelled, and the run ends cancelled; it can be resumed.
func (e *Engine) Cancel(ctx context.Context, runID string) (*Result, error) {
	run, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: cancel: %w", err)
	}
	if run.Status.Terminal() {
		return resultOf(run), nil
	}
	now := e.now()
	if run, err = e.cfg.Store.RunCancelRequest(ctx, &store.RunCancelRequestParams{ID: runID, Now: now}); err != nil {
		return nil, fmt.Errorf("runtime: cancel: %w", err)
	}
	e.mu.Lock()
	cancel := e.live[runID]
	e.mu.Unlock()
	if cancel != nil {
		cancel(errCancelRequested)
		return resultOf(run), nil
	}
	if _, err := e.checkOwner(run); err != nil {
		return resultOf(run), nil // the live owner polls the request
	}
	ev := &store.Event{RunID: runID, Kind: EventRunCancelled, Time: now, Data: mustJSON(map[string]any{"status": store.RunCancelled})}
	st := store.RunCancelled
	b := &store.Batch{
		Runs: []*store.RunUpdateParams{{ID: runID, Status: &st, Error: ptr("cancelled"), Owner: ptr(""), OwnerStart: ptr(""),
			FinishedAt: &now, Now: now}},
		Events: []*store.Event{ev},
	}
	if err := e.cfg.Store.BatchCommit(ctx, b); err != nil {
		return nil, fmt.Errorf("runtime: cancel: %w", err)
	}
	e.observe(ev)
	run.Status, run.Error = st, "cancelled"
	return resultOf(run), nil
}

// Pause stops a run from scheduling new attempts: the attempts running
// finish and are persisted, then the session ends with status paused;
// Resume continues it. The request goes through the store, so it works on
// a run executing in another process (it sees it within a poll
// interval); a run nobody executes (waiting, or left by a dead process)
// is marked paused here. Pausing a terminal run changes nothing.
func (e *Engine) Pause(ctx context.Context, runID string) (*Result, error) {
	run, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: pause: %w", err)
	}
	if run.Status.Terminal() || run.Status == store.RunPaused {
		return resultOf(run), nil
	}
	now := e.now()
	if run, err = e.cfg.Store.RunUpdate(ctx, &store.RunUpdateParams{ID: runID, PauseRequested: ptr(true), Now: now}); err != nil {
		return nil, fmt.Errorf("runtime: pause: %w", err)
	}
	e.mu.Lock()
	_, here := e.live[runID]
	e.mu.Unlock()
	if _, err := e.checkOwner(run); here || err != nil {
		res := resultOf(run) // the live owner polls the request
		res.LiveOwner = run.Owner
		return res, nil
	}
	ev := &store.Event{RunID: runID, Kind: EventRunPaused, Time: now, Data: mustJSON(map[string]any{"status": store.RunPaused})}
	b := &store.Batch{
		Runs:   []*store.RunUpdateParams{{ID: runID, Status: ptr(store.RunPaused), Owner: ptr(""), OwnerStart: ptr(""), Now: now}},
		Events: []*store.Event{ev},
	}
	if err := e.cfg.Store.BatchCommit(ctx, b); err != nil {
		return nil, fmt.Errorf("runtime: pause: %w", err)
	}
	e.observe(ev)
	run.Status = store.RunPaused
	return resultOf(run), nil
}

// Retry resets nodeID, everything inside it, every node that depends on
// it by graph edges (transitively) and the control nodes that enclose
// them, then resumes the run. The other finished nodes stay as they are.
// A denied approval is re-opened this way.
func (e *Engine) Retry(ctx context.Context, runID, nodeID string, p ResumeParams) (*Result, error) {
	run, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: retry: %w", err)
	}
	if _, err := e.checkOwner(run); err != nil {
		return nil, err
	}
	_, wf, _, _, err := e.programOf(ctx, run, p)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	wf.Lookup("")
	e.mu.Unlock()
	n := wf.Lookup(nodeID)
	if n == nil {
		return nil, &UnknownNodeError{RunID: runID, Workflow: wf.Name, Node: nodeID}
	}
	ids := resetSet(wf, n)
	if p.Scope == "" {
		if _, err := e.cfg.Store.NodeReset(ctx, &store.NodeResetParams{RunID: runID, NodeIDs: ids}); err != nil {
			return nil, fmt.Errorf("runtime: retry: %w", err)
		}
	} else if err := e.resetScoped(ctx, run, wf, n, ids, p.Scope); err != nil {
		return nil, err
	}
	if run.Status == store.RunFinished {
		st := store.RunRunning
		if _, err := e.cfg.Store.RunUpdate(ctx, &store.RunUpdateParams{ID: runID, Status: &st, Now: e.now()}); err != nil {
			return nil, fmt.Errorf("runtime: retry: %w", err)
		}
	}
	return e.Resume(ctx, runID, p)
}

// resetScoped resets one instance of n (the one at scope) and what
// depends on it inside the same element of the innermost for or loop
// around n; the nodes of ids outside that element (the for or loop
// itself, what follows it) are reset whole, so that the run goes back
// into the element.
func (e *Engine) resetScoped(ctx context.Context, run *store.Run, wf *ir.Workflow, n *ir.Node, ids []string, scope string) error {
	var rep *ir.Node
	e.mu.Lock()
	anc := ancestors(n)
	e.mu.Unlock()
	for i := len(anc) - 1; i >= 0; i-- {
		if anc[i].Kind == ir.KindFor || anc[i].Kind == ir.KindLoop {
			rep = anc[i]
			break
		}
	}
	if rep == nil {
		return fmt.Errorf("runtime: retry %s of run %s: %w: the node is not inside a for or loop, so it has no instance to pick with a scope",
			n.ID, run.ID, ErrUnknownNode)
	}
	rows, err := e.cfg.Store.NodeList(ctx, &store.NodeListParams{RunID: run.ID})
	if err != nil {
		return fmt.Errorf("runtime: retry: %w", err)
	}
	var have []string
	found := false
	for _, r := range rows {
		if r.NodeID == n.ID {
			have = append(have, r.Scope)
			found = found || r.Scope == scope
		}
	}
	if !found {
		return fmt.Errorf("runtime: retry %s of run %s: %w: no instance at scope %q; its instances: %s", n.ID, run.ID, ErrUnknownNode, scope, strings.Join(have, ", "))
	}
	var inside, outside []string
	e.mu.Lock()
	for _, id := range ids {
		m := wf.Lookup(id)
		in := false
		if m != nil {
			for _, a := range ancestors(m) {
				in = in || a == rep
			}
		}
		if in {
			inside = append(inside, id)
		} else {
			outside = append(outside, id)
		}
	}
	e.mu.Unlock()
	if _, err := e.cfg.Store.NodeReset(ctx, &store.NodeResetParams{RunID: run.ID, NodeIDs: inside, Scope: scope}); err != nil {
		return fmt.Errorf("runtime: retry: %w", err)
	}
	if _, err := e.cfg.Store.NodeReset(ctx, &store.NodeResetParams{RunID: run.ID, NodeIDs: outside}); err != nil {
		return fmt.Errorf("runtime: retry: %w", err)
	}
	return nil
}

// resetSet returns the ids Retry resets for n.
func resetSet(wf *ir.Workflow, n *ir.Node) []string {
	in := map[*ir.Node]bool{}
	add := func(m *ir.Node) bool {
		if in[m] {
			return false
		}
		ir.Walk(m, func(d *ir.Node) bool { in[d] = true; return true })
		return true
	}
	add(n)
	for changed := true; changed; {
		changed = false
		anc := map[string]bool{}
		for m := range in {
			anc[m.ID] = true
			for _, a := range ancestors(m) {
				anc[a.ID] = true
			}
		}
		ir.Walk(wf.Root, func(m *ir.Node) bool {
			if in[m] {
				return true
			}
			for _, d := range m.Deps {
				if anc[d] && add(m) {
					changed = true
					break
				}
			}
			return true
		})
	}
	set := map[string]bool{}
	for m := range in {
		set[m.ID] = true
		for _, a := range ancestors(m) {
			set[a.ID] = true
		}
	}
	delete(set, "")
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	return ids
}

// call runs a child workflow of the same program as a durable child run
// whose id derives from the calling instance, so that a resumed parent
// resumes the same child.
func (r *runner) call(ctx context.Context, in *instance, workflow string, input any) (any, error) {
	id := r.run.ID + "." + in.node.ID
	if in.scope != "" {
		id += "[" + in.scope + "]"
	}
	var res *Result
	_, err := r.e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: id})
	switch {
	case err == nil:
		res, err = r.e.Resume(ctx, id, ResumeParams{Program: r.prog, Sources: r.srcs, Wait: r.mode})
	case errors.Is(err, store.ErrNotFound):
		m, ok := input.(map[string]any)
		if !ok && input != nil {
			return nil, &StepError{Kind: ErrKindInternal, Message: fmt.Sprintf("call %s: the input is not an object", workflow)}
		}
		res, err = r.e.Start(ctx, StartParams{Program: r.prog, Workflow: workflow, Input: m, RunID: id, SourcePath: r.run.SourcePath,
			Sources: r.srcs, Wait: r.mode, ParentRunID: r.run.ID, ParentNode: in.node.ID})
	}
	if err != nil {
		return nil, &StepError{Kind: ErrKindInternal, Message: fmt.Sprintf("call %s: %v", workflow, err), Err: err}
	}
	switch {
	case res.Status == store.RunFinished:
		return res.Output, nil
	case res.Status.Waiting():
		// The calling step waits with the child: the parent run reads
		// as waiting, and continuing the child continues the parent.
		return nil, &StepError{Kind: ErrKindInternal, Message: fmt.Sprintf("child run %s is %s", id, res.Status),
			Err: &childWaiting{id: id, status: res.Status}}
	}
	return nil, &StepError{Kind: ErrKindInternal, Message: fmt.Sprintf("child run %s %s: %s", id, res.Status, res.Error), Retry: true}
}

// childWaiting marks a call attempt whose child run waits.
type childWaiting struct {
	id     string
	status store.RunStatus
}

func (c *childWaiting) Error() string { return "child run " + c.id + " is " + string(c.status) }

// checkDecision validates an approval's data against the approval's
// output type when the run's program can be compiled (CompileFunc);
// without it, the run validates the decision when it applies it.
func (e *Engine) checkDecision(ctx context.Context, runID, nodeID string, d Decision) error {
	if e.cfg.CompileFunc == nil {
		return nil
	}
	// Only a pending approval is validated: deciding one that is decided
	// or absent is reported by the store.
	aps, err := e.cfg.Store.ApprovalList(ctx, &store.ApprovalListParams{RunID: runID})
	if err != nil {
		return fmt.Errorf("runtime: run %s: %w", runID, err)
	}
	pending := false
	for _, ap := range aps {
		pending = pending || ap.NodeID == nodeID && !ap.Decided
	}
	if !pending {
		return nil
	}
	run, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return fmt.Errorf("runtime: run %s: %w", runID, err)
	}
	prog, _, err := e.storedProgram(ctx, run)
	if err != nil {
		return nil // the run reports it when continued; the decision is still worth recording
	}
	wf := prog.Workflow(run.Workflow)
	if wf == nil {
		return nil
	}
	e.mu.Lock()
	n := wf.Lookup(nodeID)
	e.mu.Unlock()
	if n == nil || n.Kind != ir.KindApproval || n.Output == nil {
		return nil
	}
	out := map[string]any{}
	for k, v := range d.Data {
		out[k] = schema.Canonical(v)
	}
	out["approved"], out["by"], out["note"] = true, d.By, d.Note
	if _, err := schema.Normalize(n.Output, out, nodeID); err != nil {
		return fmt.Errorf("runtime: approval %s: %w: %v", nodeID, ErrInvalidDecision, err)
	}
	return nil
}
