package checker

import (
	"fmt"
	"strings"

	exprast "github.com/expr-lang/expr/ast"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/schema"
)

// ec type-checks one expression over schema types.
type ec struct {
	c          *checker
	e          *ast.Expr
	sc         *exprScope
	refs       []Ref
	locals     []local // let variables, innermost last
	elems      []vt    // element types of enclosing predicates (#), innermost last
	accs       []vt    // accumulator types of enclosing reduce predicates
	inTemplate bool
	types      []typed               // the type of every node checked
	nsBase     map[exprast.Node]bool // bases of member accesses, which may be use mounts
}

// typed is a checked node with its type (expressions are small: a slice
// searched linearly is cheaper than a map).
type typed struct {
	n exprast.Node
	t vt
}

type local struct {
	name string
	t    vt
}

// at returns the file range of an expr node's own token.
func (x *ec) at(n exprast.Node) diag.Range {
	l := n.Location()
	return x.e.RangeAt(l.From, max(l.To, l.From+1))
}

// whole returns the file range of an expr node with its children.
func (x *ec) whole(n exprast.Node) diag.Range {
	f, t := span(n)
	return x.e.RangeAt(f, max(t, f+1))
}

// errorf reports a problem at r; it returns any so that callers can
// return it as the type of the erroneous node (any stops cascades).
func (x *ec) errorf(r diag.Range, code, format string, args ...any) vt {
	x.c.errorf(r, code, format, args...)
	return tAny
}

func (x *ec) fail(r diag.Range, p *problem) vt {
	x.c.report(diag.Diagnostic{Code: p.code, Summary: p.summary, Detail: p.detail, Hint: p.hint, Subject: r, Related: p.related})
	return tAny
}

// typeOf returns the type of n, reporting the errors it finds. Each node
// is typed once; asking again returns the recorded type.
func (x *ec) typeOf(n exprast.Node) vt {
	if n == nil {
		return tAny
	}
	for i := range x.types {
		if x.types[i].n == n {
			return x.types[i].t
		}
	}
	t := x.typeOf0(n)
	x.types = append(x.types, typed{n, t})
	return t
}

func (x *ec) typeOf0(n exprast.Node) vt {
	switch n := n.(type) {
	case nil:
		return tAny
	case *exprast.NilNode:
		return tNull
	case *exprast.IntegerNode:
		return tInt
	case *exprast.FloatNode:
		return tFloat
	case *exprast.BoolNode:
		return tBool
	case *exprast.StringNode:
		x.checkDollar(n)
		return tString
	case *exprast.BytesNode:
		return x.errorf(x.at(n), "expr-unsupported", "byte strings are not supported")
	case *exprast.ConstantNode:
		return tAny
	case *exprast.IdentifierNode:
		return x.ident(n)
	case *exprast.UnaryNode:
		return x.unary(n)
	case *exprast.BinaryNode:
		return x.binary(n)
	case *exprast.ChainNode:
		t := x.typeOf(n.Node)
		if t.chain {
			t.chain = false
			t.opt = true
		}
		return t
	case *exprast.MemberNode:
		return x.memberNode(n)
	case *exprast.SliceNode:
		return x.slice(n)
	case *exprast.CallNode:
		return x.call(n)
	case *exprast.BuiltinNode:
		return x.builtin(n)
	case *exprast.PredicateNode:
		return x.typeOf(n.Node)
	case *exprast.PointerNode:
		return x.pointer(n)
	case *exprast.ConditionalNode:
		x.wantBool(n.Cond, "the condition of ?:")
		a, b := x.typeOf(n.Exp1), x.typeOf(n.Exp2)
		t, _ := unify(a, b)
		return t
	case *exprast.VariableDeclaratorNode:
		v := x.typeOf(n.Value)
		x.locals = append(x.locals, local{n.Name, v})
		t := x.typeOf(n.Expr)
		x.locals = x.locals[:len(x.locals)-1]
		return t
	case *exprast.SequenceNode:
		t := tAny
		for _, s := range n.Nodes {
			t = x.typeOf(s)
		}
		return t
	case *exprast.ArrayNode:
		if len(n.Nodes) == 0 {
			return vt{s: schema.ListOf(schema.AnyType), empty: true}
		}
		e := x.typeOf(n.Nodes[0])
		for _, m := range n.Nodes[1:] {
			e, _ = unify(e, x.typeOf(m))
		}
		return listOf(e)
	case *exprast.MapNode:
		return x.mapLit(n)
	}
	return tAny
}

// checkDollar reports "${" inside a plain string literal of a larger
// expression: it would be sent as is, not interpolated.
func (x *ec) checkDollar(n *exprast.StringNode) {
	i := strings.Index(n.Value, "${")
	if i < 0 || (i > 0 && n.Value[i-1] == '$') {
		return
	}
	x.c.report(diag.Diagnostic{
		Code:    "interpolation-in-expression",
		Summary: "${...} is not interpolated inside an expression's string literal",
		Hint:    "make the whole value one template string, or join with +",
		Detail:  "Only a value that is exactly one string literal is a template; inside a larger expression write \"a \" + x + \" b\" instead of \"a ${x} b\".",
		Subject: x.at(n),
	})
}

