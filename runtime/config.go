package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
)

// Defaults for the zero values of Config.
const (
	// DefaultMaxConcurrency bounds the attempts running at once in a run.
	DefaultMaxConcurrency = 8
	// DefaultLeaseDuration is how long a run's and its attempts' leases
	// last without a heartbeat; heartbeats come every third of it.
	DefaultLeaseDuration = 10 * time.Second
	// DefaultPollInterval is how often a live run polls the store for
	// cancellation, approvals and signals (well under a second).
	DefaultPollInterval = 250 * time.Millisecond
)

// Config configures an Engine. The zero value of every field but Store
// and Actions is a sensible default.
type Config struct {
	Store   store.Store
	Actions Actions

	// Clock returns the current time (default time.Now). Timers, leases
	// and event times read it; tests inject a fake one.
	Clock func() time.Time
	// Owner identifies this process in run and attempt leases (default:
	// the current process, see CurrentOwner).
	Owner Owner
	// MaxConcurrency bounds the attempts running at once in one run
	// (default DefaultMaxConcurrency).
	MaxConcurrency int
	// LeaseDuration is the lease of a run and its attempts (default
	// DefaultLeaseDuration); heartbeats renew it every third of it.
	LeaseDuration time.Duration
	// PollInterval is how often a live run polls the store (default
	// DefaultPollInterval).
	PollInterval time.Duration
	// Dir is the working directory of steps (default: the process's).
	Dir string
	// Durability says when a compute step's result is committed (see
	// Durability). The store's own setting (sqlitestore's synchronous
	// pragma) should match it: the CLI sets both.
	Durability Durability

	// ObserveFunc, when set, is called with every event after it is
	// committed, in commit order, from one goroutine per run. Events of
	// commits that follow each other closely arrive together, up to 5 ms
	// after their commit. It must not block for long.
	ObserveFunc func(store.Event)
	// CompileFunc compiles the stored sources of a run (main file first;
	// empty for a run stored without them) when the run is continued
	// (resume, approve, signal, retry) or read (RunProgram) and the
	// caller passes no program. The runtime never compiles or reads
	// source files itself; the CLI passes its parse-check-compile step.
	CompileFunc func(ctx context.Context, sources []Source) (*ir.Program, error)
	// WorktreeAddFunc creates a git worktree at path (relative to the
	// repository holding repoDir) on branch ("" for a detached one) and
	// returns its directory; WorktreeRemoveFunc removes it.
	// The worktree is marked as created by owner (the run and node
	// instance); created is false only for one that already existed and
	// was adopted because reuse is set. WorktreeRemoveFunc removes a
	// worktree only if owner created it, and is called only for those.
	WorktreeAddFunc    func(ctx context.Context, repoDir, path, branch, owner string, reuse bool) (dir string, created bool, err error)
	WorktreeRemoveFunc func(ctx context.Context, dir, owner string) error
	// LookupEnvFunc reads env("NAME") and secret("NAME") (default
	// os.LookupEnv).
	LookupEnvFunc func(name string) (string, bool)
	// NewRunIDFunc generates run ids (default: time and random hex).
	NewRunIDFunc func() string
	// Distribute hands the attempts of steps with effects outside the
	// run (not compute or call steps, not steps in a worktree) to any
	// worker as tasks, when the store has them (store.TaskStore): the
	// session waits for their results (see task.go). smithc worker sets
	// it; off, every attempt runs in the session's process.
	Distribute bool
	// SecretFormsFunc, when set, returns more forms in which actions
	// write a secret into text, for redaction (the standard library's
	// shell quoting: stdlib.SecretForms). The value itself and its JSON,
	// quoted, URL and base64 forms are always covered.
	SecretFormsFunc func(secret string) []string
}

// Durability is when the runtime commits the result of a pure compute
// step (a `value` step: no effect outside the run).
type Durability int

const (
	// DurabilityNormal (the default) queues a compute step's result: it
	// is committed with the next awaited write (the start of a step with
	// an effect outside the run, a control decision, a wait, a failure,
	// the run's end) or within 10 ms, so a chain of compute steps shares
	// commits. A crash before that commit recomputes them on resume;
	// nothing with an effect outside the run starts before what it reads
	// is committed.
	DurabilityNormal Durability = iota
	// DurabilityFull commits every step's result before the next step
	// starts, one commit per compute step (with the store fsyncing each
	// commit, every finished step survives power loss).
	DurabilityFull
)

// ParseDurability reads "normal" or "full" ("" is normal).
func ParseDurability(s string) (Durability, error) {
	switch s {
	case "", "normal":
		return DurabilityNormal, nil
	case "full":
		return DurabilityFull, nil
	}
	return 0, fmt.Errorf("durability must be normal or full, not %q", s)
}

// String is "normal" or "full".
func (d Durability) String() string {
	if d == DurabilityFull {
		return "full"
	}
	return "normal"
}

// Engine executes workflows durably through a Store. It is safe for
// concurrent use; one Engine may drive many runs at once.
type Engine struct {
	cfg   Config
	owner string // cfg.Owner.String(), made once

	mu     sync.Mutex
	live   map[string]context.CancelCauseFunc // runs executing in this engine
	progs  map[*ir.Expr]*vm.Program           // compiled expressions
	viewed map[*ir.Program]bool               // programs whose type views exist
	// compiled are the programs compiled from stored sources, by hash.
	compiled map[string]compiledProgram
	hub      taskHub // sessions waiting on tasks (task.go)
}

// New returns an Engine for cfg.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil {
		return nil, errors.New("runtime: Config.Store is required")
	}
	if cfg.Actions == nil {
		cfg.Actions = Actions{}
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Owner.PID == 0 {
		cfg.Owner = CurrentOwner()
	}
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = DefaultMaxConcurrency
	}
	if cfg.LeaseDuration <= 0 {
		cfg.LeaseDuration = DefaultLeaseDuration
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("runtime: working directory: %w", err)
		}
		cfg.Dir = wd
	}
	if cfg.LookupEnvFunc == nil {
		cfg.LookupEnvFunc = os.LookupEnv
	}
	if cfg.NewRunIDFunc == nil {
		clock := cfg.Clock
		cfg.NewRunIDFunc = func() string { return newRunID(clock()) }
	}
	return &Engine{
		cfg:    cfg,
		owner:  cfg.Owner.String(),
		live:   map[string]context.CancelCauseFunc{},
		progs:  map[*ir.Expr]*vm.Program{},
		viewed: map[*ir.Program]bool{},

		compiled: map[string]compiledProgram{},
	}, nil
}

// Store returns the engine's store. The CLI reads runs, nodes, attempts
// and events through it (ps, inspect, logs).
func (e *Engine) Store() store.Store { return e.cfg.Store }

func newRunID(now time.Time) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand never fails on supported platforms; fall back to time.
		return now.UTC().Format("20060102T150405.000000000")
	}
	return now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

func (e *Engine) now() time.Time { return e.cfg.Clock() }
