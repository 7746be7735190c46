package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
)

// This file keeps agent sessions durable: the session an agent attempt
// runs in is recorded as soon as its CLI reports it (so that the attempt
// after a crash continues it), and `smithc hijack` hands a running
// attempt's session to a person (the attempt ends cancelled with a
// handoff record; the next attempt continues the session).

// AgentSession is the session of an agent CLI an attempt runs in, as the
// agent action reports it (Attempt.ReportSession).
type AgentSession struct {
	Agent string `json:"agent"` // the agent declaration's name
	Kind  string `json:"kind"`  // claude, codex or gemini
	ID    string `json:"id"`    // the CLI's session (thread) id
	// CLI is the program the attempt ran (a resolved path).
	CLI string `json:"cli,omitempty"`
	// Dir is the directory the CLI works in: the step's, its worktree's,
	// or the agent's cwd. The CLIs keep sessions per directory.
	Dir string `json:"dir"`
	// Env are the agent's own env settings that hold no secret (the CLIs
	// find their sessions under HOME, CLAUDE_CONFIG_DIR, CODEX_HOME...).
	Env map[string]string `json:"env,omitempty"`
	// SecretEnv names the agent's env settings left out of Env because
	// they hold a secret.
	SecretEnv []string `json:"secret_env,omitempty"`
	// Attempt is the attempt that reported the session (set by the
	// runtime).
	Attempt int `json:"attempt"`
}

// ContinuedSession is the session of an earlier attempt of the step that
// was interrupted: handed to a person (Hijacked) or stopped because the
// process executing the run died. The attempt after it continues that
// session rather than starting the work over.
type ContinuedSession struct {
	AgentSession
	Hijacked bool
}

// Handoff is the record of a hijack: which attempt's agent session was
// handed to a person, when, and by whom. The node's data keeps the last
// one (NodeView.Handoff, Engine.Handoffs); the AttemptHijacked event
// keeps each.
type Handoff struct {
	RunID   string       `json:"run_id"`
	NodeID  string       `json:"node_id"`
	Scope   string       `json:"scope,omitempty"`
	Attempt int          `json:"attempt"`
	Session AgentSession `json:"session"`
	// By is the process that asked for it (pid@host).
	By string `json:"by"`
	// Request identifies the request that made it.
	Request string    `json:"request"`
	Time    time.Time `json:"time"`
}

// Event kinds of sessions and hijacks.
const (
	// EventAgentSession: an agent attempt's CLI reported its session.
	EventAgentSession = "AgentSession"
	// EventHijackRequested: smithc hijack asked the run's owner to hand
	// a node's session over.
	EventHijackRequested = "HijackRequested"
	// EventAttemptHijacked: the attempt ended cancelled and its session
	// was handed over (the data is the Handoff).
	EventAttemptHijacked = "AttemptHijacked"
	// EventHijackFailed: the owner could not hand the session over (the
	// step ended first); the run is cancelled as asked.
	EventHijackFailed = "HijackFailed"
)

// ErrNoSession is returned (wrapped, saying why) by Hijack when there is
// no agent session to hand over.
var ErrNoSession = errors.New("no agent session to hijack")

// errHijacked is the cancel cause of a session whose attempt was handed
// to a person.
var errHijacked = errors.New("hijacked")

// stepData is what the runtime keeps in an agent step's node data.
type stepData struct {
	Session *AgentSession `json:"agent_session,omitempty"`
	Handoff *Handoff      `json:"handoff,omitempty"`
}

// readStepData decodes a step's node data (zero when there is none).
func readStepData(raw json.RawMessage) stepData {
	var d stepData
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &d) // data of another shape holds neither
	}
	return d
}

// withStepData returns raw with the fields of d set, other keys kept.
func withStepData(raw json.RawMessage, d stepData) json.RawMessage {
	m := map[string]json.RawMessage{}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &m) // data that is not an object is replaced
	}
	if d.Session != nil {
		m["agent_session"] = mustJSON(d.Session)
	}
	if d.Handoff != nil {
		m["handoff"] = mustJSON(d.Handoff)
	}
	return mustJSON(m)
}

