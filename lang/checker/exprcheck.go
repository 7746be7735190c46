package checker

import (
	"fmt"
	"strings"

	exprparser "github.com/expr-lang/expr/parser"

	"github.com/expr-lang/expr/file"

	exprast "github.com/expr-lang/expr/ast"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/schema"
)

// exprMode tells what an expression may read.
type exprMode uint8

const (
	modeRuntime   exprMode = iota // action attributes: nodes, input, run, env(), secret()
	modePredicate                 // decisions replayed on resume: no env() or secret()
	modeStatic                    // input defaults, agent settings: only constants, env() and secret()
	modeConst                     // graph attributes: constants only
)

// exprScope is where an expression is evaluated.
type exprScope struct {
	mode exprMode
	what string // the attribute, for messages: `value of step "a"`
	r    resolver
}

// resolver resolves the free names of an expression.
type resolver interface {
	// resolve returns the type of name and the reference it makes, or a
	// problem explaining why it cannot be read.
	resolve(name string) (vt, *Ref, *problem)
	// member resolves a mounted node inside a use namespace.
	member(ns *gnode, name string) (vt, *Ref, *problem)
	// names lists the names in scope, for hints.
	names() []string
}

// problem is a diagnostic without a position yet.
type problem struct {
	code, summary, detail, hint string
	related                     []diag.Related
}

// exprResult is a checked expression.
type exprResult struct {
	t  vt
	ok bool // no error found
}

// checkExpr checks e in scope sc. When want is non-nil the value must be
// assignable to it (optional values are refused unless optOK). It returns
// the expression's type. Each expression is checked once; later calls
// return the cached result.
func (c *checker) checkExpr(e *ast.Expr, sc *exprScope, want *schema.Type, optOK bool) exprResult {
	if e == nil {
		return exprResult{t: tAny}
	}
	if r, done := c.exprs[e]; done {
		return r
	}
	c.exprs[e] = exprResult{t: tAny} // guard against re-entry
	before := len(c.diags)
	var t vt
	if e.Template != nil {
		t = c.checkTemplate(e, sc)
		if lit, ok := e.Template.IsLiteral(); ok && want != nil && want.Kind == schema.Enum && !want.HasEnum(lit) {
			c.report(diag.Diagnostic{Code: "enum-value", Summary: fmt.Sprintf("%q is not one of %s", lit, want.Structure()),
				Hint: didYouMean(lit, want.Enum), Subject: e.Range})
		} else if want != nil {
			x := &ec{c: c, e: e, sc: sc}
			x.assignType(t, want, e.Range, optOK, sc.what)
		}
	} else {
		x := c.newEC(e, sc)
		tree, err := c.parseExpr(e, sc.mode)
		if err != nil {
			c.exprSyntax(e, err)
			t = tAny
		} else {
			t = x.typeOf(tree.Node)
			if want != nil {
				x.assign(tree.Node, t, want, optOK, sc.what)
			}
			c.info.Refs[e] = x.refs
		}
		c.freeEC(x)
	}
	if sc.mode != modeConst {
		c.info.ExprTypes[e] = t.schemaType()
	}
	r := exprResult{t: t, ok: len(c.diags) == before}
	c.exprs[e] = r
	return r
}

// MaxInterpolations bounds the ${...} of one template: each is an
// expression of its own, checked, compiled and evaluated apart.
const MaxInterpolations = 100_000

// checkTemplate checks each interpolation of a template; the value is a
// string.
func (c *checker) checkTemplate(e *ast.Expr, sc *exprScope) vt {
	n := 0
	for _, p := range e.Template.Parts {
		if p.Expr != nil {
			n++
		}
	}
	if n > MaxInterpolations {
		c.report(diag.Diagnostic{Code: "too-many-interpolations",
			Summary: fmt.Sprintf("%s has %d interpolations, more than the limit of %d", sc.what, n, MaxInterpolations),
			Detail:  "Build a long text from a list instead: join(map(items, ...), \"\") in an expression, or a for over the items.",
			Subject: e.Range})
		return tString
	}
	var refs []Ref // of all the interpolations
	parsed := false
	for _, p := range e.Template.Parts {
		if p.Expr == nil {
			continue
		}
		if strings.TrimSpace(p.Expr.Src) == "" {
			c.errorf(p.Expr.Range, "empty-interpolation", "empty ${} in a template")
			continue
		}
		tree, err := c.parseExpr(p.Expr, sc.mode)
		if err != nil {
			c.exprSyntax(p.Expr, err)
			continue
		}
		x := c.newEC(p.Expr, sc)
		x.inTemplate = true
		t := x.typeOf(tree.Node)
		c.info.Refs[p.Expr] = x.refs
		if sc.mode != modeConst {
			c.info.ExprTypes[p.Expr] = t.schemaType()
		}
		refs = append(refs, x.refs...)
		parsed = true
		c.freeEC(x)
	}
	if parsed {
		c.info.Refs[e] = refs
	}
	return tString
}

