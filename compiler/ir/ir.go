// Package ir declares the graph IR that the compiler produces from a
// checked program and the runtime executes. The runtime sees only this
// package (and schema, diag), never the parser, AST or checker.
//
// A Workflow is a tree of Nodes rooted at a Sequence (the workflow body).
// Every node has a durable ID, unique in its workflow: steps, approvals,
// timers, events, loops and worktrees keep the id the user wrote (with
// fragment prefixes applied: "api.read"); control nodes the user does not
// name (sequence, parallel, match, branch, for, try) get an id derived from
// their content, stable when unrelated parts of the file change.
package ir

import (
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/schema"
)

// Program is a compiled file with its imports.
type Program struct {
	Workflows  []*Workflow
	Agents     []*Agent       // sorted by name
	Types      []*schema.Type // named types, sorted by name (each becomes an SQL view)
	SourceHash string         // hex sha256 over the main file and its imports
	Files      []string       // file names as given, main file first
}

// Workflow returns the workflow called name, or nil.
func (p *Program) Workflow(name string) *Workflow {
	for _, w := range p.Workflows {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// Agent returns the agent called name, or nil.
func (p *Program) Agent(name string) *Agent {
	for _, a := range p.Agents {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// Workflow is one compiled workflow.
type Workflow struct {
	Name        string
	Description string
	Input       *schema.Type // always an Object (possibly with no fields)
	Root        *Node        // Kind Sequence, ID "" : the workflow body
	Output      *Expr        // nil: the output of the last top-level node
	OutputType  *schema.Type // the type of the run's result
	Timeout     time.Duration
	OnTimeout   string // "fail" (default) or "cancel"
	SourceHash  string // same as Program.SourceHash
	Range       diag.Range

	nodes map[string]*Node
}

// Kind is the kind of a node.
type Kind uint8

// Node kinds.
const (
	KindStep Kind = iota + 1
	KindApproval
	KindTimer
	KindEvent
	KindSequence
	KindParallel
	KindMatch
	KindBranch
	KindLoop
	KindFor
	KindWorktree
	KindTry
)

var kindNames = map[Kind]string{
	KindStep: "step", KindApproval: "approval", KindTimer: "timer", KindEvent: "event",
	KindSequence: "sequence", KindParallel: "parallel", KindMatch: "match", KindBranch: "branch",
	KindLoop: "loop", KindFor: "for", KindWorktree: "worktree", KindTry: "try",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "invalid"
}

// Node is one node of the graph.
type Node struct {
	ID     string
	Kind   Kind
	Range  diag.Range
	Parent *Node `json:"-"`

	// Children are the nodes of the node's body, in order: the members of a
	// Sequence or Parallel, the body of a Loop, For or Worktree. Match,
	// Branch and Try keep theirs in Arms, Else, Try, Catch, Finally.
	Children []*Node

	// Deps are the ids of the nodes that must be terminal before this one
	// starts: its predecessor in an enclosing sequence and everything named
	// in needs. Needs is the explicit part, as written.
	Deps  []string
	Needs []string

	// Output is the type the node reads as (step, approval, event), nil for
	// control nodes.
	Output *schema.Type

	Step     *Step     // KindStep
	Approval *Approval // KindApproval
	Timer    *Timer    // KindTimer
	Event    *Event    // KindEvent
	Parallel *Parallel // KindParallel
	Match    *Match    // KindMatch and KindBranch
	Loop     *Loop     // KindLoop
	For      *For      // KindFor
	Worktree *Worktree // KindWorktree
	Try      *Try      // KindTry
}

// Step is a unit of work with one action.
type Step struct {
	Action string // "compute", "shell", "http", "agent", "call", or another registered action

	// Args are the action's attributes evaluated at run time, by name
	// ("value", "run", "exec", "cwd", "prompt", "allow_failure", and the
	// attributes of an http block: "method", "url", "body"; of a call
	// block: "input").
	Args map[string]*Expr
	// Maps are keyed sub-blocks: "env" (env { K = v }) and "headers".
	Maps map[string]map[string]*Expr

	Agent          string // agent action: the agent's name (see Program.Agent)
	Call           string // call action: the called workflow's name
	DeclaredOutput bool   // the user declared the output type

	Description      string
	Timeout          time.Duration // per attempt; 0 = none
	HeartbeatTimeout time.Duration // 0 = none
	Retry            *Retry        // nil: one attempt
	SkipIf           *Expr
	Cache            *Cache
	ContinueOnFail   bool
}

// Retry is a step's retry policy. Attempts counts all tries.
type Retry struct {
	Attempts int
	Backoff  string // "fixed", "linear", "exponential"
	Delay    time.Duration
	MaxDelay time.Duration // 0 = no cap
	Jitter   time.Duration // up to this much random time added to each delay
	When     *Expr         // nil = retry every failure; reads error
}

// Cache reuses a step's output across runs of the same workflow source.
type Cache struct {
	Key *Expr
	TTL time.Duration // 0 = forever
}

// Approval pauses for a person.
type Approval struct {
	Title   *Expr
	Summary *Expr  // nil when absent
	OnDeny  string // "fail" (default), "skip", "continue"
	Timeout time.Duration
	// Fields is the approval's own output schema (without approved, by,
	// note), nil when absent.
	Fields *schema.Type
}

// Timer is a durable sleep: either Duration or Until is set.
type Timer struct {
	Duration time.Duration
	Until    *Expr
}

// Event waits for an external signal.
type Event struct {
	Name      string
	Timeout   time.Duration
	OnTimeout string // "fail" (default), "skip", "continue"
}

// Parallel runs its children concurrently.
type Parallel struct {
	MaxConcurrency int // 0 = unlimited
}

// Match holds the arms of a match or branch: the first arm whose predicate
// holds runs, the others are skipped. Else is nil when absent.
type Match struct {
	Source string // match: the source step's id; "" for branch
	Arms   []*Arm
	Else   *Node // a Sequence
}

// Arm is one guarded body.
type Arm struct {
	Pred *Expr
	Body *Node // a Sequence
}

// Loop repeats its children until Until holds after an iteration.
type Loop struct {
	Until         *Expr
	MaxIterations int
	OnMaxReached  string // "fail" (default) or "return-last"
}

// For runs its children once per element of List, concurrently.
type For struct {
	Var            string
	List           *Expr
	MaxConcurrency int // 0 = unlimited
}

// Worktree runs its children in a git worktree.
type Worktree struct {
	Path   string // relative to the repository root
	Branch *Expr  // nil when absent
}

// Try runs Catch when Try fails and Finally either way.
type Try struct {
	Try     *Node // Sequence
	Catch   *Node // Sequence, nil when absent
	Finally *Node // Sequence, nil when absent
}

// Agent is an AI agent declaration.
type Agent struct {
	Name   string
	CLI    string  // "claude", "codex", "gemini"; "" for openai
	Model  *Expr   // nil when absent
	Args   []*Expr // extra CLI arguments
	OpenAI *OpenAI // nil for CLI agents
}

// OpenAI configures an OpenAI-compatible chat endpoint.
type OpenAI struct {
	BaseURL *Expr
	Model   *Expr
	APIKey  *Expr // usually env("...") or secret("..."); nil when absent
}

// Expr is an expression evaluated at run time.
type Expr struct {
	Src   string
	Range diag.Range
	Type  *schema.Type // the checked type

	// Template is non-nil when the value is a string template; its parts
	// are then evaluated one by one (a shell step quotes each one).
	Template []TemplatePart

	// Names maps each step-like name the expression reads to the durable
	// id of the node it means (they differ inside fragments: "read" is
	// "api.read"). A name may be a dotted path ("api.summarize", a node
	// of a mounted fragment read from outside it): the runtime then binds
	// it as nested objects (env["api"]["summarize"]). The runtime binds
	// those names, plus input, run, and the context variables (iteration,
	// index, the for variable, error).
	Names map[string]string
	// Params binds fragment parameters the expression reads to the
	// argument expressions of the mount, evaluated in the mount's scope.
	Params map[string]*Expr

	// Program is the compiled form of Src (nil for templates); not printed.
	Program *vm.Program `json:"-"`
}

// TemplatePart is literal text or one interpolated expression.
type TemplatePart struct {
	Lit  string
	Expr *Expr
}