// ReportSession records the agent session the attempt runs in; it waits
// until that is durable, so that an attempt after a crash of this
// process continues the session. Agent actions call it as soon as the
// CLI reports its session id.
func (a *Attempt) ReportSession(s AgentSession) {
	if a != nil && a.SessionFunc != nil && s.ID != "" {
		a.SessionFunc(s)
	}
}

// reportSession records attempt num's session in the node's data, with an
// AgentSession event.
func (r *runner) reportSession(ctx context.Context, in *instance, num int, s AgentSession) {
	s.Attempt = num
	row := r.update(in, func(row *store.Node) { row.Data = withStepData(row.Data, stepData{Session: &s}) })
	_ = r.c.commit(context.WithoutCancel(ctx), &store.Batch{Nodes: []*store.Node{row}, Events: []*store.Event{sessionEvent(r, in, s)}}) // a failed commit stops the session anyway
}

// reportTaskSession records the session of an attempt a worker executes
// (step distribution): the worker does not write the holder's node rows,
// so the session is on record in the AgentSession event, which the
// holder and Hijack read (sessionsInLog).
func (r *runner) reportTaskSession(ctx context.Context, in *instance, num int, s AgentSession) {
	s.Attempt = num
	_ = r.c.commit(context.WithoutCancel(ctx), &store.Batch{Events: []*store.Event{sessionEvent(r, in, s)}}) // best effort: only a hijack reads it
}

// sessionEvent is the AgentSession event of s.
func sessionEvent(r *runner, in *instance, s AgentSession) *store.Event {
	d := map[string]any{"agent": s.Agent, "kind": s.Kind, "session_id": s.ID, "dir": s.Dir, "cli": s.CLI}
	if len(s.Env) > 0 {
		d["env"] = s.Env
	}
	if len(s.SecretEnv) > 0 {
		d["secret_env"] = s.SecretEnv
	}
	return r.event(EventAgentSession, in, s.Attempt, d)
}

// sessionsInLog returns the sessions the AgentSession events of evs
// record, by instance key and attempt.
func sessionsInLog(evs []*store.Event) map[string]*AgentSession {
	out := map[string]*AgentSession{}
	for _, ev := range evs {
		if ev.Kind != EventAgentSession {
			continue
		}
		var d struct {
			Agent     string            `json:"agent"`
			Kind      string            `json:"kind"`
			ID        string            `json:"session_id"`
			Dir       string            `json:"dir"`
			CLI       string            `json:"cli"`
			Env       map[string]string `json:"env"`
			SecretEnv []string          `json:"secret_env"`
		}
		if json.Unmarshal(ev.Data, &d) != nil || d.ID == "" {
			continue
		}
		out[sessionKey(ev.NodeID, ev.Scope, ev.Attempt)] = &AgentSession{Agent: d.Agent, Kind: d.Kind, ID: d.ID, Dir: d.Dir, CLI: d.CLI,
			Env: d.Env, SecretEnv: d.SecretEnv, Attempt: ev.Attempt}
	}
	return out
}

func sessionKey(node, scope string, attempt int) string {
	return fmt.Sprintf("%s\x00%s\x00%d", node, scope, attempt)
}

// continued returns the session attempt num continues: the one of the
// attempt before it when that one was hijacked or abandoned by a dead
// process; nil otherwise.
func (r *runner) continued(in *instance, num int) *ContinuedSession {
	r.mu.Lock()
	d := readStepData(in.row.Data)
	abandoned := r.abandoned[instKey(in.node.ID, in.scope)]
	r.mu.Unlock()
	if d.Session == nil || d.Session.Attempt != num-1 {
		return nil
	}
	switch {
	case d.Handoff != nil && d.Handoff.Attempt == num-1:
		return &ContinuedSession{AgentSession: *d.Session, Hijacked: true}
	case abandoned == num-1:
		return &ContinuedSession{AgentSession: *d.Session}
	}
	return nil
}

