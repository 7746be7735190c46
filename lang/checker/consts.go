package checker

import (
	"fmt"
	"strings"
	"time"

	exprparser "github.com/expr-lang/expr/parser"

	"github.com/expr-lang/expr"
	exprast "github.com/expr-lang/expr/ast"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/schema"
)

// ruleKind tells how an attribute's value is checked.
type ruleKind uint8

const (
	rDuration ruleKind = iota + 1 // constant Go duration string
	rPosInt                       // constant int > 0
	rEnum                         // constant string, one of rule.enum
	rBool                         // constant bool
	rString                       // constant string
	rExpr                         // run-time expression of rule.typ
	rPred                         // run-time predicate (bool), no env()
	rStatic                       // fixed before the run: constants, env(), secret()
	rNeeds                        // needs list, resolved with the graph
	rConst                        // constant of rule.typ
)

// attrRule declares one attribute a node accepts.
type attrRule struct {
	name     string
	kind     ruleKind
	enum     []string
	typ      *schema.Type
	required bool
}

// constValue evaluates a constant attribute value. ok is false when it is
// not a constant (reported).
func (c *checker) constValue(e *ast.Expr, what string) (any, bool) {
	if e == nil {
		return nil, false
	}
	if e.Template != nil {
		s, lit := e.Template.IsLiteral()
		if !lit {
			for _, p := range e.Template.Parts {
				if p.Expr != nil {
					c.report(diag.Diagnostic{Code: "not-constant", Summary: what + " must be a constant, but it interpolates ${" + strings.TrimSpace(p.Expr.Src) + "}",
						Detail: "Graph attributes are fixed when the program is compiled; write a literal value.", Subject: p.Expr.Range})
					break
				}
			}
			return nil, false
		}
		return s, true
	}
	tree, err := exprparser.Parse(e.Src)
	if err != nil {
		c.exprSyntax(e, err)
		return nil, false
	}
	if v, ok := literal(tree.Node); ok {
		return v, true
	}
	x := &ec{c: c, e: e, sc: &exprScope{mode: modeConst, what: what}}
	before := len(c.diags)
	x.typeOf(tree.Node)
	if len(c.diags) > before {
		return nil, false
	}
	v, err := expr.Eval(e.Src, nil)
	if err != nil {
		c.errorf(e.Range, "const-eval", "cannot evaluate %s: %v", what, firstLine(err.Error()))
		return nil, false
	}
	return schema.Canonical(v), true
}

// literal returns the value of a literal expression without running expr.
func literal(n exprast.Node) (any, bool) {
	switch n := n.(type) {
	case *exprast.IntegerNode:
		return int64(n.Value), true
	case *exprast.FloatNode:
		return n.Value, true
	case *exprast.BoolNode:
		return n.Value, true
	case *exprast.StringNode:
		if strings.Contains(n.Value, "${") {
			return nil, false
		}
		return n.Value, true
	case *exprast.UnaryNode:
		if n.Operator == "-" {
			switch m := n.Node.(type) {
			case *exprast.IntegerNode:
				return -int64(m.Value), true
			case *exprast.FloatNode:
				return -m.Value, true
			}
		}
	case *exprast.ArrayNode:
		out := make([]any, 0, len(n.Nodes))
		for _, e := range n.Nodes {
			v, ok := literal(e)
			if !ok {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	}
	return nil, false
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// constAttr evaluates and validates a constant attribute and records it in
// Info.Consts.
func (c *checker) constAttr(a *ast.Attr, rule attrRule, owner string) {
	what := a.Name.Name + " of " + owner
	if a.Value == nil {
		return
	}
	v, ok := c.constValue(a.Value, what)
	if !ok {
		return
	}
	r := a.Value.Range
	switch rule.kind {
	case rDuration:
		s, isStr := v.(string)
		if !isStr {
			c.report(diag.Diagnostic{Code: "bad-duration", Summary: fmt.Sprintf("%s must be a duration string such as \"30s\", not %s", what, schema.Describe(v)), Subject: r})
			return
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			c.report(diag.Diagnostic{Code: "bad-duration", Summary: fmt.Sprintf("bad duration %q: use a Go duration like \"500ms\", \"2m\", \"1h30m\"", s), Subject: r})
			return
		}
		if d <= 0 {
			c.report(diag.Diagnostic{Code: "bad-duration", Summary: fmt.Sprintf("%s must be positive, not %q", what, s), Subject: r})
			return
		}
		c.info.Consts[a] = d
	case rPosInt:
		n, isInt := v.(int64)
		if !isInt {
			c.report(diag.Diagnostic{Code: "bad-value", Summary: fmt.Sprintf("%s must be a positive int, not %s", what, schema.Describe(v)), Subject: r})
			return
		}
		if n <= 0 {
			c.report(diag.Diagnostic{Code: "bad-value", Summary: fmt.Sprintf("%s must be at least 1, not %d", what, n), Subject: r})
			return
		}
		c.info.Consts[a] = n
	case rEnum:
		s, isStr := v.(string)
		if !isStr || indexOf(rule.enum, s) < 0 {
			c.report(diag.Diagnostic{Code: "bad-value",
				Summary: fmt.Sprintf("%s must be one of %s, not %s", what, quoteAlt(rule.enum), describeConst(v)),
				Hint:    didYouMean(fmt.Sprint(v), rule.enum), Subject: r})
			return
		}
		c.info.Consts[a] = s
	case rBool:
		b, isBool := v.(bool)
		if !isBool {
			c.report(diag.Diagnostic{Code: "bad-value", Summary: fmt.Sprintf("%s must be true or false, not %s", what, schema.Describe(v)), Subject: r})
			return
		}
		c.info.Consts[a] = b
	case rString:
		s, isStr := v.(string)
		if !isStr {
			c.report(diag.Diagnostic{Code: "bad-value", Summary: fmt.Sprintf("%s must be a string, not %s", what, schema.Describe(v)), Subject: r})
			return
		}
		c.info.Consts[a] = s
	default:
		t := rule.typ
		if t == nil {
			t = schema.AnyType
		}
		nv, err := schema.Normalize(t, v, "")
		if err != nil {
			c.report(diag.Diagnostic{Code: "type-mismatch", Summary: fmt.Sprintf("%s: %v", what, err), Subject: r})
			return
		}
		c.info.Consts[a] = nv
	}
}

func describeConst(v any) string {
	if s, ok := v.(string); ok {
		return quote(s)
	}
	return schema.Describe(v)
}

func quoteAlt(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = quote(v)
	}
	return strings.Join(q, " | ")
}

// checkDefault checks a field's default: a constant (or env()/secret()
// call) that fits the field's type. It returns the constant value, or nil
// when the default is computed when the run starts.
func (c *checker) checkDefault(f *ast.Field, t *schema.Type) any {
	what := "the default of " + f.Name.Name
	sc := &exprScope{mode: modeStatic, what: what}
	r := c.checkExpr(f.Default, sc, t, false)
	if !r.ok || strings.Contains(f.Default.Src, "env(") || strings.Contains(f.Default.Src, "secret(") {
		return nil
	}
	v, ok := c.constValue(f.Default, what)
	if !ok {
		return nil
	}
	nv, err := schema.Normalize(t, v, f.Name.Name)
	if err != nil {
		c.report(diag.Diagnostic{Code: "bad-default", Summary: "bad default: " + err.Error(), Subject: f.Default.Range})
		return nil
	}
	return nv
}
