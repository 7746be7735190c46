package checker

import (
	"fmt"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/schema"
)

// checkActionBlock checks a block of an action (http, call, env, ...).
func (g *graph) checkActionBlock(n *gnode, s *ast.StepStmt, b *ast.Block, bs schema.BlockSpec) {
	c := g.c
	owner := b.Kind.Name + " block of " + n.what()
	if bs.Label != "" && b.Label == nil {
		c.errorf(b.Kind.Range, "missing-label", "%s needs a %s name: %s NAME { ... }", b.Kind.Name, bs.Label, b.Kind.Name)
	}
	if bs.Label == "" && b.Label != nil {
		c.errorf(b.Label.Range, "unexpected-label", "%s takes no name", b.Kind.Name)
	}
	var callee *ast.WorkflowDecl
	if bs.Label == "workflow" && b.Label != nil {
		callee = c.workflows[b.Label.Name]
		if callee == nil {
			names := make([]string, 0, len(c.wfOrder))
			for _, w := range c.wfOrder {
				names = append(names, w.Name.Name)
			}
			c.report(diag.Diagnostic{Code: "unknown-workflow", Summary: "unknown workflow " + quote(b.Label.Name),
				Hint: didYouMean(b.Label.Name, names), Detail: "call runs another workflow of the same file as a child run.", Subject: b.Label.Range})
		} else {
			c.info.Calls[s] = callee
		}
	}
	set := g.attrs(n, b.Kind.Range)
	set.owner = owner
	if bs.FreeForm != nil {
		for _, a := range b.Attrs {
			if a != nil {
				c.checkExpr(a.Value, g.scopeAt(n, modeRuntime, a.Name.Name+" of "+owner), bs.FreeForm, bs.FreeForm.Kind == schema.Any)
			}
		}
		dupAttrs(c, b.Attrs, owner)
	} else {
		var rules []attrRule
		for _, a := range bs.Attrs {
			r := actionRule(a)
			if callee != nil && a.Name == "input" {
				r.typ = c.info.Inputs[callee]
				r.required = r.required || hasRequired(r.typ)
			}
			rules = append(rules, r)
		}
		if callee != nil {
			c.noSecret = "A call's input is stored with the child run, and a secret must never be stored: read it in the called workflow with secret(\"NAME\") where it is used."
		}
		set.check(b.Attrs, rules)
		c.noSecret = ""
	}
	names := make([]string, 0, len(bs.Blocks))
	for _, sub := range bs.Blocks {
		names = append(names, sub.Name)
	}
	blocks := c.checkBlocks(b.Blocks, names, owner)
	for _, sub := range bs.Blocks {
		if nb := blocks[sub.Name]; nb != nil {
			g.checkActionBlock(n, s, nb, sub)
		} else if sub.Required {
			c.errorf(b.Kind.Range, "missing-block", "%s needs a %s block", owner, sub.Name)
		}
	}
}

// dupAttrs reports attributes set twice in a free-form block.
func dupAttrs(c *checker, attrs []*ast.Attr, owner string) {
	seen := map[string]*ast.Attr{}
	for _, a := range attrs {
		if a == nil {
			continue
		}
		if prev := seen[a.Name.Name]; prev != nil {
			c.report(diag.Diagnostic{Code: "duplicate-attribute", Summary: fmt.Sprintf("duplicate attribute %q in %s: it is set twice", a.Name.Name, owner),
				Subject: a.Name.Range, Related: []diag.Related{{Range: prev.Name.Range, Message: "first set here"}}})
			continue
		}
		seen[a.Name.Name] = a
	}
}

func hasRequired(t *schema.Type) bool {
	if t == nil {
		return false
	}
	for _, f := range t.Fields {
		if !f.Optional && !f.HasDefault {
			return true
		}
	}
	return false
}

// declaredOutput returns the output type a node declares, or nil.
func (c *checker) declaredOutput(s ast.Stmt) *schema.Type {
	if t, ok := c.declared[s]; ok {
		return t
	}
	var te ast.TypeExpr
	switch s := s.(type) {
	case *ast.StepStmt:
		te = s.Output
	case *ast.ApprovalStmt:
		te = s.Output
	case *ast.EventStmt:
		te = s.Output
	}
	var t *schema.Type
	if te != nil {
		t = c.typeOf(te)
	}
	c.declared[s] = t
	return t
}

