package checker

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	exprast "github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"

	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/schema"
)

// unary types !x, not x, -x and +x.
func (x *ec) unary(n *exprast.UnaryNode) vt {
	t := x.typeOf(n.Node)
	switch n.Operator {
	case "!", "not":
		x.wantKind(n.Node, t, "the operand of "+n.Operator, schema.Bool)
		return tBool
	default:
		if !x.wantKind(n.Node, t, "the operand of unary "+n.Operator, schema.Int, schema.Float) {
			return tAny
		}
		return t.required()
	}
}

// binary types the binary operators of expr.
func (x *ec) binary(n *exprast.BinaryNode) vt {
	op := n.Operator
	if op == "??" {
		l, r := x.typeOf(n.Left), x.typeOf(n.Right)
		if l.isNull() {
			return r
		}
		t, ok := unify(l.required(), r)
		if !ok {
			return x.errorf(x.at(n), "type-mismatch", "the two sides of ?? have different types: %s and %s", l.required(), r)
		}
		t.opt = r.opt
		t.chain = false
		return t
	}
	l, r := x.typeOf(n.Left), x.typeOf(n.Right)
	switch op {
	case "&&", "||", "and", "or":
		x.wantKind(n.Left, l, "the left operand of "+op, schema.Bool)
		x.wantKind(n.Right, r, "the right operand of "+op, schema.Bool)
		return tBool
	case "==", "!=":
		x.equality(n, l, r)
		return tBool
	}
	for _, side := range []struct {
		n exprast.Node
		t vt
	}{{n.Left, l}, {n.Right, r}} {
		if side.t.opt && !side.t.isNull() {
			return x.fail(x.whole(side.n), x.optionalUse(side.n, side.t))
		}
	}
	if l.isAny() && r.isAny() {
		return x.anyResult(op)
	}
	switch op {
	case "+":
		switch {
		case l.isNumber() && r.isNumber():
			return numeric(l, r)
		case l.isStringy() && r.isStringy():
			return tString
		case l.isAny() && (r.isNumber() || r.isStringy()):
			return of(r.s)
		case r.isAny() && (l.isNumber() || l.isStringy()):
			return of(l.s)
		}
	case "-", "*":
		if x.numbers(l, r) {
			return numeric(l, r)
		}
	case "/", "**", "^":
		if x.numbers(l, r) {
			return tFloat
		}
	case "%":
		if ok(l, schema.Int) && ok(r, schema.Int) {
			return tInt
		}
	case "<", ">", "<=", ">=":
		if x.numbers(l, r) || (okString(l) && okString(r)) {
			return tBool
		}
	case "in":
		switch {
		case r.isAny():
			return tBool
		case r.kind() == schema.List:
			e := r.elemType()
			if _, ok := unify(l.required(), e.required()); ok {
				x.enumLiteral(n.Left, l, e.s)
				if arr, isArr := n.Right.(*exprast.ArrayNode); isArr && l.kind() == schema.Enum {
					for _, it := range arr.Nodes {
						x.enumLiteral(it, x.typeOf(it), l.s)
					}
				}
				return tBool
			}
		case r.kind() == schema.Object:
			if okString(l) {
				return tBool
			}
		}
	case "matches":
		if okString(l) && okString(r) {
			if s, isLit := n.Right.(*exprast.StringNode); isLit {
				if _, err := regexp.Compile(s.Value); err != nil {
					return x.errorf(x.at(n.Right), "bad-regexp", "bad regular expression: %v", err)
				}
			}
			return tBool
		}
	case "contains", "startsWith", "endsWith":
		if okString(l) && okString(r) {
			return tBool
		}
	case "..":
		if ok(l, schema.Int) && ok(r, schema.Int) {
			if lo, okLo := intLiteral(n.Left); okLo {
				if hi, okHi := intLiteral(n.Right); okHi && float64(hi)-float64(lo)+1 >= float64(conf.DefaultMemoryBudget) {
					return x.fail(x.at(n), &problem{
						code:    "range-too-large",
						summary: fmt.Sprintf("%d..%d is %.0f numbers; an expression makes at most %d", lo, hi, float64(hi)-float64(lo)+1, conf.DefaultMemoryBudget-1),
						detail:  "at run time it would fail with \"memory budget exceeded\"; split the range (a for over chunks, each with a range of its own)",
					})
				}
			}
			return vt{s: schema.ListOf(schema.IntType)}
		}
	}
	why := fmt.Sprintf("mismatched types %s and %s", l, r)
	if l.String() == r.String() {
		why = fmt.Sprintf("%s is not defined on %s", op, l)
	}
	return x.fail(x.at(n), &problem{
		code:    "type-mismatch",
		summary: fmt.Sprintf("invalid operation: %s %s %s (%s)", l, op, r, why),
		detail:  operatorHelp(op),
	})
}

