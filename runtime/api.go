package runtime

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// WaitMode tells a session how far to wait (LANGUAGE.md §9).
type WaitMode int

// Wait modes.
const (
	// WaitAuto waits for timers in-process and returns at approvals and
	// events with status waiting-approval or waiting-event.
	WaitAuto WaitMode = iota
	// WaitNever returns at the first wait of any kind, timers included.
	WaitNever
	// WaitAlways waits for everything, polling the store for decisions
	// and signals.
	WaitAlways
)

var waitModeNames = map[WaitMode]string{WaitAuto: "auto", WaitNever: "never", WaitAlways: "always"}

// String returns "auto", "never" or "always".
func (m WaitMode) String() string {
	if s, ok := waitModeNames[m]; ok {
		return s
	}
	return fmt.Sprintf("WaitMode(%d)", int(m))
}

// ParseWaitMode reads "auto", "never" or "always".
func ParseWaitMode(s string) (WaitMode, error) {
	for m, n := range waitModeNames {
		if n == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("runtime: wait mode %q: want auto, always or never", s)
}

// MaxRunIDLength bounds the length of a run id a caller chooses.
const MaxRunIDLength = 100

// ErrInvalidRunID is returned (wrapped, saying why) for a run id a caller
// chose that is not letters, digits, "_" and "-" (at most
// MaxRunIDLength); "." and "[" are kept for the ids of child runs.
var ErrInvalidRunID = errors.New("invalid run id")

// ValidateRunID checks a run id a caller chose (see ErrInvalidRunID).
func ValidateRunID(id string) error {
	if id == "" || len(id) > MaxRunIDLength {
		return fmt.Errorf("runtime: run id %q: %w: it must have 1 to %d characters: letters, digits, \"_\" and \"-\"", id, ErrInvalidRunID, MaxRunIDLength)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("runtime: run id %q: %w: %q is not allowed; use letters, digits, \"_\" and \"-\" (\".\" is kept for child runs)", id, ErrInvalidRunID, c)
		}
	}
	return nil
}

// ErrRunLive is returned (wrapped, naming the owner) when a run is being
// executed by another live process or by this engine.
var ErrRunLive = errors.New("run is live")

// Result is where a run stands when a call returns.
type Result struct {
	RunID  string
	Status store.RunStatus
	Output any    // the run's result once finished
	Error  string // why it failed or was cancelled
	// LiveOwner is set by Approve, Deny and Signal when another live
	// process (or engine) executes the run and will pick the decision or
	// signal up itself: "pid@host".
	LiveOwner string
	// TimedOut: the run failed or was cancelled at its deadline; resume
	// it with a new Timeout to continue it.
	TimedOut bool
	// Warnings are things the caller should be told that did not stop
	// the call (a signal no event of the workflow takes).
	Warnings []string
}

// resultOf reads a Result from a run row.
func resultOf(run *store.Run) *Result {
	return &Result{RunID: run.ID, Status: run.Status, Output: decodeOutput(nil, run.Output), Error: run.Error,
		TimedOut: !run.Status.Waiting() && strings.HasPrefix(run.Error, runTimeoutPrefix)}
}

// StartParams are the arguments of Start.
type StartParams struct {
	Program  *ir.Program
	Workflow string         // "": the program's only workflow
	Input    map[string]any // validated and defaulted against the workflow's input
	RunID    string         // "": generated
	// SourcePath is recorded for people (inspect, ps): where the main
	// file was when the run started. The run never reads it again.
	SourcePath string
	// Sources are the files of Program (main file first), stored with the
	// run so that it can be continued from that copy (see Source); nil:
	// the run can only be continued by a caller passing the Program.
	Sources []Source
	// Scope, for Retry, picks one instance of a node inside a for or
	// loop (the scope inspect shows): only it, and what depends on it in
	// the same element, is reset. "": every instance.
	Scope string
	Wait  WaitMode
	// Timeout, when positive, overrides the workflow's run deadline
	// (measured from the run's creation) for this session.
	Timeout time.Duration
	// ParentRunID and ParentNode link the child run of a call step.
	ParentRunID, ParentNode string
	// Detach creates the run without executing it: no process owns it
	// and a worker (smithc worker) picks it up. Start returns at once
	// with status running.
	Detach bool
}

