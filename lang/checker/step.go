package checker

import (
	"fmt"
	"slices"
	"strings"

	exprast "github.com/expr-lang/expr/ast"
	exprparser "github.com/expr-lang/expr/parser"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/schema"
)

// stepRules are the attributes every step accepts, whatever its action.
var stepRules = []attrRule{
	needsRule, descRule,
	{name: "timeout", kind: rDuration},
	{name: "heartbeat_timeout", kind: rDuration},
	{name: "skip_if", kind: rPred},
	{name: "continue_on_fail", kind: rBool},
}

var retryRules = []attrRule{
	{name: "attempts", kind: rPosInt},
	{name: "backoff", kind: rEnum, enum: []string{"fixed", "linear", "exponential"}},
	{name: "delay", kind: rDuration},
	{name: "max_delay", kind: rDuration},
	{name: "jitter", kind: rDuration},
}

var cacheRules = []attrRule{
	{name: "key", kind: rExpr, typ: schema.AnyType, required: true},
	{name: "ttl", kind: rDuration},
}

// selection is the action a step selects, with the attribute or block
// that selects it.
type selection struct {
	spec *schema.ActionSpec
	at   diag.Range
	name string
}

// selectActions lists the actions a step's attributes and blocks select,
// in source order, one entry per action.
func (c *checker) selectActions(s *ast.StepStmt) []selection {
	var out []selection
	for _, a := range s.Attrs {
		if a != nil {
			if spec := c.selectors[a.Name.Name]; spec != nil {
				out = append(out, selection{spec: spec, at: a.Name.Range, name: a.Name.Name})
			}
		}
	}
	for _, b := range s.Blocks {
		if b != nil {
			if spec := c.selectors[b.Kind.Name]; spec != nil {
				out = append(out, selection{spec: spec, at: b.Kind.Range, name: b.Kind.Name})
			}
		}
	}
	if len(out) < 2 {
		return out
	}
	slices.SortStableFunc(out, func(a, b selection) int { return a.at.Start.Offset - b.at.Start.Offset })
	// One entry per action: the first that selects it.
	kept := out[:0]
	for _, o := range out {
		if !slices.ContainsFunc(kept, func(k selection) bool { return k.spec == o.spec }) {
			kept = append(kept, o)
		}
	}
	return kept
}

// firstAction is the spec of selectActions(s)[0], or nil when s selects
// none, without making the list.
func (c *checker) firstAction(s *ast.StepStmt) *schema.ActionSpec {
	var first *schema.ActionSpec
	at := 0
	for _, a := range s.Attrs {
		if a != nil {
			if spec := c.selectors[a.Name.Name]; spec != nil && (first == nil || a.Name.Range.Start.Offset < at) {
				first, at = spec, a.Name.Range.Start.Offset
			}
		}
	}
	for _, b := range s.Blocks {
		if b != nil {
			if spec := c.selectors[b.Kind.Name]; spec != nil && (first == nil || b.Kind.Range.Start.Offset < at) {
				first, at = spec, b.Kind.Range.Start.Offset
			}
		}
	}
	return first
}

// checkStep checks a step: exactly one action, its attributes and blocks,
// and its output.
func (g *graph) checkStep(n *gnode, s *ast.StepStmt) {
	c := g.c
	sels := c.selectActions(s)
	var spec *schema.ActionSpec
	switch len(sels) {
	case 0:
		var names []string
		for _, a := range c.actions {
			names = append(names, a.Selectors...)
		}
		c.report(diag.Diagnostic{Code: "no-action", Summary: n.what() + " has no action",
			Detail:  "A step needs exactly one action: " + joinSorted(names) + ".",
			Subject: s.ID.Range})
	default:
		spec = sels[0].spec
		for _, o := range sels[1:] {
			c.report(diag.Diagnostic{Code: "two-actions",
				Summary: fmt.Sprintf("%s has two actions: %s (%s) and %s (%s)", n.what(), sels[0].spec.Name, sels[0].name, o.spec.Name, o.name),
				Detail:  "A step does exactly one thing; split it into two steps.", Subject: o.at})
		}
		c.info.Actions[s] = spec.Name
	}
	set := g.attrs(n, s.ID.Range)
	ar := c.stepRulesFor(spec)
	rules, computed := ar.rules, ar.computed
	blockNames := ar.blocks
	// Selectors of the other selected actions were reported above;
	// attributes of other actions are reported as such, not as unknown.
	var foreign, selected []string
	if len(sels) == 1 {
		selected = sels[0].spec.Selectors // only read
	} else {
		for _, o := range sels {
			selected = append(selected, o.spec.Selectors...)
		}
	}
	for _, a := range s.Attrs {
		if a != nil && findRule(rules, a.Name.Name) == nil && (c.otherAction(a.Name.Name, spec) != nil || indexOf(selected, a.Name.Name) >= 0) {
			foreign = append(foreign, a.Name.Name)
		}
	}
	for _, a := range s.Attrs {
		if a != nil && indexOf(foreign, a.Name.Name) >= 0 && indexOf(selected, a.Name.Name) < 0 && spec != nil {
			o := c.otherAction(a.Name.Name, spec)
			c.report(diag.Diagnostic{Code: "unknown-attribute",
				Summary: fmt.Sprintf("attribute %q belongs to the %s action, but %s is a %s step", a.Name.Name, o.Name, n.what(), spec.Name),
				Subject: a.Name.Range})
		}
	}
	extra := computed // only read
	if len(foreign) > 0 {
		extra = append(foreign, computed...) // foreign is fresh: no aliasing of the cached rules
	}
	byName := set.check(s.Attrs, rules, extra...)
	if spec != nil {
		for _, a := range spec.Attrs {
			if a.Ref == "agent" && byName.get(a.Name) != nil {
				c.stepAgent(s, byName.get(a.Name))
			}
		}
	}
	if len(sels) > 1 {
		blockNames = append([]string(nil), blockNames...)
		for _, o := range sels[1:] {
			blockNames = append(blockNames, o.spec.Selectors...)
		}
	}
	blocks := c.checkBlocks(s.Blocks, blockNames, n.what())
	if b := blocks["retry"]; b != nil {
		g.checkRetry(n, b)
	}
	if b := blocks["cache"]; b != nil {
		c.checkBlocks(b.Blocks, nil, "cache block of "+n.what())
		cs := g.attrs(n, b.Kind.Range)
		cs.owner = "cache block of " + n.what()
		cs.check(b.Attrs, cacheRules)
	}
	if spec != nil {
		for _, bs := range spec.Blocks {
			if b := blocks[bs.Name]; b != nil {
				g.checkActionBlock(n, s, b, bs)
			} else if bs.Required {
				c.errorf(s.ID.Range, "missing-block", "%s needs a %s block", n.what(), bs.Name)
			}
		}
	}
	if spec != nil {
		g.c.checkTemplates(s.Attrs, spec)
	}
	g.checkStepOutput(n, s, spec)
}