// anyResult is the type of op applied to two values of type any.
func (x *ec) anyResult(op string) vt {
	switch op {
	case "<", ">", "<=", ">=", "in", "matches", "contains", "startsWith", "endsWith":
		return tBool
	case "/", "**", "^":
		return tFloat
	case "..":
		return vt{s: schema.ListOf(schema.IntType)}
	}
	return tAny
}

func (x *ec) numbers(l, r vt) bool {
	return (l.isNumber() || l.isAny()) && (r.isNumber() || r.isAny())
}

func ok(t vt, k schema.Kind) bool { return t.isAny() || t.kind() == k }
func okString(t vt) bool          { return t.isAny() || t.isStringy() }

// numeric is the result of + - * on numbers: int for two ints, else float.
func numeric(l, r vt) vt {
	if l.kind() == schema.Int && r.kind() == schema.Int {
		return tInt
	}
	if l.isAny() || r.isAny() {
		return tAny
	}
	return tFloat
}

func operatorHelp(op string) string {
	switch op {
	case "+":
		return "+ adds two numbers or joins two strings (concat(a, b) joins lists); convert first, e.g. string(n) or int(s)."
	case "-", "*", "/", "**", "^":
		return op + " needs two numbers (int or float)."
	case "%":
		return "% needs two ints."
	case "<", ">", "<=", ">=":
		return "Comparisons need two numbers or two strings."
	case "in":
		return "x in list needs an element of the list's type; key in object needs a string."
	}
	return ""
}

// equality checks the operands of == and !=: comparable types, and an enum
// compared with a string literal that is one of its values.
func (x *ec) equality(n *exprast.BinaryNode, l, r vt) {
	if l.isNull() || r.isNull() || l.isAny() || r.isAny() {
		return
	}
	if _, ok := unify(l.required(), r.required()); !ok {
		x.fail(x.at(n), &problem{
			code:    "type-mismatch",
			summary: fmt.Sprintf("invalid operation: %s %s %s (mismatched types)", l, n.Operator, r),
			detail:  "Values of different types are never equal; convert one side first.",
		})
		return
	}
	if l.kind() == schema.Enum {
		x.enumLiteral(n.Right, r, l.s)
	}
	if r.kind() == schema.Enum {
		x.enumLiteral(n.Left, l, r.s)
	}
}

// enumLiteral reports a string literal n that is not a value of enum.
func (x *ec) enumLiteral(n exprast.Node, t vt, enum *schema.Type) bool {
	s, isLit := n.(*exprast.StringNode)
	if !isLit || enum == nil || enum.Kind != schema.Enum || enum.HasEnum(s.Value) {
		return true
	}
	x.c.report(diag.Diagnostic{
		Code:    "enum-value",
		Summary: fmt.Sprintf("%q is not one of %s", s.Value, enum.Structure()),
		Hint:    didYouMean(s.Value, enum.Enum),
		Subject: x.at(n),
	})
	return false
}

// assign checks that n, of type got, may be used where want is expected,
// looking into literals so that errors point at the offending part.
func (x *ec) assign(n exprast.Node, got vt, want *schema.Type, optOK bool, what string) bool {
	switch m := n.(type) {
	case *exprast.StringNode:
		if want.Kind == schema.Enum {
			return x.enumLiteral(m, got, want)
		}
	case *exprast.MapNode:
		if want.Kind == schema.Object && got.kind() == schema.Object {
			return x.assignObject(m, got, want, what)
		}
	case *exprast.ArrayNode:
		if want.Kind == schema.List && got.kind() == schema.List {
			return x.assignList(m, want, what)
		}
	case *exprast.ConditionalNode:
		a := x.assign(m.Exp1, x.typeOf(m.Exp1), want, optOK, what)
		b := x.assign(m.Exp2, x.typeOf(m.Exp2), want, optOK, what)
		return a && b
	}
	return x.assignType(got, want, x.whole(n), optOK, what)
}