// Start creates a run and executes it until it finishes, fails, is
// cancelled or waits (as p.Wait allows). An input that does not fit the
// workflow's input schema is an error naming the field; nothing is
// created then.
func (e *Engine) Start(ctx context.Context, p StartParams) (*Result, error) {
	if p.Program == nil {
		return nil, errors.New("runtime: start: no program")
	}
	wf, err := PickWorkflow(p.Program, p.Workflow)
	if err != nil {
		return nil, fmt.Errorf("runtime: start: %w", err)
	}
	if err := e.validate(wf); err != nil {
		return nil, err
	}
	// The run's secrets are resolved before anything is stored: a short
	// one is refused, and the input must hold none.
	secrets, err := e.secretsOf(p.Program)
	if err != nil {
		return nil, err
	}
	given := map[string]any{}
	for k, v := range p.Input {
		given[k] = v
	}
	p.Input = nil // given holds it; p lives on through the session
	// Defaults that read the environment (env("X")) are evaluated now,
	// for the fields the caller did not give.
	if err := wf.ApplyInputDefaults(given, e.cfg.LookupEnvFunc); err != nil {
		return nil, fmt.Errorf("runtime: invalid input of workflow %s: %s", wf.Name, secrets.Redact(err.Error()))
	}
	if l := secrets.FindIn(given, "input"); l != nil {
		return nil, fmt.Errorf("runtime: invalid input of workflow %s: %w: a run's input is stored, so it must not hold a secret; read the secret with secret() in the step that uses it", wf.Name, l)
	}
	var input any = given
	if wf.Input != nil {
		input, err = schema.Normalize(wf.Input, input, "input")
		if err != nil {
			return nil, fmt.Errorf("runtime: invalid input of workflow %s: %s", wf.Name, secrets.Redact(err.Error()))
		}
	}

	raw, err := schema.EncodeJSON(input)
	if err != nil {
		return nil, fmt.Errorf("runtime: encode input: %w", err)
	}
	if err := e.ensureViews(ctx, p.Program); err != nil {
		return nil, err
	}
	id := p.RunID
	if id == "" {
		id = e.cfg.NewRunIDFunc()
	} else if p.ParentRunID == "" {
		if err := ValidateRunID(id); err != nil {
			return nil, err
		}
	}
	now := e.now()
	row := &store.Run{
		ID: id, Workflow: wf.Name, ParentRunID: p.ParentRunID, ParentNode: p.ParentNode,
		SourcePath: p.SourcePath, SourceHash: p.Program.SourceHash, Input: raw, Status: store.RunRunning,
		Owner: e.cfg.Owner.String(), OwnerStart: e.cfg.Owner.Start, LeaseExpiresAt: now.Add(e.cfg.LeaseDuration),
		Fence: 1, // the creator's claim; each later claim increments it
	}
	if p.Detach {
		row.Owner, row.OwnerStart, row.LeaseExpiresAt = "", "", time.Time{}
	}
	run, err := e.cfg.Store.RunCreate(ctx, &store.RunCreateParams{Sources: toStoreSources(p.Sources), Run: row, Now: now})
	if err != nil {
		return nil, &notCreatedError{err: err}
	}
	if p.Detach {
		return resultOf(run), nil
	}
	return e.session(ctx, run, sessionParams{prog: p.Program, wf: wf, srcs: p.Sources, mode: p.Wait, timeout: p.Timeout,
		startKind: EventRunStarted, input: input})
}

// ErrNotCreated marks an error of Start that came before the run was
// stored (its row and sources are written in one transaction, so nothing
// of it was): there is nothing to resume, and starting it again is safe.
var ErrNotCreated = errors.New("the run was not created")

// notCreatedError is Start's error from creating the run: it is
// ErrNotCreated, and unwraps to the store's error alone (so that callers
// that look for the store's own message find it one layer down).
type notCreatedError struct{ err error }

func (e *notCreatedError) Error() string        { return "runtime: start: " + e.err.Error() }
func (e *notCreatedError) Unwrap() error        { return e.err }
func (e *notCreatedError) Is(target error) bool { return target == ErrNotCreated }

