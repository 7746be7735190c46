package checker

import (
	"fmt"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/schema"
)

var (
	runType   = schema.ObjectOf(&schema.Field{Name: "id", Type: schema.StringType}, &schema.Field{Name: "attempt", Type: schema.IntType})
	errorType = schema.ObjectOf(&schema.Field{Name: "message", Type: schema.StringType}, &schema.Field{Name: "kind", Type: schema.StringType}, &schema.Field{Name: "exit_code", Type: schema.IntType})
)

// nodeResolver resolves the names an expression of a workflow or fragment
// reads at one point of its graph.
type nodeResolver struct {
	g     *graph
	at    *gnode // the reading node
	ev    int32  // the event at which the expression is evaluated
	inner *gnode // the innermost node whose context (for, loop, catch) applies
	what  string // the reader, for messages: `step "a"`
	err   bool   // error is readable (a retry's when)
}

// scopeAt returns an expression scope reading at the start of n.
func (g *graph) scopeAt(n *gnode, mode exprMode, what string) *exprScope {
	// One allocation for both.
	sr := &struct {
		sc exprScope
		r  nodeResolver
	}{exprScope{mode: mode, what: what}, nodeResolver{g: g, at: n, ev: start(n), inner: n, what: n.what()}}
	sr.sc.r = &sr.r
	return &sr.sc
}

// resolve implements resolver.
func (r *nodeResolver) resolve(name string) (vt, *Ref, *problem) {
	switch name {
	case "input":
		return r.g.inputType(), &Ref{Name: name, Kind: RefInput}, nil
	case "run":
		return of(runType), &Ref{Name: name, Kind: RefRun}, nil
	}
	var loop, forN, catch bool
	for p := r.inner; p != nil; p = p.parent {
		switch p.kind {
		case gLoop:
			if !loop && name == "iteration" {
				return tInt, &Ref{Name: name, Kind: RefIteration}, nil
			}
			loop = true
		case gFor:
			fs := p.stmt.(*ast.ForStmt)
			if !forN && name == "index" {
				return tInt, &Ref{Name: name, Kind: RefIndex}, nil
			}
			forN = true
			if fs.Var.Name == name {
				return r.g.forElem(p), &Ref{Name: name, Kind: RefForVar, Stmt: fs}, nil
			}
		case gCatch:
			catch = true
		}
	}
	if name == "error" && (catch || r.err) {
		return of(errorType), &Ref{Name: name, Kind: RefError}, nil
	}
	if r.g.frag != nil {
		for _, f := range r.g.c.info.Params[r.g.frag] {
			if f.Name == name {
				return paramType(f), &Ref{Name: name, Kind: RefParam}, nil
			}
		}
	}
	switch name {
	case "iteration":
		return tAny, nil, &problem{code: "unknown-name", summary: "iteration can only be read inside a loop"}
	case "index":
		return tAny, nil, &problem{code: "unknown-name", summary: "index can only be read inside a for"}
	case "error":
		return tAny, nil, &problem{code: "unknown-name", summary: "error can only be read in a catch body or in a retry's when"}
	}
	if n := r.at.scope.ids[name]; n != nil {
		return r.node(n, name)
	}
	p := &problem{
		code:    "unknown-name",
		summary: fmt.Sprintf("unknown name %q", name),
		hint:    didYouMean(name, r.names()),
		detail:  "An expression may read input, run, the ids of steps, approvals and events, and the variables of enclosing for, loop and catch blocks.",
	}
	if r.g.frag != nil {
		p.detail = "A fragment reads its parameters, input and its own nodes, never its host's: pass host values as parameters."
	}
	if in := r.g.inputType(); in.s != nil && in.s.Kind == schema.Object && in.s.Field(name) != nil {
		p.hint = fmt.Sprintf("did you mean input.%s?", name)
		p.detail = fmt.Sprintf("%q is a field of the workflow's input; inputs are read through input.", name)
	} else if w := r.g.c.otherWorkflowWith(name, r.g.wf); w != "" {
		p.summary = fmt.Sprintf("unknown name %q: it is a node of workflow %q, not of %s", name, w, r.g.ownerName())
		p.hint = ""
		if r.g.frag == nil {
			p.detail = fmt.Sprintf("A workflow reads only its own nodes. To use what workflow %q computes, run it as a child with a call step (step p { call %s { input = { ... } } }) and read p, or move the node here.", w, w)
		}
	}
	if fs := r.g.forVar(name); fs != nil {
		p.detail = fmt.Sprintf("%q is the variable of a for; it is only defined inside that for's body (after the for, read the body's steps as lists).", name)
	}
	for _, id := range r.at.scope.order {
		if u := r.at.scope.ids[id]; u.kind == gUse && u.mount != nil && u.mount.ids[name] != nil {
			p.hint = fmt.Sprintf("did you mean %q?", id+"."+name)
			p.detail = "Nodes of a mounted fragment are read through the mount's prefix."
			break
		}
	}
	return tAny, nil, p
}