// outputOf returns the type of a step, approval or event as read in its
// own scope.
func (c *checker) outputOf(n *gnode) vt {
	if t, ok := c.outputs[n.stmt]; ok {
		return t
	}
	c.outputs[n.stmt] = tAny // recursion guard
	t := c.computeOutput(n)
	c.outputs[n.stmt] = t
	return t
}

func (c *checker) computeOutput(n *gnode) vt {
	decl := c.declaredOutput(n.stmt)
	switch s := n.stmt.(type) {
	case *ast.ApprovalStmt:
		fields := []*schema.Field{
			{Name: "approved", Type: schema.BoolType},
			{Name: "by", Type: schema.StringType},
			{Name: "note", Type: schema.StringType},
		}
		// A denial that continues gives no output fields: they read as
		// optional then.
		denyContinues := constString(s.Attrs, "on_deny") == "continue"
		if decl != nil {
			if decl.Kind != schema.Object {
				c.errorf(s.Output.Span(), "bad-output", "the output of an approval must be an object type, not %s", decl)
			} else {
				for _, f := range decl.Fields {
					switch f.Name {
					case "approved", "by", "note":
						c.errorf(s.Output.Span(), "reserved-field", "approval output field %q is reserved (approvals always have approved, by and note)", f.Name)
					default:
						if denyContinues && !f.Optional && !f.HasDefault {
							opt := *f
							opt.Optional = true
							f = &opt
						}
						fields = append(fields, f)
					}
				}
			}
		}
		return of(&schema.Type{Kind: schema.Object, Fields: fields})
	case *ast.EventStmt:
		if decl != nil {
			return of(decl)
		}
		return tAny
	case *ast.StepStmt:
		if decl != nil {
			return of(decl)
		}
		spec := c.firstAction(s)
		if spec == nil {
			return tAny
		}
		if spec.Output != nil {
			return of(spec.Output)
		}
		if b := findBlockLabel(s, "workflow", spec); b != nil {
			if w := c.workflows[b.Label.Name]; w != nil {
				return c.workflowOutputVT(w)
			}
			return tAny
		}
		for _, a := range spec.Attrs {
			if v := findAttr(s.Attrs, a.Name); v != nil && indexOf(spec.Selectors, a.Name) >= 0 {
				home := c.home[s]
				if home == nil {
					return tAny
				}
				r := c.checkExpr(v.Value, home.g().scopeAt(home, modeRuntime, a.Name+" of "+home.what()), nil, true)
				return r.t.required()
			}
		}
	}
	return tAny
}

// findBlockLabel returns the step's block of spec that takes the given
// label (call's workflow), or nil.
func findBlockLabel(s *ast.StepStmt, label string, spec *schema.ActionSpec) *ast.Block {
	for _, bs := range spec.Blocks {
		if bs.Label != label {
			continue
		}
		for _, b := range s.Blocks {
			if b != nil && b.Kind.Name == bs.Name && b.Label != nil {
				return b
			}
		}
	}
	return nil
}

// checkStepOutput checks a step's declared output against its action and
// records the step's output type.
func (g *graph) checkStepOutput(n *gnode, s *ast.StepStmt, spec *schema.ActionSpec) {
	c := g.c
	decl := c.declaredOutput(s)
	if spec != nil && decl != nil {
		for _, a := range spec.Attrs {
			v := findAttr(s.Attrs, a.Name)
			if v == nil || indexOf(spec.Selectors, a.Name) < 0 || spec.Output != nil {
				continue
			}
			// compute: the value must fit the declared output
			c.checkExpr(v.Value, g.scopeAt(n, modeRuntime, a.Name+" of "+n.what()), decl, false)
		}
		if spec.Output != nil && !spec.ParsesDeclaredOutput && !spec.Output.AssignableTo(decl) {
			c.report(diag.Diagnostic{Code: "bad-output",
				Summary: fmt.Sprintf("%s declares output %s, but the %s action produces %s", n.what(), decl, spec.Name, spec.Output.Structure()),
				Subject: s.Output.Span()})
		}
		if b := findBlockLabel(s, "workflow", spec); b != nil {
			if w := c.workflows[b.Label.Name]; w != nil {
				if out := c.workflowOutput(w); !out.AssignableTo(decl) && !stringyAssign(of(out), decl) {
					c.report(diag.Diagnostic{Code: "bad-output",
						Summary: fmt.Sprintf("%s declares output %s, but workflow %q returns %s", n.what(), decl, w.Name.Name, out),
						Subject: s.Output.Span()})
				}
			}
		}
	}
	c.info.Outputs[s] = c.outputOf(n).schemaType()
}