// WorkflowChoiceError says why PickWorkflow found no workflow: Name is
// the one asked for ("" when none was named and the program has several
// or none); Have lists the program's workflows in source order.
type WorkflowChoiceError struct {
	Name string
	Have []string
}

func (e *WorkflowChoiceError) Error() string {
	switch {
	case e.Name != "":
		return fmt.Sprintf("no workflow %q in the program; it has: %s", e.Name, strings.Join(e.Have, ", "))
	case len(e.Have) == 0:
		return "the program declares no workflow"
	}
	return fmt.Sprintf("the program declares several workflows (%s): name one", strings.Join(e.Have, ", "))
}

// PickWorkflow returns the workflow called name, or the program's only
// workflow when name is ""; otherwise a *WorkflowChoiceError.
func PickWorkflow(prog *ir.Program, name string) (*ir.Workflow, error) {
	if name != "" {
		if wf := prog.Workflow(name); wf != nil {
			return wf, nil
		}
	} else if len(prog.Workflows) == 1 {
		return prog.Workflows[0], nil
	}
	have := make([]string, len(prog.Workflows))
	for i, w := range prog.Workflows {
		have[i] = w.Name
	}
	return nil, &WorkflowChoiceError{Name: name, Have: have}
}

// ensureViews creates the SQL views of the program's named types once per
// program.
func (e *Engine) ensureViews(ctx context.Context, prog *ir.Program) error {
	e.mu.Lock()
	seen := e.viewed[prog]
	e.mu.Unlock()
	if seen || len(prog.Types) == 0 {
		return nil
	}
	if err := e.cfg.Store.TypeViewsEnsure(ctx, &store.TypeViewsEnsureParams{Types: prog.Types}); err != nil {
		return fmt.Errorf("runtime: type views: %w", err)
	}
	e.mu.Lock()
	e.viewed[prog] = true
	e.mu.Unlock()
	return nil
}

// ResumeParams are the arguments of Resume and Retry.
type ResumeParams struct {
	// Program is the run's program; nil: it is compiled from the run's
	// stored sources (Config.CompileFunc). A Program whose SourceHash
	// differs from the run's is refused unless Sources are given too.
	Program *ir.Program
	// Sources, with Program, are the files of an edited program that the
	// run adopts: they replace the run's stored sources, node instances
	// whose ids the new workflow no longer has are dropped, finished
	// nodes stay finished (even when their definition changed: Retry
	// re-runs one), and everything not finished runs from the new
	// definition.
	Sources []Source
	// Scope, for Retry, picks one instance of a node inside a for or
	// loop (the scope inspect shows): only it, and what depends on it in
	// the same element, is reset. "": every instance.
	Scope string
	Wait  WaitMode
	// Timeout, when positive, overrides the workflow's run deadline for
	// this session: the run may go on for Timeout from the session's
	// start (so a run that hit its deadline can be continued).
	Timeout time.Duration
	// Run, when set (without Program), is a recent read of the run, such
	// as a worker's scan: Resume claims the run from it without reading
	// it first, when it had no owner (a run to take over from another
	// owner is always read first). The claim returns the run as it is
	// under the run's lock; when that differs from Run in what Resume
	// decided from (status, workflow, source hash), the claim is released
	// and Resume starts over from a fresh read.
	Run *store.Run
}

// Resume continues a run: its input comes from the store, finished nodes
// are not run again, attempts left running by a dead process (or one
// whose lease lapsed) are abandoned and retried, failed nodes of a failed
// run get a fresh retry budget. Resuming a finished run returns its
// result; resuming one live in another process is an error wrapping
// ErrRunLive that names the process.
func (e *Engine) Resume(ctx context.Context, runID string, p ResumeParams) (*Result, error) {
	hint := p.Run
	p.Run = nil
	if hint == nil || hint.ID != runID || hint.Owner != "" || p.Program != nil || hint.Status == store.RunFinished {
		hint = nil
	}
	for try := 1; ; try++ {
		res, err := e.resume(ctx, runID, hint, p)
		hint = nil // a try after the first reads the run
		if !errors.Is(err, errMovedOn) || try == maxResumeTries {
			return res, err
		}
	}
}