// checkTemplates lets an action vet the templates of its attributes
// (CheckTemplateFunc): an interpolation the action would refuse at run
// time is reported now, at its "${". A value of such an attribute built
// with + from run-time values is pasted in unvetted: a warning.
func (c *checker) checkTemplates(attrs []*ast.Attr, spec *schema.ActionSpec) {
	for _, a := range attrs {
		if a == nil {
			continue
		}
		as := spec.Attr(a.Name.Name)
		if as == nil || as.CheckTemplateFunc == nil || a.Value == nil {
			continue
		}
		if a.Value.Template == nil {
			c.warnConcatenation(a)
			continue
		}
		lits := []string{""}
		var exprs []*ast.Expr
		var types []*schema.Type
		for _, p := range a.Value.Template.Parts {
			if p.Expr == nil {
				lits[len(lits)-1] += p.Lit
				continue
			}
			exprs = append(exprs, p.Expr)
			types = append(types, c.info.ExprTypes[p.Expr])
			lits = append(lits, "")
		}
		for _, p := range as.CheckTemplateFunc(lits, types) {
			d := diag.Diagnostic{Severity: diag.Error, Code: "unsafe-interpolation", Hint: p.Hint}
			if p.Warning {
				d.Severity = diag.Warning
			}
			if p.Index >= 0 && p.Index < len(exprs) {
				e := exprs[p.Index]
				d.Summary = fmt.Sprintf("${%s} cannot be interpolated here: %s", e.Src, p.Summary)
				d.Subject = e.Range
				if d.Subject.Start.Col > 2 { // at the "${"
					d.Subject.Start.Col -= 2
					d.Subject.Start.Offset = max(d.Subject.Start.Offset-2, 0)
				}
			} else {
				d.Code = "shell-syntax"
				d.Summary = fmt.Sprintf("%s: %s", a.Name.Name, p.Summary)
				d.Subject = a.Value.Range
			}
			c.report(d)
		}
	}
}

// warnConcatenation warns about a value built with + that reads run-time
// values (inputs, step outputs): they are pasted into the script as they
// are, unquoted.
func (c *checker) warnConcatenation(a *ast.Attr) {
	if len(c.info.Refs[a.Value]) == 0 || !strings.Contains(a.Value.Src, "+") {
		return
	}
	tree := c.info.trees[a.Value] // the value was checked: it parsed
	if tree == nil {
		var err error
		if tree, err = exprparser.Parse(a.Value.Src); err != nil {
			return
		}
	}
	if !hasPlus(tree.Node) {
		return
	}
	c.report(diag.Diagnostic{Severity: diag.Warning, Code: "unquoted-concatenation",
		Summary: fmt.Sprintf("%s is built with + from run-time values, which are pasted into the script unquoted: a value can inject commands", a.Name.Name),
		Hint:    fmt.Sprintf(`write a template, %s = "cmd ${value}", where every ${...} is quoted for its position, or use exec = [...]`, a.Name.Name),
		Subject: a.Value.Range})
}

// hasPlus reports whether n holds a binary +.
func hasPlus(n exprast.Node) bool {
	if b, ok := n.(*exprast.BinaryNode); ok && b.Operator == "+" {
		return true
	}
	for _, ch := range children(n) {
		if ch != nil && hasPlus(ch) {
			return true
		}
	}
	return false
}

