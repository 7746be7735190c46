package checker

import (
	"strings"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/schema"
)

// wfCheck is the state of one workflow's check.
type wfCheck struct {
	state  int // 1 checking, 2 done
	g      *graph
	out    *schema.Type
	outOpt bool // the output may be null (read optional, ?. in a caller)
}

// checkInputs resolves every workflow's input schema (calls need them
// before the callee is checked).
func (c *checker) checkInputs() {
	for _, w := range c.wfOrder {
		t := schema.ObjectOf()
		if w.Input != nil {
			t = c.fieldsType(w.Input.Fields, "the input of "+w.Name.Name)
		}
		c.info.Inputs[w] = t
	}
}

// checkFragments checks every fragment once, in its own scope.
func (c *checker) checkFragments() {
	for _, f := range c.info.Files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FragmentDecl)
			if !ok || c.info.Fragments[fd.Name.Name] != fd {
				continue
			}
			c.checkFragmentParams(fd)
		}
	}
	for _, f := range c.info.Files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FragmentDecl)
			if !ok || c.info.Fragments[fd.Name.Name] != fd {
				continue
			}
			g := c.newGraph(nil, fd, fd.Body)
			c.fragGraph[fd] = g
			for _, id := range g.scope.order {
				for _, p := range c.info.Params[fd] {
					if p.Name == id {
						n := g.scope.ids[id]
						c.errorf(n.idRange, "shadowed-name", "%s has the name of a parameter of fragment %q; rename one of them", n.what(), fd.Name.Name)
					}
				}
			}
			if fd.Body != nil {
				(&attrSet{c: c, owner: "fragment " + quote(fd.Name.Name)}).check(fd.Body.Attrs, []attrRule{descRule})
			}
			g.checkGraph()
		}
	}
}

// checkFragmentParams resolves a fragment's parameters.
func (c *checker) checkFragmentParams(fd *ast.FragmentDecl) {
	var params []*schema.Field
	seen := map[string]bool{}
	for _, p := range fd.Params {
		if p == nil {
			continue
		}
		c.checkReserved(p.Name, "parameter")
		if seen[p.Name.Name] {
			c.errorf(p.Name.Range, "duplicate-param", "duplicate parameter %q: it is declared twice", p.Name.Name)
			continue
		}
		seen[p.Name.Name] = true
		params = append(params, &schema.Field{Name: p.Name.Name, Type: c.typeOf(p.Type), Optional: p.Optional})
	}
	c.info.Params[fd] = params
}

// checkWorkflow checks one workflow of the main file.
func (c *checker) checkWorkflow(w *ast.WorkflowDecl) {
	st := c.wfState[w]
	if st == nil {
		st = &wfCheck{}
		c.wfState[w] = st
	}
	if st.state != 0 {
		return
	}
	st.state = 1
	st.out = schema.AnyType
	g := c.newGraph(w, nil, w.Body)
	st.g = g
	g.checkGraph()
	var attrs []*ast.Attr
	if w.Body != nil {
		attrs = w.Body.Attrs
	}
	owner := "workflow " + quote(w.Name.Name)
	byName := (&attrSet{c: c, owner: owner, at: w.Name.Range}).check(attrs, []attrRule{
		descRule,
		{name: "timeout", kind: rDuration},
		{name: "on_timeout", kind: rEnum, enum: []string{"fail", "cancel"}},
	}, "output")
	if a := byName.get("on_timeout"); a != nil && byName.get("timeout") == nil {
		c.errorf(a.Name.Range, "missing-attribute", "on_timeout of %s has no effect without a timeout", owner)
	}
	c.checkBudget(w, owner)
	out := c.computeWorkflowOutput(g, byName.get("output"))
	st.out, st.outOpt = out.schemaType(), out.opt && !out.isNull()
	c.info.WorkflowOutputs[w] = st.out
	st.state = 2
}

// computeWorkflowOutput types output = EXPR (read when everything has
// finished) or, by default, the last top-level node.
func (c *checker) computeWorkflowOutput(g *graph, a *ast.Attr) vt {
	if a != nil && a.Value != nil {
		sc := &exprScope{mode: modePredicate, what: "the workflow output",
			r: &nodeResolver{g: g, at: g.root, ev: end(g.root), inner: g.root, what: "the workflow output"}}
		r := c.checkExpr(a.Value, sc, nil, true)
		return r.t
	}
	if len(g.root.kids) == 0 {
		return of(schema.NullType)
	}
	last := g.root.kids[len(g.root.kids)-1]
	if last.kind.readable() {
		return g.wrap(last, g.root, true)
	}
	return tAny
}

