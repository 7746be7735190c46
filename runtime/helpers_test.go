package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
	"github.com/smithc/smithc/schema"
)

// x builds an expression; names are filled in by build.
func x(src string) *ir.Expr { return &ir.Expr{Src: src} }

// tmpl builds a template from alternating literal and expression parts:
// tmpl("a ", x("b"), " c").
func tmpl(parts ...any) *ir.Expr {
	e := &ir.Expr{Src: "template", Template: []ir.TemplatePart{}}
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			e.Template = append(e.Template, ir.TemplatePart{Lit: v})
		case *ir.Expr:
			e.Template = append(e.Template, ir.TemplatePart{Expr: v})
		}
	}
	return e
}

type opt func(n *ir.Node)

func withOutput(t *schema.Type) opt { return func(n *ir.Node) { n.Output = t } }
func withRetry(r *ir.Retry) opt     { return func(n *ir.Node) { n.Step.Retry = r } }
func withTimeout(d time.Duration) opt {
	return func(n *ir.Node) { n.Step.Timeout = d }
}
func withNeeds(ids ...string) opt { return func(n *ir.Node) { n.Needs = ids } }
func withSkipIf(e *ir.Expr) opt   { return func(n *ir.Node) { n.Step.SkipIf = e } }
func continueOnFail() opt         { return func(n *ir.Node) { n.Step.ContinueOnFail = true } }
func withCache(key *ir.Expr, ttl time.Duration) opt {
	return func(n *ir.Node) { n.Step.Cache = &ir.Cache{Key: key, TTL: ttl} }
}

// step builds a step of the given action with its args.
func step(id, action string, args map[string]*ir.Expr, opts ...opt) *ir.Node {
	n := &ir.Node{ID: id, Kind: ir.KindStep, Step: &ir.Step{Action: action, Args: args}}
	for _, o := range opts {
		o(n)
	}
	return n
}

// value builds a compute step.
func value(id, src string, opts ...opt) *ir.Node {
	return step(id, "compute", map[string]*ir.Expr{"value": x(src)}, opts...)
}

// sh builds a shell step.
func sh(id string, run *ir.Expr, opts ...opt) *ir.Node {
	return step(id, "shell", map[string]*ir.Expr{"run": run}, opts...)
}

func seq(id string, children ...*ir.Node) *ir.Node {
	return &ir.Node{ID: id, Kind: ir.KindSequence, Children: children}
}

func par(id string, max int, children ...*ir.Node) *ir.Node {
	return &ir.Node{ID: id, Kind: ir.KindParallel, Children: children, Parallel: &ir.Parallel{MaxConcurrency: max}}
}

func loop(id string, until string, max int, onMax string, children ...*ir.Node) *ir.Node {
	return &ir.Node{ID: id, Kind: ir.KindLoop, Children: children, Loop: &ir.Loop{Until: x(until), MaxIterations: max, OnMaxReached: onMax}}
}

func forEach(id, v, list string, max int, children ...*ir.Node) *ir.Node {
	return &ir.Node{ID: id, Kind: ir.KindFor, Children: children, For: &ir.For{Var: v, List: x(list), MaxConcurrency: max}}
}

func branch(id string, arms []*ir.Arm, els *ir.Node) *ir.Node {
	return &ir.Node{ID: id, Kind: ir.KindBranch, Match: &ir.Match{Arms: arms, Else: els}}
}

func arm(pred string, body ...*ir.Node) *ir.Arm {
	return &ir.Arm{Pred: x(pred), Body: seq("", body...)}
}

func try(id string, body, catch, finally []*ir.Node) *ir.Node {
	t := &ir.Try{Try: seq("", body...)}
	if catch != nil {
		t.Catch = seq("", catch...)
	}
	if finally != nil {
		t.Finally = seq("", finally...)
	}
	return &ir.Node{ID: id, Kind: ir.KindTry, Try: t}
}

func approval(id, onDeny string) *ir.Node {
	return &ir.Node{ID: id, Kind: ir.KindApproval, Approval: &ir.Approval{Title: tmpl("approve ", x("run.id")), OnDeny: onDeny},
		Output: schema.ObjectOf(&schema.Field{Name: "approved", Type: schema.BoolType}, &schema.Field{Name: "by", Type: schema.StringType},
			&schema.Field{Name: "note", Type: schema.StringType})}
}

func event(id, name string, timeout time.Duration, onTimeout string) *ir.Node {
	return &ir.Node{ID: id, Kind: ir.KindEvent, Event: &ir.Event{Name: name, Timeout: timeout, OnTimeout: onTimeout}}
}

func timer(id string, d time.Duration) *ir.Node {
	return &ir.Node{ID: id, Kind: ir.KindTimer, Timer: &ir.Timer{Duration: d}}
}

var identRE = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)

