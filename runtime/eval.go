package runtime

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// program returns the compiled form of x, compiling it once per Engine
// when the compiler left it nil.
func (e *Engine) program(x *ir.Expr) (*vm.Program, error) {
	if x.Program != nil {
		return x.Program, nil
	}
	e.mu.Lock()
	p := e.progs[x]
	e.mu.Unlock()
	if p != nil {
		return p, nil
	}
	p, err := x.Compile()
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.progs[x] = p
	e.mu.Unlock()
	return p, nil
}

// exprError wraps an evaluation failure as an attempt error of kind expr.
func exprError(x *ir.Expr, err error) *StepError {
	where := ""
	if x.Range.IsValid() {
		where = " at " + x.Range.String()
	}
	return &StepError{Kind: ErrKindExpr, Message: fmt.Sprintf("evaluating %s%s: %v", x.Src, where, err), Err: err}
}

// eval evaluates x for the instance in at p. pos is the evaluator's
// pre-order position (it decides which loop iteration a later body step
// reads); extra adds or overrides names (error, run).
func (r *runner) eval(x *ir.Expr, in *instance, p path, pos int, extra map[string]any) (any, error) {
	if x == nil {
		return nil, nil
	}
	if x.Template != nil {
		return r.render(x, in, p, pos, extra, nil)
	}
	prog, err := r.e.program(x)
	if err != nil {
		return nil, exprError(x, err)
	}
	env, err := r.env(x, in, p, pos, extra)
	if err != nil {
		return nil, err
	}
	v, err := expr.Run(prog, env)
	if err != nil {
		return nil, exprError(x, err)
	}
	return schema.Canonical(v), nil
}

// evalBool evaluates a predicate.
func (r *runner) evalBool(x *ir.Expr, in *instance, p path, pos int, extra map[string]any) (bool, *StepError) {
	v, err := r.eval(x, in, p, pos, extra)
	if err != nil {
		return false, AsStepError(err)
	}
	b, ok := v.(bool)
	if !ok {
		return false, &StepError{Kind: ErrKindExpr, Message: fmt.Sprintf("%s gave %s, not a bool", x.Src, jsonValue(v))}
	}
	return b, nil
}

