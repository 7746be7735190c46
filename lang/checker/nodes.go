package checker

import (
	"fmt"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/schema"
)

var (
	needsRule = attrRule{name: "needs", kind: rNeeds}
	descRule  = attrRule{name: "description", kind: rString}
	onDeny    = []string{"fail", "skip", "continue"}
	onTimeout = []string{"fail", "skip", "continue"}
)

// checkGraph checks every node of the graph's own source, in order.
func (g *graph) checkGraph() {
	if g.huge {
		return // reported; checking would only cost time
	}
	g.checkNeedsCycles()
	for _, n := range g.nodes {
		if n.home && n.stmt != nil {
			g.c.home[n.stmt] = n
		}
	}
	for _, n := range g.nodes {
		if n.home && n.stmt != nil {
			g.checkNode(n)
		}
	}
}

// attrs returns an attribute checker for node n.
func (g *graph) attrs(n *gnode, at diag.Range) *attrSet {
	return &attrSet{c: g.c, owner: n.what(), at: at, g: g, n: n}
}

// checkNode checks one node's attributes, blocks and expressions.
func (g *graph) checkNode(n *gnode) {
	c := g.c
	switch s := n.stmt.(type) {
	case *ast.StepStmt:
		g.checkStep(n, s)
	case *ast.ApprovalStmt:
		c.checkBlocks(s.Blocks, nil, n.what())
		g.attrs(n, s.ID.Range).check(s.Attrs, []attrRule{
			{name: "title", kind: rExpr, typ: schema.StringType, required: true},
			{name: "summary", kind: rExpr, typ: schema.AnyType},
			{name: "on_deny", kind: rEnum, enum: onDeny},
			{name: "timeout", kind: rDuration},
			needsRule, descRule,
		})
		c.info.Outputs[s] = c.outputOf(n).schemaType()
	case *ast.EventStmt:
		g.attrs(n, s.ID.Range).check(s.Attrs, []attrRule{
			{name: "name", kind: rString, required: true},
			{name: "timeout", kind: rDuration},
			{name: "on_timeout", kind: rEnum, enum: onTimeout},
			needsRule, descRule,
		})
		if a := findAttr(s.Attrs, "on_timeout"); a != nil && findAttr(s.Attrs, "timeout") == nil {
			c.errorf(a.Name.Range, "missing-attribute", "on_timeout of %s has no effect without a timeout", n.what())
		}
		c.info.Outputs[s] = c.outputOf(n).schemaType()
	case *ast.TimerStmt:
		// checkTimer checks the values: exactly one of duration and until.
		byName := g.attrs(n, s.ID.Range).check(s.Attrs, nil, "duration", "until", "needs", "description")
		g.checkTimer(n, s, byName)
	case *ast.SequenceStmt:
		g.attrs(n, s.KeywordRange).check(attrsOf(s.Body), []attrRule{needsRule, descRule})
	case *ast.ParallelStmt:
		g.attrs(n, s.KeywordRange).check(attrsOf(s.Body), []attrRule{{name: "max_concurrency", kind: rPosInt}, needsRule, descRule})
	case *ast.WorktreeStmt:
		g.attrs(n, s.ID.Range).check(attrsOf(s.Body), []attrRule{
			{name: "path", kind: rString, required: true},
			{name: "branch", kind: rExpr, typ: schema.StringType},
			{name: "reuse", kind: rBool},
			needsRule, descRule,
		})
	case *ast.LoopStmt:
		byName := g.attrs(n, s.ID.Range).check(attrsOf(s.Body), []attrRule{
			{name: "max_iterations", kind: rPosInt, required: true},
			{name: "on_max_reached", kind: rEnum, enum: []string{"fail", "return-last"}},
			needsRule, descRule,
		}, "until")
		if a := byName.get("until"); a != nil {
			sc := &exprScope{mode: modePredicate, what: "until of " + n.what(),
				r: &nodeResolver{g: g, at: n, ev: end(n), inner: n, what: "until of " + n.what()}}
			c.checkExpr(a.Value, sc, schema.BoolType, false)
		}
	case *ast.ForStmt:
		g.checkFor(n, s)
	case *ast.MatchStmt:
		g.checkMatch(n, s)
	case *ast.BranchStmt:
		c.checkExpr(s.Pred, g.scopeAt(n, modePredicate, "the predicate of branch"), schema.BoolType, false)
		g.checkArmBodies(n)
	case *ast.TryStmt:
		for _, k := range n.kids {
			g.bodyAttrs(k)
		}
		if s.Catch == nil && s.Finally == nil {
			c.errorf(s.KeywordRange, "bad-try", "try needs a catch or a finally block")
		}
	case *ast.UseStmt:
		g.checkUse(n, s)
	}
}

// bodyAttrs reports attributes in a body that takes none (arms, try parts).
func (g *graph) bodyAttrs(n *gnode) {
	if n.body == nil {
		return
	}
	owner := "this " + kindName(n.kind)
	if n.kind == gArm {
		owner = "this arm"
	}
	(&attrSet{c: g.c, owner: owner}).check(n.body.Attrs, nil)
}

func (g *graph) checkArmBodies(n *gnode) {
	for _, k := range n.kids {
		g.bodyAttrs(k)
	}
}