// takeHijack is called when the run's cancel was requested: when the
// request is a hijack, it records the handoff of the attempt's session
// and returns true; the caller then cancels the session with
// errHijacked. A hijack whose step ended first is logged
// (HijackFailed) and the run is cancelled as asked.
func (r *runner) takeHijack(ctx context.Context) bool {
	// The log is read once per cancel request; a hijack request counts
	// while it is unanswered and its client still waits for it.
	evs, err := r.e.cfg.Store.EventList(ctx, &store.EventListParams{RunID: r.run.ID})
	if err != nil {
		return false
	}
	var req *store.Event
	var rd hijackRequest
	answered := map[string]bool{}
	for _, ev := range evs {
		switch ev.Kind {
		case EventHijackRequested:
			req = ev
		case EventAttemptHijacked, EventHijackFailed:
			var d hijackRequest
			if json.Unmarshal(ev.Data, &d) == nil {
				answered[d.Request] = true
			}
		}
	}
	if req == nil || json.Unmarshal(req.Data, &rd) != nil || answered[rd.Request] || !r.e.now().Before(rd.Expires) {
		return false
	}
	fail := func(reason string) bool {
		r.c.write(&store.Batch{Events: []*store.Event{{RunID: r.run.ID, NodeID: req.NodeID, Scope: req.Scope, Kind: EventHijackFailed,
			Time: r.e.now(), Data: mustJSON(map[string]any{"request": rd.Request, "reason": reason})}}})
		return false
	}
	r.mu.Lock()
	in := r.insts[instKey(req.NodeID, req.Scope)]
	var d stepData
	var st store.NodeState
	var num int
	if in != nil {
		d, st, num = readStepData(in.row.Data), in.row.State, in.row.Attempts
	}
	r.mu.Unlock()
	if d.Session == nil || d.Session.Attempt != num {
		d.Session = sessionsInLog(evs)[sessionKey(req.NodeID, req.Scope, num)] // a worker executes it
	}
	switch {
	case in == nil || st != store.NodeRunning:
		return fail(fmt.Sprintf("step %s is not running", instLabel(req.NodeID, req.Scope)))
	case d.Session == nil:
		return fail(fmt.Sprintf("attempt %d of step %s has not reported its agent session", num, instLabel(req.NodeID, req.Scope)))
	}
	h := &Handoff{RunID: r.run.ID, NodeID: req.NodeID, Scope: req.Scope, Attempt: num, Session: *d.Session,
		By: rd.By, Request: rd.Request, Time: r.e.now()}
	row := r.update(in, func(row *store.Node) { row.Data = withStepData(row.Data, stepData{Session: d.Session, Handoff: h}) })
	ev := r.event(EventAttemptHijacked, in, num, handoffData(h))
	if err := r.c.commit(context.WithoutCancel(ctx), &store.Batch{Nodes: []*store.Node{row}, Events: []*store.Event{ev}}); err != nil {
		return false
	}
	r.mu.Lock()
	r.hijacked = h
	r.mu.Unlock()
	return true
}

// hijackRequest is the data of a HijackRequested event (and the request
// field of its answer).
type hijackRequest struct {
	Request string    `json:"request"`
	By      string    `json:"by"`
	Expires time.Time `json:"expires"`
}

// handoffData is a Handoff as event data.
func handoffData(h *Handoff) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(mustJSON(h), &m) // a Handoff always round-trips
	return m
}

// hijackMessage is the error of a hijacked attempt and of its run.
func hijackMessage(h *Handoff) string {
	if h == nil {
		return "hijacked: its agent session was handed to a person (smithc hijack)"
	}
	return fmt.Sprintf("hijacked: step %s's %s session %s was handed to a person (smithc hijack); `smithc resume %s` continues the step in that session",
		instLabel(h.NodeID, h.Scope), h.Session.Kind, h.Session.ID, h.RunID)
}

func instLabel(node, scope string) string {
	if scope == "" {
		return node
	}
	return node + " [" + scope + "]"
}