// actionRules are the attribute rules and block names of steps of one
// action, computed once per check.
type actionRules struct {
	rules    []attrRule
	computed []string // selector attributes checked with the output (compute's value)
	blocks   []string
}

// stepRulesFor returns the rules of steps whose action is spec (nil: no
// action).
func (c *checker) stepRulesFor(spec *schema.ActionSpec) *actionRules {
	if ar, ok := c.stepRules[spec]; ok {
		return ar
	}
	ar := &actionRules{rules: append([]attrRule(nil), stepRules...), blocks: []string{"retry", "cache"}}
	if spec != nil {
		for _, a := range spec.Attrs {
			if spec.Output == nil && indexOf(spec.Selectors, a.Name) >= 0 {
				ar.computed = append(ar.computed, a.Name)
				continue
			}
			ar.rules = append(ar.rules, actionRule(a))
		}
		for _, b := range spec.Blocks {
			ar.blocks = append(ar.blocks, b.Name)
		}
	}
	c.stepRules[spec] = ar
	return ar
}

// actionRule turns an action's attribute spec into a rule.
func actionRule(a schema.AttrSpec) attrRule {
	r := attrRule{name: a.Name, kind: rExpr, typ: a.Type, required: a.Required}
	switch {
	case a.Ref != "":
		r.kind = rNeeds // resolved by stepAgent
	case a.Const && a.Type != nil && a.Type.Kind == schema.Bool:
		r.kind = rBool
	case a.Const && a.Type != nil && a.Type.Kind == schema.Enum:
		r.kind, r.enum = rEnum, a.Type.Enum
	case a.Const && a.Type != nil && a.Type.Kind == schema.String:
		r.kind = rString
	case a.Const:
		r.kind = rConst
	}
	return r
}

// otherAction returns an action other than spec that accepts attribute
// name, or nil.
func (c *checker) otherAction(name string, spec *schema.ActionSpec) *schema.ActionSpec {
	for _, a := range c.actions {
		if a != spec && a.Attr(name) != nil {
			return a
		}
	}
	return nil
}

// stepAgent resolves agent = NAME, or agent = [NAME, FALLBACK, ...]: the
// agents tried in order, each after the one before failed.
func (c *checker) stepAgent(s *ast.StepStmt, a *ast.Attr) {
	if a.Value == nil {
		return
	}
	src := strings.TrimSpace(a.Value.Src)
	names := []string{src}
	if inner, ok := strings.CutPrefix(src, "["); ok && strings.HasSuffix(inner, "]") {
		names = strings.Split(strings.TrimSuffix(inner, "]"), ",")
		for i := range names {
			names[i] = strings.TrimSpace(names[i])
		}
		if len(names) > 0 && names[len(names)-1] == "" {
			names = names[:len(names)-1] // a trailing comma
		}
	}
	if a.Value.Template != nil || len(names) == 0 {
		c.errorf(a.Value.Range, "bad-agent", "agent must name an agent declaration, such as agent = reviewer, or a list of them tried in order, such as agent = [primary, fallback]")
		return
	}
	var agents []*ast.AgentDecl
	seen := map[string]bool{}
	for _, name := range names {
		if !isIdent(name) {
			c.errorf(a.Value.Range, "bad-agent", "agent must name an agent declaration, such as agent = reviewer, or a list of them tried in order, such as agent = [primary, fallback]")
			return
		}
		if seen[name] {
			c.errorf(a.Value.Range, "bad-agent", "agent %s is listed twice; each fallback is tried once", quote(name))
			return
		}
		seen[name] = true
		ag := c.info.Agents[name]
		if ag == nil {
			all := make([]string, 0, len(c.info.Agents))
			for n := range c.info.Agents {
				all = append(all, n)
			}
			c.report(diag.Diagnostic{Code: "unknown-agent", Summary: "unknown agent " + quote(name), Hint: didYouMean(name, all),
				Detail: "Declare it with agent " + name + " { cli = \"claude\" } in this file or an imported one.", Subject: a.Value.Range})
			return
		}
		agents = append(agents, ag)
	}
	c.info.StepAgents[s] = agents[0]
	if len(agents) > 1 {
		c.info.StepFallbacks[s] = agents[1:]
	}
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIdentByte(s[i]) || (i == 0 && s[i] >= '0' && s[i] <= '9') {
			return false
		}
	}
	return true
}

// checkRetry checks a retry block; its when may read error.
func (g *graph) checkRetry(n *gnode, b *ast.Block) {
	c := g.c
	owner := "retry block of " + n.what()
	c.checkBlocks(b.Blocks, nil, owner)
	byName := (&attrSet{c: c, owner: owner, at: b.Kind.Range}).check(b.Attrs, retryRules, "when")
	if a := byName.get("when"); a != nil {
		sc := &exprScope{mode: modePredicate, what: "when of " + owner,
			r: &nodeResolver{g: g, at: n, ev: start(n), inner: n, what: n.what(), err: true}}
		c.checkExpr(a.Value, sc, schema.BoolType, false)
	}
}