// checkTimer checks a timer: exactly one of duration and until.
func (g *graph) checkTimer(n *gnode, s *ast.TimerStmt, byName attrIndex) {
	c := g.c
	d, u := byName.get("duration"), byName.get("until")
	switch {
	case d == nil && u == nil:
		c.report(diag.Diagnostic{Code: "missing-attribute", Summary: n.what() + " is missing duration or until",
			Detail: "Write duration = \"10m\" to sleep, or until = EXPR for a time (RFC 3339 string or Unix seconds).", Subject: s.ID.Range})
	case d != nil && u != nil:
		c.errorf(u.Name.Range, "conflicting-attributes", "%s sets both duration and until; keep one", n.what())
	}
	if d != nil {
		c.constAttr(d, attrRule{name: "duration", kind: rDuration}, n.what())
	}
	if u != nil {
		r := c.checkExpr(u.Value, g.scopeAt(n, modePredicate, "until of "+n.what()), nil, false)
		if k := r.t.kind(); r.ok && u.Value != nil && k != schema.String && k != schema.Int && k != schema.Any {
			c.errorf(u.Value.Range, "type-mismatch", "until of %s must be a time: an RFC 3339 string or Unix seconds (int), not %s", n.what(), r.t)
		}
	}
	if a := byName.get("description"); a != nil {
		c.constAttr(a, descRule, n.what())
	}
}

// checkFor checks a for: its variable, list and attributes.
func (g *graph) checkFor(n *gnode, s *ast.ForStmt) {
	c := g.c
	if !c.checkReserved(s.Var, "for variable") {
		if t := n.scope.ids[s.Var.Name]; t != nil {
			c.report(diag.Diagnostic{Code: "shadowed-name", Summary: fmt.Sprintf("for variable %q has the name of %s", s.Var.Name, t.what()),
				Detail: "Rename the variable so that expressions can read both.", Subject: s.Var.Range})
		}
	}
	g.attrs(n, s.KeywordRange).check(attrsOf(s.Body), []attrRule{{name: "max_concurrency", kind: rPosInt}, needsRule, descRule})
	g.forElem(n)
}

// forElem returns the element type of a for's list, checking the list.
func (g *graph) forElem(n *gnode) vt {
	s := n.stmt.(*ast.ForStmt)
	sc := &exprScope{mode: modePredicate, what: "the list of for " + s.Var.Name,
		r: &nodeResolver{g: g, at: n, ev: start(n), inner: n.parent, what: "the list of for " + s.Var.Name}}
	r := g.c.checkExpr(s.List, sc, nil, false)
	if !r.ok {
		return tAny
	}
	switch {
	case r.t.opt:
		g.c.report(diag.Diagnostic{Code: "optional-value", Summary: fmt.Sprintf("the list of for %s may be null (its type is %s)", s.Var.Name, r.t),
			Hint: "give a default with ?? []", Subject: s.List.Range})
	case r.t.isAny():
		return tAny
	case r.t.kind() != schema.List:
		g.c.report(diag.Diagnostic{Code: "for-not-list", Summary: fmt.Sprintf("cannot use for over %s: it is not a list", r.t),
			Subject: s.List.Range})
		return tAny
	}
	return r.t.elemType()
}

// checkMatch checks a match: its source and its arms' predicates.
func (g *graph) checkMatch(n *gnode, s *ast.MatchStmt) {
	c := g.c
	sc := g.scopeAt(n, modePredicate, "match")
	if src, _, p := sc.r.resolve(s.Source.Name); p != nil {
		c.report(diag.Diagnostic{Code: p.code, Summary: p.summary, Detail: p.detail, Hint: p.hint, Subject: s.Source.Range})
	} else if t := n.scope.ids[s.Source.Name]; t != nil && !t.kind.readable() {
		c.errorf(s.Source.Range, "no-output", "match needs a step, approval or event, not %s", t.what())
	} else {
		_ = src // the source's type is checked where the predicates read it
	}
	if len(s.Arms) == 0 {
		c.errorf(s.KeywordRange, "empty-match", "match needs at least one when arm")
	}
	for _, k := range n.kids {
		if k.pred != nil {
			c.checkExpr(k.pred, g.scopeAt(n, modePredicate, "the when predicate"), schema.BoolType, false)
		}
		g.bodyAttrs(k)
	}
}

// checkUse checks a use: its arguments against the fragment's parameters.
func (g *graph) checkUse(n *gnode, s *ast.UseStmt) {
	c := g.c
	frag := n.frag
	if frag == nil {
		for _, a := range s.Args {
			c.checkExpr(a, g.scopeAt(n, modeRuntime, "an argument of use"), nil, true)
		}
		return
	}
	params := c.info.Params[frag]
	for i, a := range s.Args {
		if i >= len(params) {
			c.errorf(a.Range, "arg-count", "fragment %q takes %d argument%s, got %d", frag.Name.Name, len(params), plural(len(params)), len(s.Args))
			break
		}
		p := params[i]
		c.checkExpr(a, g.scopeAt(n, modeRuntime, "argument "+p.Name+" of "+frag.Name.Name), p.Type, p.Optional)
	}
	if len(s.Args) < len(params) {
		missing := []string{}
		for _, p := range params[len(s.Args):] {
			if !p.Optional {
				missing = append(missing, p.Name)
			}
		}
		if len(missing) > 0 {
			c.errorf(s.Fragment.Range, "arg-count", "fragment %q needs %d argument%s, got %d (missing %s)", frag.Name.Name, len(params), plural(len(params)), len(s.Args), quoteList(missing))
		}
	}
}

// attrsOf returns a body's attributes (none for a missing body).
func attrsOf(b *ast.Body) []*ast.Attr {
	if b == nil {
		return nil
	}
	return b.Attrs
}
