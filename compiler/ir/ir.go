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

	exprparser "github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/schema"
)

// Program is a compiled file with its imports.
type Program struct {
	Workflows  []*Workflow    `json:"workflows,omitempty"`
	Agents     []*Agent       `json:"agents,omitempty"`      // sorted by name
	Types      []*schema.Type `json:"types,omitempty"`       // named types, sorted by name (each becomes an SQL view)
	SourceHash string         `json:"source_hash,omitempty"` // hex sha256 over the main file and its imports
	Files      []string       `json:"files,omitempty"`       // file names as given, main file first
	// Secrets names every variable the program reads with secret("NAME"),
	// sorted. A run resolves them when it starts: their values (and the
	// forms derived from them) are redacted from log text and refused in
	// anything stored, and child processes do not inherit them unless a
	// step passes them explicitly.
	Secrets []string `json:"secrets,omitempty"`
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
	Name        string       `json:"name,omitempty"`
	Description string       `json:"description,omitempty"`
	Input       *schema.Type `json:"input,omitempty"` // always an Object (possibly with no fields)
	// InputDefaults are the defaults of input fields that read the
	// environment (env("X")), evaluated when a run starts (see
	// ApplyInputDefaults); their schema field has HasDefault with a nil
	// Default.
	InputDefaults map[string]*Expr `json:"input_defaults,omitempty"`
	Root          *Node            `json:"root,omitempty"`        // Kind Sequence, ID "" : the workflow body
	Output        *Expr            `json:"output,omitempty"`      // nil: the output of the last top-level node
	OutputType    *schema.Type     `json:"output_type,omitempty"` // the type of the run's result
	Timeout       time.Duration    `json:"timeout,omitempty"`
	OnTimeout     string           `json:"on_timeout,omitempty"`  // "fail" (default) or "cancel"
	Budget        *Budget          `json:"budget,omitempty"`      // nil: no run budget
	SourceHash    string           `json:"source_hash,omitempty"` // same as Program.SourceHash
	Range         diag.Range       `json:"range,omitempty"`

	nodes map[string]*Node
}