// assignList checks a list literal against a list type: elements that are
// literals of their own (objects, lists, enum strings) are checked one by
// one with their index in the path; plain elements of the wrong type are
// reported together, in one message that names them by index.
func (x *ec) assignList(m *exprast.ArrayNode, want *schema.Type, what string) bool {
	okAll := true
	var bad []int
	var badT []vt
	for i, e := range m.Nodes {
		t := x.typeOf(e)
		_, isStr := e.(*exprast.StringNode)
		switch e.(type) {
		case *exprast.MapNode, *exprast.ArrayNode, *exprast.ConditionalNode:
			okAll = x.assign(e, t, want.Elem, false, elemPath(what, i)) && okAll
			continue
		}
		if isStr && want.Elem.Kind == schema.Enum {
			okAll = x.assign(e, t, want.Elem, false, elemPath(what, i)) && okAll
			continue
		}
		if t.opt || t.isNull() || t.isAny() {
			okAll = x.assignType(t, want.Elem, x.whole(e), false, elemPath(what, i)) && okAll
			continue
		}
		g := t.schemaType()
		if g.AssignableTo(want.Elem) || (g.Kind == schema.String && want.Elem.Kind == schema.Enum) || stringyAssign(t, want.Elem) {
			continue
		}
		bad, badT = append(bad, i), append(badT, t)
	}
	if len(bad) == 0 {
		return okAll
	}
	same := true
	for _, t := range badT {
		same = same && t.String() == badT[0].String()
	}
	var which string
	switch {
	case len(bad) == 1:
		which = fmt.Sprintf("element %d is %s", bad[0], badT[0])
	case same:
		which = fmt.Sprintf("elements %s are %s", indexList(bad), badT[0])
	default:
		parts := make([]string, len(bad))
		for i, k := range bad {
			parts[i] = fmt.Sprintf("%d (%s)", k, badT[i])
		}
		which = "elements " + joinAnd(parts) + " are not " + want.Elem.String()
	}
	x.c.report(diag.Diagnostic{
		Code:    "type-mismatch",
		Summary: fmt.Sprintf("%s must be a list of %s, but %s", what, want.Elem, which),
		Detail:  "Elements are counted from 0.",
		Subject: x.whole(m.Nodes[bad[0]]),
	})
	return false
}

// indexList renders indexes as "1, 2 and 4".
func indexList(ix []int) string {
	parts := make([]string, len(ix))
	for i, k := range ix {
		parts[i] = fmt.Sprint(k)
	}
	return joinAnd(parts)
}