func paramType(f *schema.Field) vt {
	t := of(f.Type)
	t.opt = f.Optional
	return t
}

// member implements resolver.
func (r *nodeResolver) member(ns *gnode, name string) (vt, *Ref, *problem) {
	n := ns.mount.ids[name]
	if n == nil {
		return tAny, nil, &problem{
			code:    "unknown-name",
			summary: fmt.Sprintf("unknown id %q in the mount %q", name, ns.full),
			hint:    didYouMean(name, ns.mount.order),
		}
	}
	return r.node(n, n.full[len(r.at.scope.prefix):])
}

// node reads node n, called name in the expression.
func (r *nodeResolver) node(n *gnode, name string) (vt, *Ref, *problem) {
	if n.kind == gUse {
		if n.mount == nil {
			return tAny, nil, nil
		}
		return vt{s: schema.AnyType, ns: n}, nil, nil
	}
	if !n.kind.readable() {
		return tAny, nil, &problem{code: "no-output", summary: fmt.Sprintf("%s has no output to read", n.what()),
			detail: "Only steps, approvals and events produce values; read one of the nodes inside it."}
	}
	t, p := r.g.read(r, n, name)
	if p != nil {
		if n.idRange.IsValid() {
			p.related = append(p.related, diag.Related{Range: n.idRange, Message: n.what() + " is declared here"})
		}
		return tAny, nil, p
	}
	return t, &Ref{Name: name, Kind: RefNode, Stmt: n.stmt}, nil
}

// names lists the names readable by r, for hints.
func (r *nodeResolver) names() []string {
	out := []string{"input", "run"}
	for p := r.inner; p != nil; p = p.parent {
		switch p.kind {
		case gLoop:
			out = append(out, "iteration")
		case gFor:
			out = append(out, "index", p.stmt.(*ast.ForStmt).Var.Name)
		case gCatch:
			out = append(out, "error")
		}
	}
	if r.g.frag != nil {
		for _, f := range r.g.c.info.Params[r.g.frag] {
			out = append(out, f.Name)
		}
	}
	return append(out, r.at.scope.order...)
}

// inputType is the type of input in the graph.
func (g *graph) inputType() vt {
	if g.wf != nil {
		if t := g.c.info.Inputs[g.wf]; t != nil {
			return of(t)
		}
	}
	return tAny
}

// read returns the type of t as read by r, or why it cannot be read.
func (g *graph) read(r *nodeResolver, t *gnode, name string) (vt, *problem) {
	if g.before(t, r.ev) {
		l := lca(r.at, t)
		return g.wrap(t, l, l == r.at), nil
	}
	if l := commonLoop(r.at, t); l != nil && t.n >= r.at.n {
		return g.wrap(t, l, false).optional(), nil // the previous iteration's value
	}
	return tAny, g.notFinished(r, t, name)
}

// wrap returns the type of t read from outside the blocks between t and
// stop (an ancestor of t): optional out of arms and try parts and after a
// skipping approval, a list out of a for, the last iteration out of a loop.
//
// A reader inside stop after a skipping approval of stop's own body is
// skipped with t, so the approval makes no difference to it; but stop
// itself reading its body when it ends (a loop's until, the workflow's
// output) runs whether or not the approval skipped the rest: with self,
// a skipping approval before t's branch in stop makes t optional too.
func (g *graph) wrap(t *gnode, stop *gnode, self bool) vt {
	v := g.c.outputOf(t)
	if t.optSelf {
		v = v.optional()
	}
	for n := t; n.parent != nil; n = n.parent {
		p := n.parent
		if p == stop {
			if self && p.kind.ordered() && p.firstSkip < n.idx {
				v = v.optional()
			}
			break
		}
		switch p.kind {
		case gArm, gTryPart, gCatch:
			v = v.optional()
		case gFor:
			v = listOf(v)
		}
		if p.kind.ordered() && p.firstSkip < n.idx {
			v = v.optional()
		}
	}
	return v
}

// lca returns the deepest node containing both a and b (or one of them).
func lca(a, b *gnode) *gnode {
	for a.depth > b.depth {
		a = a.parent
	}
	for b.depth > a.depth {
		b = b.parent
	}
	for a != b {
		a, b = a.parent, b.parent
	}
	return a
}

// commonLoop returns the innermost loop containing both a and b.
func commonLoop(a, b *gnode) *gnode {
	for p := lca(a, b); p != nil; p = p.parent {
		if p.kind == gLoop {
			return p
		}
	}
	return nil
}