// ident resolves a free name: a let variable, then the scope.
func (x *ec) ident(n *exprast.IdentifierNode) vt {
	for i := len(x.locals) - 1; i >= 0; i-- {
		if x.locals[i].name == n.Value {
			return x.locals[i].t
		}
	}
	if x.sc.r == nil {
		return x.fail(x.at(n), x.noNames(n.Value))
	}
	nsOK := x.nsBase[n]
	t, ref, p := x.sc.r.resolve(n.Value)
	if p != nil {
		return x.fail(x.at(n), p)
	}
	if t.ns != nil && !nsOK {
		return x.errorf(x.at(n), "mount-value", "%q is a use mount, not a value: read one of its nodes, such as %s.%s", n.Value, n.Value, firstID(t.ns))
	}
	if ref != nil {
		x.refs = append(x.refs, *ref)
	}
	return t
}

// noNames explains why a name cannot be read in a constant or static
// attribute.
func (x *ec) noNames(name string) *problem {
	if x.sc.mode == modeConst {
		return &problem{code: "not-constant", summary: fmt.Sprintf("%s must be a constant, but it reads %q", x.sc.what, name),
			detail: "Graph attributes are fixed when the program is compiled; write a literal value."}
	}
	return &problem{code: "not-static", summary: fmt.Sprintf("%s cannot read %q", x.sc.what, name),
		detail: "This value is fixed before the run starts: use literals, env(\"NAME\") or secret(\"NAME\")."}
}

// pointer types # (the element), #index and #acc inside predicates.
func (x *ec) pointer(n *exprast.PointerNode) vt {
	switch n.Name {
	case "":
		if len(x.elems) == 0 {
			return x.errorf(x.at(n), "expr-pointer", "# is only valid inside a predicate such as filter(list, # > 1)")
		}
		return x.elems[len(x.elems)-1]
	case "index":
		return tInt
	case "acc":
		if len(x.accs) == 0 {
			return x.errorf(x.at(n), "expr-pointer", "#acc is only valid inside reduce")
		}
		return x.accs[len(x.accs)-1]
	}
	return x.errorf(x.at(n), "expr-pointer", "unknown pointer #%s (use #, #index or #acc)", n.Name)
}

// optionalUse explains why an optional value may not be used directly.
func (x *ec) optionalUse(n exprast.Node, t vt) *problem {
	name := n.String()
	if id, ok := n.(*exprast.IdentifierNode); ok {
		name = id.Value
	}
	hint := fmt.Sprintf("give a default with %s ?? ...", name)
	if t.kind() == schema.Object || t.isAny() {
		hint = fmt.Sprintf("use %s?.field, or give a default with %s ?? ...", name, name)
	}
	if base, ok := chainBase(n); ok {
		// The value is optional because of ?. itself: a?.score is null
		// when a is.
		hint = fmt.Sprintf("give a default: (%s ?? %s)", name, zeroOf(t))
		return &problem{
			code:    "optional-access",
			summary: fmt.Sprintf("%s may be null (%s): ?. gives null when %s is null, so give a default with ??", name, t, base),
			hint:    hint,
			detail:  "?. stops at a null value and gives null; the operation after it needs a value, which ?? supplies.",
		}
	}
	return &problem{
		code:    "optional-access",
		summary: fmt.Sprintf("%s is optional (%s) and may be null: use ?. or ??", name, t),
		hint:    hint,
		detail:  "A value that may not exist (a step in a match arm, after a skipping approval, with continue_on_fail or skip_if, from a previous loop iteration, or an optional field) must be read with ?. or ??.",
	}
}

// wantKind reports t unless it is one of kinds (or any). Optional values
// are refused.
func (x *ec) wantKind(n exprast.Node, t vt, what string, kinds ...schema.Kind) bool {
	if t.opt && !t.isNull() {
		x.fail(x.whole(n), x.optionalUse(n, t))
		return false
	}
	if t.isAny() {
		return true
	}
	k := t.kind()
	for _, w := range kinds {
		if k == w || (w == schema.String && k == schema.Enum) || (w == schema.Float && k == schema.Int) {
			return true
		}
	}
	names := make([]string, len(kinds))
	for i, w := range kinds {
		names[i] = w.String()
	}
	x.errorf(x.whole(n), "type-mismatch", "%s must be %s, not %s", what, strings.Join(names, " or "), t)
	return false
}

// wantBool types n and requires a bool.
func (x *ec) wantBool(n exprast.Node, what string) {
	x.wantKind(n, x.typeOf(n), what, schema.Bool)
}

// firstID returns the first id of a mount, for messages.
func firstID(ns *gnode) string {
	if ns.mount != nil && len(ns.mount.order) > 0 {
		return ns.mount.order[0]
	}
	return "ID"
}

// chainBase returns the text of the value before the last ?. of n (a in
// a?.score), and whether n is such a chain.
func chainBase(n exprast.Node) (string, bool) {
	if c, ok := n.(*exprast.ChainNode); ok {
		n = c.Node
	}
	for {
		m, ok := n.(*exprast.MemberNode)
		if !ok {
			return "", false
		}
		if m.Optional {
			return m.Node.String(), true
		}
		n = m.Node
	}
}

// zeroOf is a default value of t's kind, for hints.
func zeroOf(t vt) string {
	switch t.kind() {
	case schema.Int:
		return "0"
	case schema.Float:
		return "0.0"
	case schema.String, schema.Enum:
		return `""`
	case schema.Bool:
		return "false"
	case schema.List:
		return "[]"
	case schema.Object:
		return "{}"
	}
	return "..."
}