// program builds a one-workflow program the way the compiler would: it
// sets sequence dependencies and the names expressions read.
func program(name string, input *schema.Type, children ...*ir.Node) *ir.Program {
	if input == nil {
		input = schema.ObjectOf()
	}
	wf := &ir.Workflow{Name: name, Input: input, Root: seq("", children...), SourceHash: "hash-" + name}
	readable := map[string]bool{}
	ir.Walk(wf.Root, func(n *ir.Node) bool {
		if n.Kind == ir.KindStep || n.Kind == ir.KindApproval || n.Kind == ir.KindEvent {
			readable[n.ID] = true
		}
		return true
	})
	var setNames func(e *ir.Expr)
	setNames = func(e *ir.Expr) {
		if e == nil {
			return
		}
		for _, p := range e.Template {
			setNames(p.Expr)
		}
		for _, id := range identRE.FindAllString(e.Src, -1) {
			if readable[id] {
				if e.Names == nil {
					e.Names = map[string]string{}
				}
				e.Names[id] = id
			}
		}
	}
	seqDeps := func(nodes []*ir.Node) {
		for i, c := range nodes {
			c.Deps = append([]string(nil), c.Needs...)
			if i > 0 && nodes[i-1].ID != "" {
				c.Deps = append(c.Deps, nodes[i-1].ID)
			}
		}
	}
	ir.Walk(wf.Root, func(n *ir.Node) bool {
		switch n.Kind {
		case ir.KindSequence, ir.KindLoop, ir.KindFor, ir.KindWorktree:
			seqDeps(n.Children)
		case ir.KindParallel:
			for _, c := range n.Children {
				c.Deps = append([]string(nil), c.Needs...)
			}
		}
		if n.Step != nil {
			for _, a := range n.Step.Args {
				setNames(a)
			}
			setNames(n.Step.SkipIf)
			if n.Step.Retry != nil {
				setNames(n.Step.Retry.When)
			}
			if n.Step.Cache != nil {
				setNames(n.Step.Cache.Key)
			}
		}
		if n.Match != nil {
			for _, a := range n.Match.Arms {
				setNames(a.Pred)
			}
		}
		if n.Loop != nil {
			setNames(n.Loop.Until)
		}
		if n.For != nil {
			setNames(n.For.List)
		}
		return true
	})
	wf.Index()
	return &ir.Program{Workflows: []*ir.Workflow{wf}, SourceHash: wf.SourceHash}
}

// computeAction evaluates the step's value.
func computeAction() runtime.Action {
	return runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		return a.Eval(a.Step.Args["value"])
	})
}

// shellAction runs `sh -c` in its own process group, killed with the
// group when ctx ends.
func shellAction() runtime.Action {
	return runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		script, err := a.Render(a.Step.Args["run"], func(v any) (string, error) {
			return "'" + strings.ReplaceAll(fmt.Sprint(v), "'", `'\''`) + "'", nil
		})
		if err != nil {
			return nil, err
		}
		cmd := exec.Command("sh", "-c", script)
		cmd.Dir = a.Dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		select {
		case err = <-waited:
		case <-ctx.Done():
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck // best effort
			<-waited
			return nil, ctx.Err()
		}
		res := map[string]any{"stdout": out.String(), "stderr": errb.String(), "exit_code": int64(0)}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			res["exit_code"] = int64(ee.ExitCode())
			return nil, &runtime.StepError{Kind: runtime.ErrKindExit, Message: "command failed", ExitCode: ee.ExitCode(), Output: res, Retry: true}
		}
		return res, err
	})
}

// bundle is what a test works with.
type bundle struct {
	store  *sqlitestore.Store
	engine *runtime.Engine
	path   string
	dir    string

	mu     sync.Mutex
	events []store.Event
}

func (b *bundle) kinds(runID string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, e := range b.events {
		if e.RunID == runID {
			k := e.Kind
			if e.NodeID != "" {
				k += " " + e.NodeID
			}
			out = append(out, k)
		}
	}
	return out
}

// setup opens a store in a temporary directory and an engine over it.
func setup(t testing.TB, actions runtime.Actions, cfg ...func(*runtime.Config)) *bundle {
	t.Helper()
	path := filepath.Join(t.TempDir(), "smithers.db")
	return setupAt(t, path, actions, cfg...)
}

func setupAt(t testing.TB, path string, actions runtime.Actions, cfg ...func(*runtime.Config)) *bundle {
	t.Helper()
	s, err := sqlitestore.Open(context.Background(), path, sqlitestore.Options{Synchronous: os.Getenv("SMITHC_SYNC")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	b := &bundle{store: s, path: path}
	if actions == nil {
		actions = runtime.Actions{}
	}
	if actions["compute"] == nil {
		actions["compute"] = computeAction()
	}
	if actions["shell"] == nil {
		actions["shell"] = shellAction()
	}
	// Engines over the same file share the working directory.
	dir := filepath.Join(filepath.Dir(path), "work")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b.dir = dir
	c := runtime.Config{Store: s, Actions: actions, PollInterval: 20 * time.Millisecond, Dir: dir,
		ObserveFunc: func(e store.Event) {
			b.mu.Lock()
			b.events = append(b.events, e)
			b.mu.Unlock()
		}}
	for _, f := range cfg {
		f(&c)
	}
	e, err := runtime.New(c)
	if err != nil {
		t.Fatal(err)
	}
	b.engine = e
	return b
}

// nodeStates returns "id[scope]=state" for every node instance of a run.
func (b *bundle) nodeStates(t testing.TB, runID string) map[string]string {
	t.Helper()
	rows, err := b.store.NodeList(context.Background(), &store.NodeListParams{RunID: runID})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		k := r.NodeID
		if r.Scope != "" {
			k += "[" + r.Scope + "]"
		}
		out[k] = string(r.State)
	}
	return out
}

// nodeErrorKind returns the error kind of a run's top-level node id.
func (b *bundle) nodeErrorKind(t testing.TB, runID, nodeID string) string {
	t.Helper()
	n, err := b.store.NodeGet(context.Background(), &store.NodeGetParams{RunID: runID, NodeID: nodeID})
	if err != nil {
		t.Fatal(err)
	}
	return n.ErrorKind
}