// joinAnd joins words as "a, b and c".
func joinAnd(parts []string) string {
	if len(parts) <= 1 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// assignObject checks a map literal against an object type field by field.
func (x *ec) assignObject(m *exprast.MapNode, got vt, want *schema.Type, what string) bool {
	okAll := true
	present := map[string]bool{}
	type unknownKey struct {
		name string
		at   exprast.Node
	}
	var unknown []unknownKey
	for _, p := range m.Pairs {
		pair, isPair := p.(*exprast.PairNode)
		if !isPair {
			continue
		}
		key, isKey := pair.Key.(*exprast.StringNode)
		if !isKey {
			continue
		}
		present[key.Value] = true
		f := want.Field(key.Value)
		if f == nil {
			unknown = append(unknown, unknownKey{key.Value, pair.Key})
			okAll = false
			continue
		}
		ft, _ := fieldType(got, key.Value)
		okAll = x.assign(pair.Value, ft, f.Type, f.Optional, subPath(what, key.Value)) && okAll
	}
	var missing []string
	for _, f := range want.Fields {
		if !present[f.Name] && !f.Optional && !f.HasDefault {
			missing = append(missing, f.Name)
		}
	}
	// A misspelt field is one error: the unknown name with the missing
	// field it was meant to be, not "unknown" and "missing" apart.
	for _, u := range unknown {
		if s := suggest(u.name, missing); s != "" {
			missing = slices.DeleteFunc(missing, func(n string) bool { return n == s })
			x.fail(x.at(u.at), &problem{code: "unknown-field",
				summary: fmt.Sprintf("unknown field %q in %s: did you mean %q? (%s is missing it)", u.name, want, s, what)})
			continue
		}
		x.fail(x.at(u.at), &problem{code: "unknown-field",
			summary: fmt.Sprintf("unknown field %q in %s", u.name, want),
			hint:    didYouMean(u.name, fieldNames(want))})
	}
	if len(missing) > 0 {
		x.c.report(diag.Diagnostic{
			Code:    "missing-field",
			Summary: fmt.Sprintf("%s is missing required field%s %s of %s", what, plural(len(missing)), quoteList(missing), want),
			Subject: x.whole(m),
		})
		okAll = false
	}
	return okAll
}

// assignType checks got against want without looking into the expression.
func (x *ec) assignType(got vt, want *schema.Type, at diag.Range, optOK bool, what string) bool {
	if got.opt && !optOK && want.Kind != schema.Any {
		if got.isNull() {
			x.c.errorf(at, "type-mismatch", "%s cannot be null: %s is expected", what, want)
			return false
		}
		x.c.report(diag.Diagnostic{
			Code:    "optional-value",
			Summary: fmt.Sprintf("%s may be null (its type is %s), but %s is expected", what, got, want),
			Hint:    "give a default with ?? or make the field optional",
			Subject: at,
		})
		return false
	}
	if got.isNull() {
		return true
	}
	g := got.schemaType()
	if g.AssignableTo(want) || (g.Kind == schema.String && want.Kind == schema.Enum) || stringyAssign(got, want) {
		return true
	}
	p := &problem{code: "type-mismatch", summary: fmt.Sprintf("%s has type %s, but %s is expected", what, got.required(), want)}
	if want.Kind == schema.Bool {
		p.summary = fmt.Sprintf("%s must be bool, not %s", what, got.required())
	}
	if g.Kind == schema.Object && want.Kind == schema.Object {
		p.detail = objectMismatch(g, want)
	}
	x.fail(at, p)
	return false
}

// stringyAssign accepts computed strings where enums are expected, also
// inside lists and objects.
func stringyAssign(got vt, want *schema.Type) bool {
	g := got.schemaType()
	switch {
	case want.Kind == schema.Enum:
		return g.Kind == schema.String || g.Kind == schema.Enum
	case want.Kind == schema.List && g.Kind == schema.List:
		return stringyAssign(got.elemType(), want.Elem)
	case want.Kind == schema.Object && g.Kind == schema.Object:
		for _, uf := range want.Fields {
			tf := g.Field(uf.Name)
			if tf == nil {
				if uf.Optional || uf.HasDefault {
					continue
				}
				return false
			}
			if tf.Optional && !uf.Optional {
				return false
			}
			if !tf.Type.AssignableTo(uf.Type) && !stringyAssign(of(tf.Type), uf.Type) {
				return false
			}
		}
		return true
	}
	return false
}

// objectMismatch explains the first field that makes g not fit want.
func objectMismatch(g, want *schema.Type) string {
	for _, uf := range want.Fields {
		tf := g.Field(uf.Name)
		switch {
		case tf == nil && !uf.Optional && !uf.HasDefault:
			return fmt.Sprintf("Field %q is missing.", uf.Name)
		case tf == nil:
		case tf.Optional && !uf.Optional:
			return fmt.Sprintf("Field %q may be null but is required.", uf.Name)
		case !tf.Type.AssignableTo(uf.Type) && !stringyAssign(of(tf.Type), uf.Type):
			return fmt.Sprintf("Field %q has type %s, but %s is expected.", uf.Name, tf.Type, uf.Type)
		}
	}
	return ""
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}

// subPath names field key of the value described by what:
// "value of step "a"" becomes "value.key of step "a"".
// elemPath is subPath for element i of a list: value[1] of step "s".
func elemPath(what string, i int) string {
	k := fmt.Sprintf("[%d]", i)
	if j := strings.Index(what, " of "); j >= 0 {
		return what[:j] + k + what[j:]
	}
	return what + k
}

func subPath(what, key string) string {
	if i := strings.Index(what, " of "); i >= 0 {
		return what[:i] + "." + key + what[i:]
	}
	return what + "." + key
}

// intLiteral is the value of an integer literal, negated ones too.
func intLiteral(n exprast.Node) (int, bool) {
	switch x := n.(type) {
	case *exprast.IntegerNode:
		return x.Value, true
	case *exprast.UnaryNode:
		if v, ok := intLiteral(x.Node); ok && x.Operator == "-" {
			return -v, true
		}
	}
	return 0, false
}