// Budget bounds what a run's agent steps consume: Tokens (input, cached
// included, plus output) and CostUSD (as the agents report it); 0: no
// limit of that kind. The runtime checks it after each agent attempt.
type Budget struct {
	Tokens  int64   `json:"tokens,omitempty"`
	CostUSD float64 `json:"cost_usd,omitempty"`
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

// MarshalText renders the kind by name ("step").
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Node is one node of the graph.
type Node struct {
	ID     string     `json:"id,omitempty"`
	Kind   Kind       `json:"kind"`
	Range  diag.Range `json:"range,omitempty"`
	Parent *Node      `json:"-"`
	// Description is the node's description attribute, if any (steps
	// also keep it in Step.Description).
	Description string `json:"description,omitempty"`

	// Children are the nodes of the node's body, in order: the members of a
	// Sequence or Parallel, the body of a Loop, For or Worktree. Match,
	// Branch and Try keep theirs in Arms, Else, Try, Catch, Finally.
	Children []*Node `json:"children,omitempty"`

	// Deps are the ids of the nodes that must be terminal before this one
	// starts: its predecessor in an enclosing sequence and everything named
	// in needs. Needs is the explicit part, as written.
	Deps  []string `json:"deps,omitempty"`
	Needs []string `json:"needs,omitempty"`

	// Output is the type the node reads as (step, approval, event), nil for
	// control nodes.
	Output *schema.Type `json:"output,omitempty"`

	Step     *Step     `json:"step,omitempty"`     // KindStep
	Approval *Approval `json:"approval,omitempty"` // KindApproval
	Timer    *Timer    `json:"timer,omitempty"`    // KindTimer
	Event    *Event    `json:"event,omitempty"`    // KindEvent
	Parallel *Parallel `json:"parallel,omitempty"` // KindParallel
	Match    *Match    `json:"match,omitempty"`    // KindMatch and KindBranch
	Loop     *Loop     `json:"loop,omitempty"`     // KindLoop
	For      *For      `json:"for,omitempty"`      // KindFor
	Worktree *Worktree `json:"worktree,omitempty"` // KindWorktree
	Try      *Try      `json:"try,omitempty"`      // KindTry
}

// Step is a unit of work with one action.
type Step struct {
	Action string `json:"action,omitempty"` // "compute", "shell", "http", "agent", "call", or another registered action

	// Args are the action's attributes evaluated at run time, by name
	// ("value", "run", "exec", "cwd", "prompt", "allow_failure", and the
	// attributes of an http block: "method", "url", "body"; of a call
	// block: "input").
	Args map[string]*Expr `json:"args,omitempty"`
	// Maps are keyed sub-blocks: "env" (env { K = v }) and "headers".
	Maps map[string]map[string]*Expr `json:"maps,omitempty"`

	Agent string `json:"agent,omitempty"` // agent action: the agent's name (see Program.Agent)
	// Fallbacks are agents tried in order when Agent fails (agent =
	// [primary, fallback, ...]).
	Fallbacks      []string `json:"fallback_agents,omitempty"`
	Call           string   `json:"call,omitempty"`            // call action: the called workflow's name
	DeclaredOutput bool     `json:"declared_output,omitempty"` // the user declared the output type

	Description      string        `json:"description,omitempty"`
	Timeout          time.Duration `json:"timeout,omitempty"`           // per attempt; 0 = none
	HeartbeatTimeout time.Duration `json:"heartbeat_timeout,omitempty"` // 0 = none
	Retry            *Retry        `json:"retry,omitempty"`             // nil: one attempt
	SkipIf           *Expr         `json:"skip_if,omitempty"`
	Cache            *Cache        `json:"cache,omitempty"`
	ContinueOnFail   bool          `json:"continue_on_fail,omitempty"`
}

// Retry is a step's retry policy. Attempts counts all tries.
type Retry struct {
	Attempts int           `json:"attempts,omitempty"`
	Backoff  string        `json:"backoff,omitempty"` // "fixed", "linear", "exponential"
	Delay    time.Duration `json:"delay,omitempty"`
	MaxDelay time.Duration `json:"max_delay,omitempty"` // 0 = no cap
	Jitter   time.Duration `json:"jitter,omitempty"`    // up to this much random time added to each delay
	When     *Expr         `json:"when,omitempty"`      // nil = retry every failure; reads error
}

// Cache reuses a step's output across runs of the same workflow source.
type Cache struct {
	Key *Expr         `json:"key,omitempty"`
	TTL time.Duration `json:"ttl,omitempty"` // 0 = forever
}

// Approval pauses for a person.
type Approval struct {
	Title   *Expr         `json:"title,omitempty"`
	Summary *Expr         `json:"summary,omitempty"` // nil when absent
	OnDeny  string        `json:"on_deny,omitempty"` // "fail" (default), "skip", "continue"
	Timeout time.Duration `json:"timeout,omitempty"`
	// Fields is the approval's own output schema (without approved, by,
	// note), nil when absent.
	Fields *schema.Type `json:"fields,omitempty"`
}

// Timer is a durable sleep: either Duration or Until is set.
type Timer struct {
	Duration time.Duration `json:"duration,omitempty"`
	Until    *Expr         `json:"until,omitempty"`
}

// Event waits for an external signal.
type Event struct {
	Name      string        `json:"name,omitempty"`
	Timeout   time.Duration `json:"timeout,omitempty"`
	OnTimeout string        `json:"on_timeout,omitempty"` // "fail" (default), "skip", "continue"
}

// Parallel runs its children concurrently.
type Parallel struct {
	MaxConcurrency int `json:"max_concurrency,omitempty"` // 0 = unlimited
}

// Match holds the arms of a match or branch: the first arm whose predicate
// holds runs, the others are skipped. Else is nil when absent.
type Match struct {
	Source string `json:"source,omitempty"` // match: the source step's id; "" for branch
	Arms   []*Arm `json:"arms,omitempty"`
	Else   *Node  `json:"else,omitempty"` // a Sequence
}

// Arm is one guarded body.
type Arm struct {
	Pred *Expr `json:"pred,omitempty"`
	Body *Node `json:"body,omitempty"` // a Sequence
}

// Loop repeats its children until Until holds after an iteration.
type Loop struct {
	Until         *Expr  `json:"until,omitempty"`
	MaxIterations int    `json:"max_iterations,omitempty"`
	OnMaxReached  string `json:"on_max_reached,omitempty"` // "fail" (default) or "return-last"
}

// For runs its children once per element of List, concurrently.
type For struct {
	Var            string `json:"var,omitempty"`
	List           *Expr  `json:"list,omitempty"`
	MaxConcurrency int    `json:"max_concurrency,omitempty"` // 0 = unlimited
}

// Worktree runs its children in a git worktree.
type Worktree struct {
	Path   string `json:"path,omitempty"`   // relative to the repository root
	Branch *Expr  `json:"branch,omitempty"` // nil when absent
	// Reuse runs the children in a worktree that already exists at Path
	// (one this run did not create), never removing it. Without it such a
	// worktree is refused.
	Reuse bool `json:"reuse,omitempty"`
}

// Try runs Catch when Try fails and Finally either way.
type Try struct {
	Try     *Node `json:"try,omitempty"`     // Sequence
	Catch   *Node `json:"catch,omitempty"`   // Sequence, nil when absent
	Finally *Node `json:"finally,omitempty"` // Sequence, nil when absent
}

// Agent is an AI agent declaration.
type Agent struct {
	Name string `json:"name,omitempty"`
	// CLI is the program of a CLI agent: "claude", "codex", "gemini", or a
	// path (cli = "/opt/bin/claude", or command = "..." with kind).
	CLI  string `json:"cli,omitempty"`
	Kind string `json:"kind,omitempty"` // the adapter: "claude", "codex", "gemini"; "" for openai
	// Model is nil when absent.
	Model *Expr `json:"model,omitempty"`
	// Args is one expression giving the list of extra CLI arguments.
	Args *Expr `json:"args,omitempty"`
	// Env are environment variables added to the CLI's environment.
	Env map[string]*Expr `json:"env,omitempty"`
	// Cwd is the CLI's working directory, relative to the step's.
	Cwd *Expr `json:"cwd,omitempty"`
	// MaxTurns bounds the agent's turns (0: the CLI's default).
	MaxTurns int `json:"max_turns,omitempty"`
	// PermissionMode is "default", "plan", "accept_edits" or "bypass"
	// ("" = "default"), mapped to each CLI's own options.
	PermissionMode string `json:"permission_mode,omitempty"`
	// MaxBudgetUSD bounds the cost of one attempt (0: none).
	MaxBudgetUSD float64 `json:"max_budget_usd,omitempty"`
	OpenAI       *OpenAI `json:"open_ai,omitempty"` // nil for CLI agents
}

// OpenAI configures an OpenAI-compatible chat endpoint.
type OpenAI struct {
	BaseURL     *Expr         `json:"base_url,omitempty"`
	Model       *Expr         `json:"model,omitempty"`
	APIKey      *Expr         `json:"api_key,omitempty"` // usually env("...") or secret("..."); nil when absent
	System      *Expr         `json:"system,omitempty"`  // the system message; nil when absent
	Temperature *float64      `json:"temperature,omitempty"`
	MaxTokens   int           `json:"max_tokens,omitempty"`
	Timeout     time.Duration `json:"timeout,omitempty"` // of one HTTP request; 0: the step's
}

// Expr is an expression evaluated at run time.
type Expr struct {
	Src   string       `json:"src,omitempty"`
	Range diag.Range   `json:"range,omitempty"`
	Type  *schema.Type `json:"type,omitempty"` // the checked type

	// Template is non-nil when the value is a string template; its parts
	// are then evaluated one by one (a shell step quotes each one).
	Template []TemplatePart `json:"template,omitempty"`

	// Names maps each step-like name the expression reads to the durable
	// id of the node it means (they differ inside fragments: "read" is
	// "api.read"). A name may be a dotted path ("api.summarize", a node
	// of a mounted fragment read from outside it): the runtime then binds
	// it as nested objects (env["api"]["summarize"]). The runtime binds
	// those names, plus input, run, and the context variables (iteration,
	// index, the for variable, error).
	Names map[string]string `json:"names,omitempty"`
	// Params binds fragment parameters the expression reads to the
	// argument expressions of the mount, evaluated in the mount's scope.
	Params map[string]*Expr `json:"params,omitempty"`

	// Program is the compiled form of Src (nil for templates); not printed.
	Program *vm.Program `json:"-"`

	// parsed is a parse of Src to compile instead of parsing it again
	// (see UseParsed), or nil.
	parsed *exprparser.Tree
}

// UseParsed gives x a parse of its Src made with no configuration
// (exprparser.Parse, as lang/checker parses), for Compile and CompileAll
// to use instead of parsing Src again when that parse is the one their
// configuration makes (no builtin is shadowed and none of the ordered
// map functions is named). Compiling changes the tree: it must not be
// used elsewhere. Call it before Names and Params change.
func (x *Expr) UseParsed(t *exprparser.Tree) { x.parsed = t }

// TemplatePart is literal text or one interpolated expression.
type TemplatePart struct {
	Lit  string `json:"lit,omitempty"`
	Expr *Expr  `json:"expr,omitempty"`
}
