package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/schema"
)

// Action performs the attempts of one kind of step (compute, shell, http,
// agent, call, ...). Actions live in stdlib and are handed to the runtime
// in an [Actions] registry; the runtime never imports them.
type Action interface {
	// Run performs one attempt of a step and returns its raw output (a
	// JSON-like value). The runtime validates the output against the
	// step's type before committing it. A failed attempt returns an error,
	// preferably a *StepError so that retry predicates can read its kind
	// and exit code. Run must return promptly when ctx is cancelled
	// (timeout, cancel), killing any process it started.
	Run(ctx context.Context, a *Attempt) (any, error)
}

// ActionFunc adapts a function to Action.
type ActionFunc func(ctx context.Context, a *Attempt) (any, error)

// Run implements Action.
func (f ActionFunc) Run(ctx context.Context, a *Attempt) (any, error) { return f(ctx, a) }

// Actions maps an action name (ir.Step.Action) to its implementation.
type Actions map[string]Action

// Attempt is what an action sees of the attempt it performs.
type Attempt struct {
	RunID   string
	NodeID  string // the durable node id, e.g. "api.read"
	Key     string // the node instance key (id plus for/loop position), for logs
	Number  int    // 1-based attempt number
	Node    *ir.Node
	Step    *ir.Step
	Program *ir.Program
	Dir     string // working directory: the run's, or the enclosing worktree's

	// PrevError is the error of the previous attempt of this step (nil on
	// the first), so that an agent can be re-asked with the validation
	// error fed back.
	PrevError error

	// EvalFunc evaluates an expression of the step in its environment
	// (input, earlier outputs, loop and for variables, run).
	EvalFunc func(e *ir.Expr) (any, error)
	// RenderFunc renders a template: each interpolated value goes through
	// quote (nil: the default stringification) before it is joined with
	// the literal parts. A plain expression is evaluated and stringified.
	RenderFunc func(e *ir.Expr, quote func(v any) (string, error)) (string, error)
	// HeartbeatFunc extends the attempt's lease; detail may be empty.
	HeartbeatFunc func(detail string)
	// LogFunc appends an event to the run's event log (for example
	// "AgentPrompt", "StepOutput"). Secrets must not be passed.
	LogFunc func(kind string, data map[string]any)
	// Continue is the agent session of the attempt before this one when
	// that attempt was interrupted (hijacked, or its process died): the
	// agent action continues it rather than starting over. Nil otherwise.
	Continue *ContinuedSession
	// SessionFunc records the agent session the attempt runs in; see
	// ReportSession.
	SessionFunc func(s AgentSession)
	// ProcessFunc records the process group the attempt started (its
	// leader's pid), so that a resume after the owner died kills what is
	// left of it before running the step again; see ReportProcess.
	ProcessFunc func(pgid int)
	// CallFunc runs a child workflow of the same program as a durable
	// child run and returns its output (call action).
	CallFunc func(ctx context.Context, workflow string, input any) (any, error)
	// Secrets is the run's set of secrets: every secret("NAME") of the
	// program, resolved when the run started. The runtime redacts them
	// from the text of events and errors and refuses outputs that hold
	// one; an action that streams text into events in pieces uses
	// Secrets.HoldBack so that no piece boundary splits a secret. An
	// action that resolves a secret of its own adds it with AddSecret.
	Secrets *schema.Secrets

	// sc is the attempt's scope in the runtime: what the methods use when
	// the Func fields are not set (a compute step's attempt has only
	// these; the runtime sets the Func fields for other actions).
	sc *attemptScope
}

// ReportProcess records the process group an action started (in its
// own group, leader pid pgid); it waits until that is durable. Actions
// that start processes call it right after the start.
func (a *Attempt) ReportProcess(pgid int) {
	switch {
	case a == nil:
	case a.ProcessFunc != nil:
		a.ProcessFunc(pgid)
	case a.sc != nil:
		a.sc.process(pgid)
	}
}