// errMovedOn: the run's status (or its program) changed between
// Resume's read and its claim (another process ran it meanwhile, to its
// end or to a wait).
var errMovedOn = errors.New("it changed while it was being claimed")

// maxResumeTries bounds how many times Resume starts over after the run
// moved on under its claim.
const maxResumeTries = 3

// resume is one try of Resume, from hint (ResumeParams.Run) when set.
func (e *Engine) resume(ctx context.Context, runID string, hint *store.Run, p ResumeParams) (*Result, error) {
	run := hint
	if run == nil {
		var err error
		if run, err = e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID}); err != nil {
			return nil, fmt.Errorf("runtime: resume: %w", err)
		}
	}
	if run.Status == store.RunFinished {
		return resultOf(run), nil
	}
	expect, err := e.checkOwner(run)
	if err != nil {
		return nil, err
	}
	prog, wf, srcs, adopt, err := e.programOf(ctx, run, p)
	if err != nil {
		return nil, err
	}
	if _, err := e.secretsOf(prog); err != nil {
		return nil, err // before the run is claimed
	}
	now := e.now()
	claimed, err := e.cfg.Store.RunClaim(ctx, &store.RunClaimParams{ID: runID, Owner: e.cfg.Owner.String(),
		OwnerStart: e.cfg.Owner.Start, ExpectOwner: expect, LeaseExpiresAt: now.Add(e.cfg.LeaseDuration), ClearCancel: true, ClearPause: true, Now: now})
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("runtime: resume run %s: %w: %v", runID, ErrRunLive, err)
		}
		return nil, fmt.Errorf("runtime: resume run %s: %w", runID, err)
	}
	if claimed.Status != run.Status || claimed.Workflow != run.Workflow || claimed.SourceHash != run.SourceHash {
		// Another process claimed the run after the read above, ran it
		// (to its end, a wait, a failure) and released it: what the run
		// is now decides, not what it was (a worker that listed a run
		// another worker then finished must not run it again).
		e.release(claimed)
		return nil, fmt.Errorf("runtime: resume run %s: %w: %w (it was %s, it is %s now); try again", runID, ErrRunLive, errMovedOn, run.Status, claimed.Status)
	}
	var dropped []string
	if adopt {
		if dropped, err = e.dropRemoved(ctx, runID, wf); err != nil {
			e.release(claimed)
			return nil, err
		}
	}
	return e.session(ctx, claimed, sessionParams{prog: prog, wf: wf, srcs: srcs, adopt: adopt, dropped: dropped,
		mode: p.Wait, timeout: p.Timeout, startKind: EventRunResumed})
}

