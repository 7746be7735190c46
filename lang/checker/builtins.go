package checker

import (
	"fmt"
	"sort"

	exprast "github.com/expr-lang/expr/ast"

	"github.com/smithc/smithc/schema"
)

// nondeterministic builtins are refused: a durable run replays its
// decisions, so an expression must give the same value every time.
var nondeterministic = map[string]bool{"now": true, "date": true, "duration": true, "timezone": true}

// functionNames lists the functions an expression may call, for hints.
func functionNames() []string {
	names := []string{"env", "secret"}
	for n := range builtinArity {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// builtinArity is the accepted argument counts of each builtin (min, max;
// max -1 for variadic).
var builtinArity = map[string][2]int{
	"all": {2, 2}, "none": {2, 2}, "any": {2, 2}, "one": {2, 2}, "filter": {2, 2}, "map": {2, 2},
	"find": {2, 2}, "findIndex": {2, 2}, "findLast": {2, 2}, "findLastIndex": {2, 2},
	"count": {1, 2}, "sum": {1, 2}, "groupBy": {2, 2}, "sortBy": {2, 3}, "reduce": {2, 3},
	"len": {1, 1}, "type": {1, 1}, "abs": {1, 1}, "ceil": {1, 1}, "floor": {1, 1}, "round": {1, 1},
	"int": {1, 1}, "float": {1, 1}, "string": {1, 1}, "trim": {1, 2}, "trimPrefix": {2, 2},
	"trimSuffix": {2, 2}, "upper": {1, 1}, "lower": {1, 1}, "split": {2, 3}, "splitAfter": {2, 3},
	"replace": {3, 3}, "repeat": {2, 2}, "join": {1, 2}, "indexOf": {2, 2}, "lastIndexOf": {2, 2},
	"hasPrefix": {2, 2}, "hasSuffix": {2, 2}, "max": {1, -1}, "min": {1, -1}, "mean": {1, -1},
	"median": {1, -1}, "toJSON": {1, 1}, "fromJSON": {1, 1}, "toBase64": {1, 1}, "fromBase64": {1, 1},
	"first": {1, 1}, "last": {1, 1}, "get": {2, 2}, "take": {2, 2}, "keys": {1, 1}, "values": {1, 1},
	"toPairs": {1, 1}, "fromPairs": {1, 1}, "reverse": {1, 1}, "uniq": {1, 1}, "concat": {1, -1},
	"flatten": {1, 1}, "sort": {1, 2}, "bitnot": {1, 1}, "bitand": {2, 2}, "bitor": {2, 2},
	"bitxor": {2, 2}, "bitnand": {2, 2}, "bitshl": {2, 2}, "bitshr": {2, 2}, "bitushr": {2, 2},
}

// builtin types a call of an expr builtin.
func (x *ec) builtin(n *exprast.BuiltinNode) vt {
	if nondeterministic[n.Name] {
		return x.errorf(x.at(n), "nondeterministic", "%s() is not available: expressions must give the same result when a run is resumed; pass times in through input", n.Name)
	}
	ar, known := builtinArity[n.Name]
	if !known {
		return x.fail(x.at(n), unknownFunction(n.Name))
	}
	if len(n.Arguments) < ar[0] || (ar[1] >= 0 && len(n.Arguments) > ar[1]) {
		for _, a := range n.Arguments {
			x.typeOf(a)
		}
		return x.errorf(x.at(n), "arg-count", "%s() takes %s, got %d", n.Name, arity(ar), len(n.Arguments))
	}
	args := n.Arguments
	switch n.Name {
	case "all", "none", "any", "one", "filter", "find", "findLast", "findIndex", "findLastIndex", "count":
		list := x.listArg(args[0], n.Name)
		if len(args) > 1 {
			x.withElem(list.elemType(), func() { x.wantBool(args[1], "the predicate of "+n.Name+"()") })
		}
		switch n.Name {
		case "filter":
			return list.required()
		case "find", "findLast":
			return list.elemType().optional()
		case "findIndex", "findLastIndex", "count":
			return tInt
		}
		return tBool
	case "map":
		list := x.listArg(args[0], n.Name)
		var e vt
		x.withElem(list.elemType(), func() { e = x.typeOf(args[1]) })
		return listOf(e)
	case "sum":
		list := x.listArg(args[0], n.Name)
		e := list.elemType()
		if len(args) > 1 {
			x.withElem(e, func() { e = x.typeOf(args[1]) })
		}
		if e.kind() == schema.Int {
			return tInt
		}
		if e.isAny() {
			return tAny
		}
		if e.kind() != schema.Float {
			return x.errorf(x.whole(args[0]), "type-mismatch", "sum() needs numbers, not %s", e)
		}
		return tFloat
	case "groupBy":
		list := x.listArg(args[0], n.Name)
		x.withElem(list.elemType(), func() { x.typeOf(args[1]) })
		return tAny
	case "sortBy":
		list := x.listArg(args[0], n.Name)
		x.withElem(list.elemType(), func() { x.typeOf(args[1]) })
		if len(args) > 2 {
			x.wantKind(args[2], x.typeOf(args[2]), "the order of sortBy()", schema.String)
		}
		return list.required()
	case "reduce":
		list := x.listArg(args[0], n.Name)
		acc := tAny
		if len(args) > 2 {
			acc = x.typeOf(args[2])
		}
		var r vt
		x.accs = append(x.accs, acc)
		x.withElem(list.elemType(), func() { r = x.typeOf(args[1]) })
		x.accs = x.accs[:len(x.accs)-1]
		return r
	case "len":
		x.wantKind(args[0], x.typeOf(args[0]), "the argument of len()", schema.String, schema.List, schema.Object)
		return tInt
	case "type", "string", "toJSON":
		x.typeOf(args[0])
		return tString
	case "abs":
		t := x.typeOf(args[0])
		x.wantKind(args[0], t, "the argument of abs()", schema.Int, schema.Float)
		return t.required()
	case "ceil", "floor", "round":
		x.wantKind(args[0], x.typeOf(args[0]), "the argument of "+n.Name+"()", schema.Int, schema.Float)
		return tFloat
	case "int", "float":
		x.wantKind(args[0], x.typeOf(args[0]), "the argument of "+n.Name+"()", schema.Int, schema.Float, schema.String)
		if n.Name == "int" {
			return tInt
		}
		return tFloat
	case "trim", "trimPrefix", "trimSuffix", "upper", "lower", "replace", "repeat", "toBase64", "fromBase64":
		for i, a := range args {
			k := schema.String
			if n.Name == "repeat" && i == 1 {
				k = schema.Int
			}
			x.wantKind(a, x.typeOf(a), fmt.Sprintf("argument %d of %s()", i+1, n.Name), k)
		}
		return tString
	case "split", "splitAfter":
		x.strings(args[:2], n.Name)
		if len(args) > 2 {
			x.wantKind(args[2], x.typeOf(args[2]), "argument 3 of "+n.Name+"()", schema.Int)
		}
		return vt{s: schema.ListOf(schema.StringType)}
	case "indexOf", "lastIndexOf":
		x.strings(args, n.Name)
		return tInt
	case "hasPrefix", "hasSuffix":
		x.strings(args, n.Name)
		return tBool
	case "join":
		x.listArg(args[0], n.Name)
		if len(args) > 1 {
			x.wantKind(args[1], x.typeOf(args[1]), "the separator of join()", schema.String)
		}
		return tString
	case "max", "min", "mean", "median":
		t := tAny
		for _, a := range args {
			at := x.typeOf(a)
			if at.kind() == schema.List {
				at = at.elemType()
			}
			x.wantKind(a, at, "the arguments of "+n.Name+"()", schema.Int, schema.Float)
			t, _ = unify(t, at)
		}
		if n.Name == "mean" || n.Name == "median" {
			return tFloat
		}
		return t.required()
	case "fromJSON":
		x.wantKind(args[0], x.typeOf(args[0]), "the argument of fromJSON()", schema.String)
		return tAny
	case "first", "last":
		return x.listArg(args[0], n.Name).elemType().optional()
	case "get":
		x.typeOf(args[0])
		x.typeOf(args[1])
		return tAny.optional()
	case "take":
		l := x.listArg(args[0], n.Name)
		x.wantKind(args[1], x.typeOf(args[1]), "the count of take()", schema.Int)
		return l.required()
	case "keys":
		x.wantKind(args[0], x.typeOf(args[0]), "the argument of keys()", schema.Object)
		return vt{s: schema.ListOf(schema.StringType)}
	case "values", "toPairs":
		x.wantKind(args[0], x.typeOf(args[0]), "the argument of "+n.Name+"()", schema.Object)
		return vt{s: schema.ListOf(schema.AnyType)}
	case "fromPairs":
		x.listArg(args[0], n.Name)
		return tAny
	case "reverse", "uniq", "sort":
		l := x.listArg(args[0], n.Name)
		if len(args) > 1 {
			x.wantKind(args[1], x.typeOf(args[1]), "the order of sort()", schema.String)
		}
		return l.required()
	case "concat":
		t := vt{s: schema.ListOf(schema.AnyType)}
		for i, a := range args {
			l := x.listArg(a, n.Name)
			if i == 0 {
				t = l.required()
			} else {
				t, _ = unify(t, l.required())
			}
		}
		return t
	case "flatten":
		x.listArg(args[0], n.Name)
		return vt{s: schema.ListOf(schema.AnyType)}
	default: // bit operations
		for i, a := range args {
			x.wantKind(a, x.typeOf(a), fmt.Sprintf("argument %d of %s()", i+1, n.Name), schema.Int)
		}
		return tInt
	}
}

func arity(ar [2]int) string {
	switch {
	case ar[1] < 0:
		return fmt.Sprintf("at least %d argument%s", ar[0], plural(ar[0]))
	case ar[0] == ar[1]:
		return fmt.Sprintf("%d argument%s", ar[0], plural(ar[0]))
	}
	return fmt.Sprintf("%d to %d arguments", ar[0], ar[1])
}

// listArg types a list argument of a builtin.
func (x *ec) listArg(a exprast.Node, fn string) vt {
	t := x.typeOf(a)
	if !x.wantKind(a, t, "the first argument of "+fn+"()", schema.List) {
		return vt{s: schema.ListOf(schema.AnyType)}
	}
	if t.isAny() {
		return vt{s: schema.ListOf(schema.AnyType)}
	}
	return t
}

func (x *ec) strings(args []exprast.Node, fn string) {
	for i, a := range args {
		x.wantKind(a, x.typeOf(a), fmt.Sprintf("argument %d of %s()", i+1, fn), schema.String)
	}
}

// withElem runs f with # bound to e.
func (x *ec) withElem(e vt, f func()) {
	x.elems = append(x.elems, e)
	f()
	x.elems = x.elems[:len(x.elems)-1]
}

// call types a call of a non-builtin function: env() and secret().
func (x *ec) call(n *exprast.CallNode) vt {
	id, ok := n.Callee.(*exprast.IdentifierNode)
	if !ok {
		for _, a := range n.Arguments {
			x.typeOf(a)
		}
		return x.errorf(x.at(n), "unknown-function", "only named functions can be called")
	}
	switch id.Value {
	case "env", "secret":
		if x.sc.mode == modePredicate || x.sc.mode == modeConst {
			for _, a := range n.Arguments {
				x.typeOf(a)
			}
			return x.fail(x.at(n), &problem{code: "env-not-allowed",
				summary: fmt.Sprintf("%s() cannot be used in %s", id.Value, x.sc.what),
				detail:  "env() and secret() may be used in input defaults, agent settings and step actions; decisions (when, until, skip_if, branch, for lists) and graph attributes must not depend on the environment, so that a resumed run decides the same way."})
		}
		if len(n.Arguments) != 1 {
			for _, a := range n.Arguments {
				x.typeOf(a)
			}
			return x.errorf(x.at(n), "arg-count", "%s() takes 1 argument (the variable's name), got %d", id.Value, len(n.Arguments))
		}
		x.wantKind(n.Arguments[0], x.typeOf(n.Arguments[0]), "the argument of "+id.Value+"()", schema.String)
		if id.Value == "secret" {
			return x.secret(n)
		}
		return tString
	}
	for _, a := range n.Arguments {
		x.typeOf(a)
	}
	if nondeterministic[id.Value] {
		return x.errorf(x.at(n), "nondeterministic", "%s() is not available: expressions must give the same result when a run is resumed; pass times in through input", id.Value)
	}
	return x.fail(x.at(n), unknownFunction(id.Value))
}

// functionAliases maps the names other languages give some builtins to
// the expr builtin, for hints that edit distance would miss.
var functionAliases = map[string]string{
	"upcase": "upper", "uppercase": "upper", "toupper": "upper", "toUpper": "upper", "toUpperCase": "upper",
	"downcase": "lower", "lowercase": "lower", "tolower": "lower", "toLower": "lower", "toLowerCase": "lower",
	"length": "len", "size": "len", "strip": "trim", "lstrip": "trimPrefix", "rstrip": "trimSuffix",
	"startsWith": "hasPrefix", "startswith": "hasPrefix", "endsWith": "hasSuffix", "endswith": "hasSuffix",
	"str": "string", "tostring": "string", "toString": "string", "parseInt": "int", "parseFloat": "float",
	"unique": "uniq", "distinct": "uniq", "contains": "indexOf", "includes": "indexOf", "index": "indexOf",
	"jsonEncode": "toJSON", "jsonDecode": "fromJSON", "json": "toJSON", "base64": "toBase64",
	"avg": "mean", "average": "mean", "sorted": "sort", "flat": "flatten", "head": "first", "tail": "last",
}

// unknownFunction explains a call of a function that does not exist,
// with the closest builtin.
func unknownFunction(name string) *problem {
	hint := didYouMean(name, functionNames())
	if alt, ok := functionAliases[name]; ok {
		hint = fmt.Sprintf("did you mean %q?", alt)
	}
	return &problem{code: "unknown-function",
		summary: fmt.Sprintf("unknown function %q", name),
		hint:    hint,
		detail:  "Expressions call the builtins of the expression language (upper, len, split, filter, map, ...), and env() and secret() where the environment may be read; docs/language.md lists them."}
}

// secret checks a secret("NAME") call: the name is a string literal, so
// that a run knows every secret of its program when it starts, and the
// call is refused where its value would be stored.
func (x *ec) secret(n *exprast.CallNode) vt {
	lit, ok := n.Arguments[0].(*exprast.StringNode)
	if !ok {
		return x.fail(x.at(n), &problem{code: "secret-name",
			summary: "secret() takes the variable's name as a string literal: secret(\"NAME\")",
			detail:  "A run reads every secret of its program when it starts, so that it can keep them out of what it stores; a computed name cannot be known then."})
	}
	if x.c.noSecret != "" {
		return x.fail(x.at(n), &problem{code: "secret-stored",
			summary: fmt.Sprintf("secret(%q) cannot be used in %s", lit.Value, x.sc.what),
			detail:  x.c.noSecret})
	}
	x.c.secretNames[lit.Value] = true
	return tString
}