// render renders a template part by part; each interpolated value goes
// through quote (nil: schema.Text, the one text form of values). A plain
// expression is evaluated and formatted.
func (r *runner) render(x *ir.Expr, in *instance, p path, pos int, extra map[string]any, quote func(any) (string, error)) (string, error) {
	if x == nil {
		return "", nil
	}
	if x.Template == nil {
		v, err := r.eval(x, in, p, pos, extra)
		if err != nil {
			return "", err
		}
		return schema.Text(v), nil
	}
	var b strings.Builder
	for _, part := range x.Template {
		if part.Expr == nil {
			b.WriteString(part.Lit)
			continue
		}
		v, err := r.eval(part.Expr, in, p, pos, extra)
		if err != nil {
			return "", err
		}
		if quote == nil {
			b.WriteString(schema.Text(v))
			continue
		}
		s, err := quote(v)
		if err != nil {
			return "", exprError(part.Expr, err)
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// env builds the environment of an expression: input, run, the loop and
// for variables, error, fragment parameters, env() and secret(), and the
// outputs of the steps it names, read in the right instance.
func (r *runner) env(x *ir.Expr, in *instance, p path, pos int, extra map[string]any) (map[string]any, error) {
	r.envOnce.Do(r.initEnv)
	// The size is counted, not guessed: up to 8 entries (input, run,
	// env, secret, iteration and a step or two read) Go keeps the map in
	// one group, where a larger hint would allocate and clear a table of
	// groups for every evaluation.
	size := 5 + len(x.Names) + len(x.Params) + len(extra)
	for _, s := range p {
		if s.node.Kind == ir.KindFor {
			size += 2
		}
	}
	if in != nil {
		size++ // error, in a catch
	}
	env := make(map[string]any, size)
	env["input"] = r.input
	if _, ok := extra["run"]; !ok {
		env["run"] = r.runVar
	}
	env["env"], env["secret"] = r.envFn, r.secretFn
	env["iteration"] = int64(p.iteration())
	for _, s := range p {
		if s.node.Kind != ir.KindFor {
			continue
		}
		env["index"] = int64(s.index)
		if items := r.forItems(r.peekOrInst(s.node, trimPath(p, s.node))); s.index < len(items) {
			env[s.node.For.Var] = items[s.index]
		}
	}
	if in != nil {
		if ev := r.catchError(in.node, p); ev != nil {
			env["error"] = ev.env()
		}
	}
	for name, id := range x.Names {
		setPath(env, name, r.readValue(id, p, pos))
	}
	for name, px := range x.Params {
		v, err := r.eval(px, in, p, pos, extra)
		if err != nil {
			return nil, err
		}
		env[name] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	return env, nil
}

// initEnv makes the parts of every expression's environment that do
// not change during a session, once: expressions only read them.
func (r *runner) initEnv() {
	r.runVar = map[string]any{"id": r.run.ID, "attempt": int64(0)}
	r.envFn = func(name string) string {
		v, _ := r.e.cfg.LookupEnvFunc(name)
		return v
	}
	r.secretFn = func(name string) (string, error) {
		v, _ := r.e.cfg.LookupEnvFunc(name)
		// The program's secrets are known since the run started; a
		// program built without its list (by hand) adds them now.
		if err := r.e.addSecret(r.secrets, name, v); err != nil {
			return "", err
		}
		return v, nil
	}
}

// catchError returns the error of the try whose catch body holds n.
func (r *runner) catchError(n *ir.Node, p path) *errorValue {
	for c, a := n, n.Parent; a != nil; c, a = a, a.Parent {
		if a.Kind != ir.KindTry || a.Try == nil || a.Try.Catch != c {
			continue
		}
		var d tryData
		if r.data(r.peekOrInst(a, trimPath(p, a)), &d) {
			return d.Error
		}
	}
	return nil
}

// peekOrInst returns the instance of n at p.
func (r *runner) peekOrInst(n *ir.Node, p path) *instance { return r.inst(n, p) }

// peek returns the instance of n at p if it exists.
func (r *runner) peek(n *ir.Node, p path) *instance {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.insts[instKey(n.ID, p.scope())]
}

// readValue reads what the node id reads as from a node at p: the same
// for element and loop iteration; the previous iteration for a later
// step of an enclosing loop (nil in the first); the last iteration after
// a loop; a list in element order after a for.
func (r *runner) readValue(id string, p path, pos int) any {
	ref := r.wf.Lookup(id)
	if ref == nil {
		return nil
	}
	var reps []*ir.Node
	var common *ir.Node
	for _, a := range ancestors(ref) {
		if a.Kind == ir.KindLoop || a.Kind == ir.KindFor {
			reps = append(reps, a)
			if _, ok := p.lookup(a); ok && a.Kind == ir.KindLoop {
				common = a
			}
		}
	}
	return r.readAt(ref, reps, nil, p, pos, common)
}

func (r *runner) readAt(ref *ir.Node, reps []*ir.Node, q path, p path, pos int, common *ir.Node) any {
	for k, a := range reps {
		if i, ok := p.lookup(a); ok {
			// A later step of the loop, or the evaluating step itself,
			// reads the previous iteration.
			if a == common && pos <= r.pre[ref] {
				i--
				if i < 0 {
					return nil
				}
			}
			q = q.with(a, i)
			continue
		}
		ai := r.peek(a, q)
		if ai == nil {
			return nil
		}
		if a.Kind == ir.KindLoop {
			var d loopData
			r.data(ai, &d)
			q = q.with(a, d.Iteration)
			continue
		}
		items := r.forItems(ai)
		out := make([]any, len(items))
		for i := range items {
			out[i] = r.readAt(ref, reps[k+1:], q.with(a, i), p, pos, common)
		}
		return out
	}
	in := r.peek(ref, q)
	if in == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if in.row.State != store.NodeFinished {
		return nil
	}
	return in.value
}

// jsonValue shows a value in messages as JSON ({"verbose":false}), never
// as Go prints it (map[verbose:false]); long values are cut.
func jsonValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("a %T", v)
	}
	if s := []rune(string(b)); len(s) > 80 {
		return string(s[:79]) + "…"
	}
	return string(b)
}