// childToward returns the kid of anc on the way to n (n itself if it is a
// kid of anc).
func childToward(anc, n *gnode) *gnode {
	for n != nil && n.parent != anc {
		n = n.parent
	}
	return n
}

// notFinished explains why t cannot be read by r.
func (g *graph) notFinished(r *nodeResolver, t *gnode, name string) *problem {
	if t == r.at {
		return &problem{code: "self-reference", summary: fmt.Sprintf("%s cannot read its own output", r.what),
			detail: "Inside a loop a step may read its previous iteration; elsewhere a step reads only nodes that finished before it."}
	}
	l := lca(r.at, t)
	ca, ct := childToward(l, r.at), childToward(l, t)
	p := &problem{code: "not-finished", summary: fmt.Sprintf("%q is not guaranteed to have finished before %s reads it", name, r.what)}
	switch {
	case ca == nil || ct == nil:
	case l.kind == gMatch || l.kind == gBranch:
		p.detail = fmt.Sprintf("%q is in another arm of the %s, and only one arm runs.", name, kindName(l.kind))
	case l.kind == gTry || (l.kind.ordered() && ct.idx > ca.idx):
		p.detail = fmt.Sprintf("%q runs after %s; move the reading node after it.", name, r.what)
	case ca == r.at && (r.at.kind == gFor || r.at.kind == gMatch || r.at.kind == gBranch):
		p.detail = fmt.Sprintf("%q is inside the %s and runs after its list or predicate is evaluated.", name, kindName(r.at.kind))
	default:
		p.detail = fmt.Sprintf("%q runs concurrently with %s (in a parallel, or with no order between them).", name, r.what)
		if r.at.kind.readable() || r.at.kind == gTimer {
			p.hint = fmt.Sprintf("add needs = [%s] to %s", name, r.what)
		}
	}
	return p
}

// forVar returns a for of the graph's own source whose variable is name,
// or nil (the variables are indexed once per graph).
func (g *graph) forVar(name string) *ast.ForStmt {
	if g.forVars == nil {
		g.forVars = map[string]*ast.ForStmt{}
		for _, n := range g.nodes {
			if fs, ok := n.stmt.(*ast.ForStmt); ok && n.home {
				if _, dup := g.forVars[fs.Var.Name]; !dup {
					g.forVars[fs.Var.Name] = fs
				}
			}
		}
	}
	return g.forVars[name]
}

// otherWorkflowWith returns the name of a workflow other than w that
// declares a node called id, or "" (indexed once per check).
func (c *checker) otherWorkflowWith(id string, w *ast.WorkflowDecl) string {
	if c.nodeOwners == nil {
		c.nodeOwners = map[string][]*ast.WorkflowDecl{}
		for _, wf := range c.wfOrder {
			seen := map[string]bool{}
			if wf.Body != nil {
				eachStmt(wf.Body, func(st ast.Stmt) {
					var id string
					switch s := st.(type) {
					case *ast.StepStmt:
						id = s.ID.Name
					case *ast.ApprovalStmt:
						id = s.ID.Name
					case *ast.EventStmt:
						id = s.ID.Name
					}
					if id != "" && !seen[id] {
						seen[id] = true
						c.nodeOwners[id] = append(c.nodeOwners[id], wf)
					}
				})
			}
		}
	}
	for _, o := range c.nodeOwners[id] {
		if o != w {
			return o.Name.Name
		}
	}
	return ""
}

// eachStmt calls fn on every statement of body and of the bodies nested
// in it, in source order (mounted fragments are not entered).
func eachStmt(body *ast.Body, fn func(ast.Stmt)) {
	if body == nil {
		return
	}
	for _, st := range body.Nodes {
		if st == nil {
			continue
		}
		fn(st)
		switch s := st.(type) {
		case *ast.SequenceStmt:
			eachStmt(s.Body, fn)
		case *ast.ParallelStmt:
			eachStmt(s.Body, fn)
		case *ast.LoopStmt:
			eachStmt(s.Body, fn)
		case *ast.ForStmt:
			eachStmt(s.Body, fn)
		case *ast.WorktreeStmt:
			eachStmt(s.Body, fn)
		case *ast.MatchStmt:
			for _, a := range s.Arms {
				if a != nil {
					eachStmt(a.Body, fn)
				}
			}
			if s.Else != nil {
				eachStmt(s.Else.Body, fn)
			}
		case *ast.BranchStmt:
			eachStmt(s.Then, fn)
			if s.Else != nil {
				eachStmt(s.Else.Body, fn)
			}
		case *ast.TryStmt:
			eachStmt(s.Try, fn)
			eachStmt(s.Catch, fn)
			eachStmt(s.Finally, fn)
		}
	}
}