// HijackParams are the arguments of Hijack.
type HijackParams struct {
	// NodeID is the agent step to hijack; "": the run's only agent step
	// with a session.
	NodeID string
	// Scope picks one instance of a step inside a for or loop.
	Scope string
	// Wait bounds how long Hijack waits for the running attempt to report
	// its session and for the process executing the run to hand it over
	// (0: 30 seconds).
	Wait time.Duration
}

// Hijack hands the agent session of a step to a person: the running
// attempt ends cancelled, the run ends cancelled, and a Handoff is
// recorded (node data, AttemptHijacked event) and returned; the caller
// opens the session (stdlib.InteractiveCommand). The next attempt of the
// step, after Resume, continues that session instead of starting over.
// A run executed by another process gets the request through the store
// (like Cancel); that process ends the attempt. A run nobody executes
// (its process died, or it failed or was cancelled) is handed over here
// from the session its last attempt reported, so that a person can
// finish a step by hand. Errors wrap ErrNoSession (nothing to hand over)
// or ErrAmbiguous (several steps could be meant).
func (e *Engine) Hijack(ctx context.Context, runID string, p HijackParams) (*Handoff, error) {
	wait := p.Wait
	if wait <= 0 {
		wait = 30 * time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		run, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
		if err != nil {
			return nil, fmt.Errorf("runtime: hijack: %w", err)
		}
		if run.Status == store.RunFinished {
			return nil, fmt.Errorf("runtime: hijack run %s: %w: the run is finished", runID, ErrNoSession)
		}
		_, ownErr := e.checkOwner(run)
		live := ownErr != nil
		row, err := e.hijackTarget(ctx, run, p, live)
		var pending *pendingSession
		if errors.As(err, &pending) && time.Now().Before(deadline) {
			if err := sleepCtx(ctx, e.cfg.PollInterval); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if live {
			return e.requestHijack(ctx, run, row, deadline)
		}
		return e.handOver(ctx, run, row)
	}
}

// pendingSession: what to hijack may come (the step runs but has not
// reported its session yet, or no agent step runs yet in a live run).
type pendingSession struct{ msg string }

func (p *pendingSession) Error() string { return p.msg }

// hijackTarget picks the node instance to hijack.
func (e *Engine) hijackTarget(ctx context.Context, run *store.Run, p HijackParams, live bool) (*store.Node, error) {
	rows, err := e.cfg.Store.NodeList(ctx, &store.NodeListParams{RunID: run.ID})
	if err != nil {
		return nil, fmt.Errorf("runtime: hijack run %s: %w", run.ID, err)
	}
	wf := e.workflowOf(ctx, run)
	isAgent := func(id string) bool {
		if wf == nil {
			return true // unknown: any step may be one
		}
		n := e.lookup(wf, id)
		return n != nil && n.Kind == ir.KindStep && n.Step != nil && n.Step.Action == "agent"
	}
	if p.NodeID != "" && wf != nil && e.lookup(wf, p.NodeID) == nil {
		return nil, &UnknownNodeError{RunID: run.ID, Workflow: wf.Name, Node: p.NodeID}
	}
	if p.NodeID != "" && !isAgent(p.NodeID) {
		return nil, fmt.Errorf("runtime: hijack run %s: %w: %s is not an agent step", run.ID, ErrNoSession, p.NodeID)
	}
	var cands []*store.Node
	var waiting, seen []string
	var logged map[string]*AgentSession // read once, when a running step's row has no session (a worker runs it)
	for _, n := range rows {
		if (p.NodeID != "" && n.NodeID != p.NodeID) || (p.Scope != "" && n.Scope != p.Scope) || n.Kind != "step" || !isAgent(n.NodeID) {
			continue
		}
		seen = append(seen, fmt.Sprintf("%s (%s)", instLabel(n.NodeID, n.Scope), n.State))
		d := readStepData(n.Data)
		if live && n.State == store.NodeRunning && (d.Session == nil || d.Session.Attempt != n.Attempts) {
			if logged == nil {
				evs, err := e.cfg.Store.EventList(ctx, &store.EventListParams{RunID: run.ID})
				if err != nil {
					return nil, fmt.Errorf("runtime: hijack run %s: %w", run.ID, err)
				}
				logged = sessionsInLog(evs)
			}
			if s := logged[sessionKey(n.NodeID, n.Scope, n.Attempts)]; s != nil {
				d.Session = s
			}
		}
		switch {
		case n.State == store.NodeFinished || n.State == store.NodeSkipped:
		case live && n.State == store.NodeRunning && (d.Session == nil || d.Session.Attempt != n.Attempts):
			waiting = append(waiting, instLabel(n.NodeID, n.Scope))
		case live && n.State != store.NodeRunning:
		case d.Session != nil:
			cands = append(cands, n)
		}
	}
	switch {
	case len(cands) == 1:
		return cands[0], nil
	case len(cands) > 1:
		names := make([]string, len(cands))
		for i, c := range cands {
			names[i] = instLabel(c.NodeID, c.Scope)
		}
		sort.Strings(names)
		hint := "name one: smithc hijack " + run.ID + " NODE"
		if p.NodeID != "" {
			hint = "pick one with --scope"
		}
		return nil, fmt.Errorf("runtime: hijack run %s: %w: several agent steps have a session (%s); %s", run.ID, ErrAmbiguous, strings.Join(names, ", "), hint)
	case len(waiting) > 0:
		return nil, &pendingSession{msg: fmt.Sprintf("runtime: hijack run %s: step %s is running but its agent has not reported a session yet",
			run.ID, strings.Join(waiting, ", "))}
	}
	what := "no agent step of run " + run.ID
	if p.NodeID != "" {
		what = "step " + instLabel(p.NodeID, p.Scope)
	}
	switch {
	case len(seen) == 0 && live:
		return nil, &pendingSession{msg: fmt.Sprintf("runtime: hijack: %s is running", what)}
	case len(seen) == 0:
		return nil, fmt.Errorf("runtime: hijack: %w: %s has started", ErrNoSession, what)
	case live:
		return nil, fmt.Errorf("runtime: hijack: %w: %s is running an agent session (%s)", ErrNoSession, what, strings.Join(seen, ", "))
	}
	return nil, fmt.Errorf("runtime: hijack: %w: %s has an agent session left to continue (%s)", ErrNoSession, what, strings.Join(seen, ", "))
}

// requestHijack asks the live owner of run to hand row's session over and
// waits until it has.
func (e *Engine) requestHijack(ctx context.Context, run *store.Run, row *store.Node, deadline time.Time) (*Handoff, error) {
	req := newRequestID()
	now := e.now()
	ev := &store.Event{RunID: run.ID, NodeID: row.NodeID, Scope: row.Scope, Kind: EventHijackRequested, Time: now,
		Data: mustJSON(hijackRequest{Request: req, By: e.cfg.Owner.String(), Expires: now.Add(time.Until(deadline))})}
	if err := e.cfg.Store.EventAppend(ctx, &store.EventAppendParams{Events: []*store.Event{ev}}); err != nil {
		return nil, fmt.Errorf("runtime: hijack run %s: %w", run.ID, err)
	}
	e.observe(ev)
	if _, err := e.cfg.Store.RunCancelRequest(ctx, &store.RunCancelRequestParams{ID: run.ID, Now: now}); err != nil {
		return nil, fmt.Errorf("runtime: hijack run %s: %w", run.ID, err)
	}
	// The owner, this engine's own session included, polls the store.
	for {
		n, err := e.cfg.Store.NodeGet(ctx, &store.NodeGetParams{RunID: run.ID, NodeID: row.NodeID, Scope: row.Scope})
		if err != nil {
			return nil, fmt.Errorf("runtime: hijack run %s: %w", run.ID, err)
		}
		if d := readStepData(n.Data); d.Handoff != nil && d.Handoff.Request == req {
			return d.Handoff, nil
		}
		cur, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: run.ID})
		if err != nil {
			return nil, fmt.Errorf("runtime: hijack run %s: %w", run.ID, err)
		}
		if cur.Status.Terminal() || cur.Owner == "" {
			return nil, fmt.Errorf("runtime: hijack run %s: %w: step %s ended before its session could be handed over; the run is %s (smithc resume %s continues it)",
				run.ID, ErrNoSession, instLabel(row.NodeID, row.Scope), cur.Status, run.ID)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("runtime: hijack run %s: process %s did not hand step %s over in time; its cancel is requested",
				run.ID, cur.Owner, instLabel(row.NodeID, row.Scope))
		}
		if err := sleepCtx(ctx, e.cfg.PollInterval); err != nil {
			return nil, err
		}
	}
}