// workflowOutput returns a workflow's output type, checking it first if
// needed (a call may name a workflow declared later).
func (c *checker) workflowOutput(w *ast.WorkflowDecl) *schema.Type {
	if st := c.wfState[w]; st != nil && st.state != 0 {
		return st.out
	}
	c.checkWorkflow(w)
	return c.wfState[w].out
}

// workflowOutputVT is workflowOutput as read by a caller: optional when
// the workflow may end without a value.
func (c *checker) workflowOutputVT(w *ast.WorkflowDecl) vt {
	t := of(c.workflowOutput(w))
	if c.wfState[w].outOpt {
		t = t.optional()
	}
	return t
}

// checkCallCycles reports workflows that call themselves, directly or
// through others.
func (c *checker) checkCallCycles() {
	calls := map[*ast.WorkflowDecl][]*ast.StepStmt{}
	owner := map[*ast.StepStmt]*ast.WorkflowDecl{}
	for _, w := range c.wfOrder {
		st := c.wfState[w]
		if st == nil || st.g == nil {
			continue
		}
		for _, n := range st.g.nodes {
			if s, ok := n.stmt.(*ast.StepStmt); ok && c.info.Calls[s] != nil {
				calls[w] = append(calls[w], s)
				owner[s] = w
			}
		}
	}
	state := map[*ast.WorkflowDecl]int{}
	var stack []*ast.WorkflowDecl
	reported := map[*ast.StepStmt]bool{}
	var visit func(w *ast.WorkflowDecl)
	visit = func(w *ast.WorkflowDecl) {
		state[w] = 1
		stack = append(stack, w)
		for _, s := range calls[w] {
			callee := c.info.Calls[s]
			switch state[callee] {
			case 0:
				visit(callee)
			case 1:
				i := 0
				for stack[i] != callee {
					i++
				}
				c.reportCallCycle(stack[i:], calls, reported)
			}
		}
		stack = stack[:len(stack)-1]
		state[w] = 2
	}
	for _, w := range c.wfOrder {
		if state[w] == 0 {
			visit(w)
		}
	}
}

// reportCallCycle reports a cycle of calls once at each call of it, with
// the cycle seen from the calling workflow.
func (c *checker) reportCallCycle(members []*ast.WorkflowDecl, calls map[*ast.WorkflowDecl][]*ast.StepStmt, reported map[*ast.StepStmt]bool) {
	for k, w := range members {
		next := members[(k+1)%len(members)]
		for _, s := range calls[w] {
			if c.info.Calls[s] != next || reported[s] {
				continue
			}
			reported[s] = true
			names := []string{}
			for j := range members {
				names = append(names, members[(k+j)%len(members)].Name.Name)
			}
			names = append(names, w.Name.Name)
			c.report(diag.Diagnostic{Code: "call-cycle", Summary: "call cycle: " + strings.Join(names, " -> ") + " (a workflow calls itself)",
				Detail: "A called workflow runs as a child run; a cycle of calls would never finish.", Subject: callLabel(s)})
		}
	}
}

func callLabel(s *ast.StepStmt) diag.Range {
	for _, b := range s.Blocks {
		if b != nil && b.Label != nil {
			return b.Label.Range
		}
	}
	return s.ID.Range
}

// checkBudget checks a workflow's budget { tokens = N, cost_usd = X }:
// constants, positive, at least one of them, nothing else.
func (c *checker) checkBudget(w *ast.WorkflowDecl, owner string) {
	b := w.Budget
	if b == nil {
		return
	}
	what := "budget of " + owner
	byName := (&attrSet{c: c, owner: what, at: b.Kind.Range}).check(b.Attrs, []attrRule{
		{name: "tokens", kind: rConst, typ: schema.IntType},
		{name: "cost_usd", kind: rConst, typ: schema.FloatType},
	})
	if byName.get("tokens") == nil && byName.get("cost_usd") == nil {
		c.errorf(b.Kind.Range, "missing-attribute", "%s sets no limit: give tokens = N, cost_usd = X or both", what)
	}
	c.checkNumber(byName.get("tokens"), "tokens of "+what, 0, -1)
	c.checkNumber(byName.get("cost_usd"), "cost_usd of "+what, 0, -1)
}