// newEC returns an expression checker for e in sc, reusing one that
// freeEC gave back (checking is re-entrant: reading another node's
// output checks its value first, so several are in use at once).
func (c *checker) newEC(e *ast.Expr, sc *exprScope) *ec {
	n := len(c.freeECs)
	if n == 0 {
		return &ec{c: c, e: e, sc: sc}
	}
	x := c.freeECs[n-1]
	c.freeECs = c.freeECs[:n-1]
	*x = ec{c: c, e: e, sc: sc, types: x.types}
	return x
}

// freeEC gives x back for newEC, keeping the memory of its types; x
// must not be used afterwards (what it found, such as x.refs, may be).
func (c *checker) freeEC(x *ec) {
	clear(x.types)
	x.types = x.types[:0]
	c.freeECs = append(c.freeECs, x)
}

// parseExpr parses the source of e with expr-lang (a lone literal or
// name without running its parser: see literalTree). With
// Config.KeepTrees, the tree of a run-time expression is kept for the
// compiler (Info.TakeTree).
func (c *checker) parseExpr(e *ast.Expr, mode exprMode) (*exprparser.Tree, error) {
	tree, err := literalTree(e.Src), error(nil)
	if tree == nil {
		tree, err = exprparser.Parse(e.Src)
	}
	if err == nil && mode != modeConst && c.cfg.KeepTrees {
		c.info.trees[e] = tree
	}
	return tree, err
}

// exprSyntax reports an expr-lang syntax error at its position.
func (c *checker) exprSyntax(e *ast.Expr, err error) {
	msg := err.Error()
	r := e.Range
	if fe, ok := err.(*file.Error); ok {
		msg = fe.Message
		r = e.RangeAt(fe.From, max(fe.To, fe.From+1))
	}
	c.report(diag.Diagnostic{
		Code:    "expr-syntax",
		Summary: "syntax error in expression: " + msg,
		Subject: r,
	})
}

// span returns the rune range [from, to) covered by n and its children.
func span(n exprast.Node) (int, int) {
	if n == nil {
		return 0, 0
	}
	l := n.Location()
	from, to := l.From, l.To
	for _, ch := range children(n) {
		if ch == nil {
			continue
		}
		f, t := span(ch)
		if f < from {
			from = f
		}
		if t > to {
			to = t
		}
	}
	return from, to
}

// children lists the direct sub-expressions of n.
func children(n exprast.Node) []exprast.Node {
	switch n := n.(type) {
	case *exprast.UnaryNode:
		return []exprast.Node{n.Node}
	case *exprast.BinaryNode:
		return []exprast.Node{n.Left, n.Right}
	case *exprast.ChainNode:
		return []exprast.Node{n.Node}
	case *exprast.MemberNode:
		return []exprast.Node{n.Node, n.Property}
	case *exprast.SliceNode:
		return []exprast.Node{n.Node, n.From, n.To}
	case *exprast.CallNode:
		return append([]exprast.Node{n.Callee}, n.Arguments...)
	case *exprast.BuiltinNode:
		return n.Arguments
	case *exprast.PredicateNode:
		return []exprast.Node{n.Node}
	case *exprast.ConditionalNode:
		return []exprast.Node{n.Cond, n.Exp1, n.Exp2}
	case *exprast.VariableDeclaratorNode:
		return []exprast.Node{n.Value, n.Expr}
	case *exprast.SequenceNode:
		return n.Nodes
	case *exprast.ArrayNode:
		return n.Nodes
	case *exprast.MapNode:
		return n.Pairs
	case *exprast.PairNode:
		return []exprast.Node{n.Key, n.Value}
	}
	return nil
}