// handOver records the handoff of a run nobody executes: the session the
// node's last attempt reported; an attempt its dead owner left running
// ends cancelled, and so does the run.
func (e *Engine) handOver(ctx context.Context, run *store.Run, row *store.Node) (*Handoff, error) {
	d := readStepData(row.Data)
	now := e.now()
	h := &Handoff{RunID: run.ID, NodeID: row.NodeID, Scope: row.Scope, Attempt: d.Session.Attempt, Session: *d.Session,
		By: e.cfg.Owner.String(), Request: newRequestID(), Time: now}
	nr := *row
	nr.Data = withStepData(row.Data, stepData{Handoff: h})
	nr.UpdatedAt = now
	b := &store.Batch{
		Fence: &store.Fence{RunID: run.ID, Owner: run.Owner, Token: run.Fence},
		Nodes: []*store.Node{&nr},
	}
	atts, err := e.cfg.Store.AttemptList(ctx, &store.AttemptListParams{RunID: run.ID, State: store.AttemptRunning})
	if err != nil {
		return nil, fmt.Errorf("runtime: hijack run %s: %w", run.ID, err)
	}
	for _, a := range atts {
		if a.NodeID == row.NodeID && a.Scope == row.Scope {
			e.killLeftover(a)
			b.AttemptFinishes = append(b.AttemptFinishes, &store.AttemptFinishParams{RunID: run.ID, NodeID: a.NodeID, Scope: a.Scope,
				Number: a.Number, State: store.AttemptCancelled, Error: hijackMessage(h), ErrorKind: ErrKindCancelled, Now: now})
		}
	}
	b.Events = append(b.Events, &store.Event{RunID: run.ID, NodeID: row.NodeID, Scope: row.Scope, Attempt: h.Attempt,
		Kind: EventAttemptHijacked, Time: now, Data: mustJSON(handoffData(h))})
	if run.Status == store.RunRunning {
		// Left by a dead process: the run ends cancelled, as when its
		// owner hands the session over.
		b.Runs = append(b.Runs, &store.RunUpdateParams{ID: run.ID, Status: ptr(store.RunCancelled), Error: ptr(hijackMessage(h)),
			Owner: ptr(""), OwnerStart: ptr(""), LeaseExpiresAt: ptr(time.Time{}), FinishedAt: &now, Now: now})
		b.Events = append(b.Events, &store.Event{RunID: run.ID, Kind: EventRunCancelled, Time: now,
			Data: mustJSON(map[string]any{"status": store.RunCancelled, "error": hijackMessage(h)})})
	}
	if err := e.cfg.Store.BatchCommit(ctx, b); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("runtime: hijack run %s: %w: another process took the run over; try again", run.ID, ErrRunLive)
		}
		return nil, fmt.Errorf("runtime: hijack run %s: %w", run.ID, err)
	}
	for _, ev := range b.Events {
		e.observe(ev)
	}
	return h, nil
}

// Handoffs returns the last handoff of each node instance of a run that
// was hijacked, ordered by node and scope.
func (e *Engine) Handoffs(ctx context.Context, runID string) ([]*Handoff, error) {
	rows, err := e.cfg.Store.NodeList(ctx, &store.NodeListParams{RunID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: handoffs of run %s: %w", runID, err)
	}
	var out []*Handoff
	for _, n := range rows {
		if d := readStepData(n.Data); d.Handoff != nil {
			out = append(out, d.Handoff)
		}
	}
	return out, nil
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand does not fail on Linux
	return hex.EncodeToString(b)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
