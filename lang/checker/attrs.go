package checker

import (
	"fmt"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/schema"
)

// attrSet checks the attributes of one node or block against rules.
type attrSet struct {
	c     *checker
	owner string     // `step "a"`, for messages
	g     *graph     // run-time values are evaluated at the start of node n of g
	n     *gnode     // (nil: the attributes take none)
	at    diag.Range // where to report missing attributes
}

// scope is where run-time values are evaluated.
func (s *attrSet) scope(mode exprMode, what string) *exprScope { return s.g.scopeAt(s.n, mode, what) }

// check checks attrs against rules: unknown and duplicate attributes,
// required ones missing, and each value by its rule. extra lists names
// that are accepted but checked elsewhere. It returns the attributes
// accepted, by name.
func (s *attrSet) check(attrs []*ast.Attr, rules []attrRule, extra ...string) attrIndex {
	byName := make(attrIndex, 0, len(attrs))
	for _, a := range attrs {
		if a == nil {
			continue
		}
		name := a.Name.Name
		if prev := byName.get(name); prev != nil {
			s.c.report(diag.Diagnostic{Code: "duplicate-attribute", Summary: fmt.Sprintf("duplicate attribute %q in %s: it is set twice", name, s.owner),
				Subject: a.Name.Range, Related: []diag.Related{{Range: prev.Name.Range, Message: "first set here"}}})
			continue
		}
		rule := findRule(rules, name)
		if rule == nil {
			if indexOf(extra, name) >= 0 {
				byName = append(byName, a)
				continue
			}
			s.unknown(a, rules, extra)
			continue
		}
		byName = append(byName, a)
		s.value(a, *rule)
	}
	for _, r := range rules {
		if r.required && byName.get(r.name) == nil {
			s.c.report(diag.Diagnostic{Code: "missing-attribute", Summary: fmt.Sprintf("%s is missing the required attribute %q", s.owner, r.name), Subject: s.at})
		}
	}
	return byName
}

// attrIndex is a node's or block's attributes, at most one per name
// (there are a few: a slice searched linearly is cheaper than a map).
type attrIndex []*ast.Attr

// get returns the attribute called name, or nil.
func (x attrIndex) get(name string) *ast.Attr {
	for _, a := range x {
		if a.Name.Name == name {
			return a
		}
	}
	return nil
}

func findRule(rules []attrRule, name string) *attrRule {
	for i := range rules {
		if rules[i].name == name {
			return &rules[i]
		}
	}
	return nil
}

// unknown reports an attribute no rule accepts.
func (s *attrSet) unknown(a *ast.Attr, rules []attrRule, extra []string) {
	names := append([]string(nil), extra...)
	for _, r := range rules {
		names = append(names, r.name)
	}
	d := diag.Diagnostic{Code: "unknown-attribute", Summary: fmt.Sprintf("unknown attribute %q in %s", a.Name.Name, s.owner),
		Hint: didYouMean(a.Name.Name, names), Subject: a.Name.Range}
	if d.Hint == "" && len(names) > 0 {
		d.Detail = "It accepts: " + joinSorted(names) + "."
	}
	s.c.report(d)
}

// value checks one attribute's value by its rule.
func (s *attrSet) value(a *ast.Attr, r attrRule) {
	if a.Value == nil {
		return
	}
	what := a.Name.Name + " of " + s.owner
	switch r.kind {
	case rDuration, rPosInt, rEnum, rBool, rString, rConst:
		s.c.constAttr(a, r, s.owner)
	case rExpr:
		s.c.checkExpr(a.Value, s.scope(modeRuntime, what), r.typ, r.typ == nil || r.typ.Kind == schema.Any)
	case rPred:
		s.c.checkExpr(a.Value, s.scope(modePredicate, what), schema.BoolType, false)
	case rStatic:
		sc := &exprScope{mode: modeStatic, what: what}
		res := s.c.checkExpr(a.Value, sc, r.typ, false)
		if res.ok && !usesEnv(a.Value) {
			if v, ok := s.c.constValue(a.Value, what); ok {
				s.c.info.Consts[a] = schema.Canonical(v)
			}
		}
	case rNeeds:
		// resolved with the graph
	}
}

// usesEnv reports whether a static value calls env() or secret().
func usesEnv(e *ast.Expr) bool {
	for _, r := range []string{"env(", "secret("} {
		if containsWord(e.Src, r) {
			return true
		}
	}
	return false
}

func containsWord(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i:i+len(w)] == w && (i == 0 || !isIdentByte(s[i-1])) {
			return true
		}
	}
	return false
}

func isIdentByte(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// blockSet checks nested blocks: unknown and duplicate ones.
func (c *checker) checkBlocks(blocks []*ast.Block, allowed []string, owner string) map[string]*ast.Block {
	if len(blocks) == 0 {
		return nil // reads as empty
	}
	byName := map[string]*ast.Block{}
	for _, b := range blocks {
		if b == nil {
			continue
		}
		name := b.Kind.Name
		if prev, dup := byName[name]; dup {
			c.report(diag.Diagnostic{Code: "duplicate-block", Summary: fmt.Sprintf("duplicate block %q in %s: it appears twice", name, owner),
				Subject: b.Kind.Range, Related: []diag.Related{{Range: prev.Kind.Range, Message: "first here"}}})
			continue
		}
		if indexOf(allowed, name) < 0 {
			d := diag.Diagnostic{Code: "unknown-block", Summary: fmt.Sprintf("unknown block %q in %s", name, owner),
				Hint: didYouMean(name, allowed), Subject: b.Kind.Range}
			if d.Hint == "" && len(allowed) > 0 {
				d.Detail = "It accepts the blocks: " + joinSorted(allowed) + "."
			} else if len(allowed) == 0 {
				d.Detail = "It accepts no blocks."
			}
			c.report(d)
			continue
		}
		byName[name] = b
	}
	return byName
}