// Eval evaluates e, or returns nil when e is nil.
func (a *Attempt) Eval(e *ir.Expr) (any, error) {
	switch {
	case e == nil:
	case a.EvalFunc != nil:
		return a.EvalFunc(e)
	case a.sc != nil:
		return a.sc.eval(e)
	}
	return nil, nil
}

// Render renders e as a string with the given quoting of interpolated
// values (nil: plain).
func (a *Attempt) Render(e *ir.Expr, quote func(v any) (string, error)) (string, error) {
	switch {
	case e == nil:
	case a.RenderFunc != nil:
		return a.RenderFunc(e, quote)
	case a.sc != nil:
		return a.sc.render(e, quote)
	}
	return "", nil
}

// Heartbeat extends the attempt's lease.
func (a *Attempt) Heartbeat(detail string) {
	switch {
	case a.HeartbeatFunc != nil:
		a.HeartbeatFunc(detail)
	case a.sc != nil:
		a.sc.heartbeat(detail)
	}
}

// Log appends an event to the run's event log.
func (a *Attempt) Log(kind string, data map[string]any) {
	switch {
	case a.LogFunc != nil:
		a.LogFunc(kind, data)
	case a.sc != nil:
		a.sc.log(kind, data)
	}
}

// AddSecret adds a secret value the action resolved itself (not through
// secret()) to the run's secrets. A value shorter than
// schema.MinSecretLen cannot be hidden reliably and is an error.
func (a *Attempt) AddSecret(s string) error {
	if a.sc != nil {
		return a.sc.addSecret(s)
	}
	if a.Secrets == nil {
		a.Secrets = &schema.Secrets{}
	}
	return a.Secrets.Add("", s)
}

// Error kinds a StepError may carry; retry predicates read them as
// error.kind.
const (
	ErrKindExit       = "exit"       // a process exited non-zero
	ErrKindTimeout    = "timeout"    // the attempt's timeout expired
	ErrKindValidation = "validation" // the output did not fit its type
	ErrKindHTTP       = "http"       // an HTTP status outside 2xx
	ErrKindNetwork    = "network"    // a connection failed
	ErrKindAgent      = "agent"      // an agent failed or replied unusably
	ErrKindExpr       = "expr"       // an expression failed at run time
	ErrKindCancelled  = "cancelled"  // the run was cancelled
	// ErrKindMaxIterations: a loop reached max_iterations before its
	// until held (on_max_reached = "fail"); resume cannot change that,
	// `smithc retry RUN LOOP` runs the loop again.
	ErrKindMaxIterations = "max_iterations"
	ErrKindInternal      = "internal"
)

// StepError is a failed attempt. Retry predicates read it as error.kind,
// error.message and error.exit_code.
type StepError struct {
	Kind     string
	Message  string
	ExitCode int    // for ErrKindExit; 0 otherwise
	Status   int    // HTTP status for ErrKindHTTP
	Output   any    // partial output worth keeping (stdout, stderr), may be nil
	Retry    bool   // false: never retry this failure (for example bad config)
	Err      error  // the underlying error, if any
	Path     string // for ErrKindValidation: the field path
}

// Error implements error.
func (e *StepError) Error() string {
	if e.Kind == ErrKindExit {
		return fmt.Sprintf("%s (exit code %d)", e.Message, e.ExitCode)
	}
	return e.Message
}

// Unwrap returns the underlying error.
func (e *StepError) Unwrap() error { return e.Err }

// AsStepError returns err as a *StepError, wrapping other errors with
// kind internal (or cancelled/timeout for context errors).
func AsStepError(err error) *StepError {
	if err == nil {
		return nil
	}
	var se *StepError
	if errors.As(err, &se) {
		return se
	}
	kind := ErrKindInternal
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		kind = ErrKindTimeout
	case errors.Is(err, context.Canceled):
		kind = ErrKindCancelled
	}
	return &StepError{Kind: kind, Message: err.Error(), Err: err, Retry: true}
}