// dropRemoved deletes the node instances of a run whose ids wf no longer
// has (a run adopting an edited source) and returns those ids.
func (e *Engine) dropRemoved(ctx context.Context, runID string, wf *ir.Workflow) ([]string, error) {
	rows, err := e.cfg.Store.NodeList(ctx, &store.NodeListParams{RunID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: resume run %s: %w", runID, err)
	}
	seen := map[string]bool{}
	var gone []string
	e.mu.Lock()
	for _, n := range rows {
		if wf.Lookup(n.NodeID) == nil && !seen[n.NodeID] {
			seen[n.NodeID] = true
			gone = append(gone, n.NodeID)
		}
	}
	e.mu.Unlock()
	if len(gone) == 0 {
		return nil, nil
	}
	if _, err := e.cfg.Store.NodeReset(ctx, &store.NodeResetParams{RunID: runID, NodeIDs: gone}); err != nil {
		return nil, fmt.Errorf("runtime: resume run %s: drop removed nodes: %w", runID, err)
	}
	return gone, nil
}

// release gives up a run claimed by this engine that no session ran.
func (e *Engine) release(run *store.Run) {
	_, _ = e.cfg.Store.RunUpdate(context.Background(), &store.RunUpdateParams{ID: run.ID, IfOwner: ptr(e.cfg.Owner.String()),
		Owner: ptr(""), OwnerStart: ptr(""), LeaseExpiresAt: ptr(time.Time{}), Now: e.now()}) // best effort: the lease lapses anyway
}

// checkOwner refuses a run owned by a live process and returns the stale
// owner the caller may take over.
func (e *Engine) checkOwner(run *store.Run) (string, error) {
	e.mu.Lock()
	_, live := e.live[run.ID]
	e.mu.Unlock()
	if live {
		return "", fmt.Errorf("runtime: run %s: %w: it is executing in this process (%s)", run.ID, ErrRunLive, e.cfg.Owner)
	}
	if run.Owner == "" {
		return "", nil
	}
	if run.Owner == e.cfg.Owner.String() && run.OwnerStart == e.cfg.Owner.Start {
		// This process, but another engine in it may hold the run: trust
		// the lease.
		if e.now().Before(run.LeaseExpiresAt) {
			return "", fmt.Errorf("runtime: run %s: %w: it is running in this process (%s)", run.ID, ErrRunLive, run.Owner)
		}
		return run.Owner, nil
	}
	alive, known := e.ownerAlive(run.Owner, run.OwnerStart)
	switch {
	case known && alive:
		return "", fmt.Errorf("runtime: run %s: %w: it is running in process %s", run.ID, ErrRunLive, run.Owner)
	case !known && e.now().Before(run.LeaseExpiresAt):
		return "", fmt.Errorf("runtime: run %s: %w: it is running in process %s (lease until %s)", run.ID, ErrRunLive,
			run.Owner, run.LeaseExpiresAt.Format("15:04:05"))
	}
	return run.Owner, nil
}

// programOf returns the program, workflow and sources of a run being
// continued, and whether the run adopts a program other than its own.
func (e *Engine) programOf(ctx context.Context, run *store.Run, p ResumeParams) (*ir.Program, *ir.Workflow, []Source, bool, error) {
	prog, srcs, adopt := p.Program, p.Sources, false
	if prog == nil {
		var err error
		if prog, srcs, err = e.storedProgram(ctx, run); err != nil {
			return nil, nil, nil, false, err
		}
	} else if prog.SourceHash != run.SourceHash {
		if p.Sources == nil {
			return nil, nil, nil, false, fmt.Errorf("runtime: run %s: the program given (hash %.12s) is not the run's stored one (%.12s); adopt it explicitly with its sources (smithc resume %s --source FILE)",
				run.ID, prog.SourceHash, run.SourceHash, run.ID)
		}
		adopt = true
	}
	wf := prog.Workflow(run.Workflow)
	if wf == nil {
		return nil, nil, nil, false, fmt.Errorf("runtime: run %s: the program has no workflow %q; a run keeps its workflow", run.ID, run.Workflow)
	}
	if err := e.validate(wf); err != nil {
		return nil, nil, nil, false, err
	}
	if err := e.ensureViews(ctx, prog); err != nil {
		return nil, nil, nil, false, err
	}
	return prog, wf, srcs, adopt, nil
}

// validate indexes wf (once) and checks its graph.
func (e *Engine) validate(wf *ir.Workflow) error {
	e.mu.Lock()
	wf.Lookup("") // builds the index and Parent links
	e.mu.Unlock()
	return validateGraph(wf)
}

// LiveOwner reports the process executing a run ("pid@host") when that is
// a live process or another engine of this one; "" when nobody executes
// it (waiting, finished, or left by a dead process). A run executing in
// this engine reports this process.
func (e *Engine) LiveOwner(ctx context.Context, runID string) (string, error) {
	run, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return "", fmt.Errorf("runtime: run %s: %w", runID, err)
	}
	e.mu.Lock()
	_, live := e.live[runID]
	e.mu.Unlock()
	if live {
		return e.cfg.Owner.String(), nil
	}
	if run.Owner == "" || run.Status.Terminal() {
		return "", nil
	}
	if _, err := e.checkOwner(run); err != nil {
		return run.Owner, nil
	}
	return "", nil
}

// Executing reports whether this engine itself is executing the run now
// (as opposed to another engine or process, see LiveOwner).
func (e *Engine) Executing(runID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, live := e.live[runID]
	return live
}
