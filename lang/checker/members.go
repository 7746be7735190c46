package checker

import (
	"fmt"
	"strings"

	exprast "github.com/expr-lang/expr/ast"

	"github.com/smithc/smithc/schema"
)

// memberNode types a.b, a?.b and a[i].
func (x *ec) memberNode(n *exprast.MemberNode) vt {
	if x.nsBase == nil {
		x.nsBase = map[exprast.Node]bool{}
	}
	x.nsBase[n.Node] = true
	base := x.typeOf(n.Node)
	if n.Method {
		return x.errorf(x.at(n), "expr-method", "method calls are not supported")
	}
	chain := base.chain
	if base.opt && !base.isNull() {
		if !n.Optional && !base.chain {
			return x.fail(x.whole(n.Node), x.optionalUse(n.Node, base))
		}
		base = base.required()
		chain = true
	} else if n.Optional {
		chain = true
	}
	t := x.access(n, base)
	if chain && !t.opt {
		t.opt, t.chain = true, true
	}
	return t
}

// access types the member or index n.Property of base (not null).
func (x *ec) access(n *exprast.MemberNode, base vt) vt {
	prop, isName := n.Property.(*exprast.StringNode)
	if base.ns != nil {
		if !isName {
			return x.errorf(x.at(n.Property), "expr-index", "a use mount is not a list; read one of its nodes with %s.ID", exprast.Dump(n.Node))
		}
		t, ref, p := x.sc.r.member(base.ns, prop.Value)
		if t.ns != nil && !x.nsBase[n] {
			return x.errorf(x.at(n.Property), "mount-value", "%q is a use mount, not a value: read one of its nodes", prop.Value)
		}
		if p != nil {
			return x.fail(x.at(n.Property), p)
		}
		if ref != nil {
			x.refs = append(x.refs, *ref)
		}
		return t
	}
	if !isName {
		it := x.typeOf(n.Property)
		switch base.kind() {
		case schema.List:
			x.wantKind(n.Property, it, "a list index", schema.Int)
			return base.elemType()
		case schema.String, schema.Enum:
			return x.errorf(x.at(n.Property), "expr-index", "cannot index a string (it would give a byte); slice it instead: s[i:i+1]")
		case schema.Object:
			x.wantKind(n.Property, it, "an object key", schema.String)
			return tAny
		case schema.Any:
			return tAny
		}
		return x.errorf(x.at(n), "expr-index", "cannot index a value of type %s", base)
	}
	switch base.kind() {
	case schema.Any:
		return tAny
	case schema.Object:
		t, ok := fieldType(base, prop.Value)
		if !ok {
			p := &problem{code: "unknown-field", summary: fmt.Sprintf("unknown field %q in %s", prop.Value, base.s.String()),
				hint: didYouMean(prop.Value, fieldNames(base.s))}
			if p.hint == "" && len(base.s.Fields) > 0 {
				p.detail = "Its fields are: " + strings.Join(fieldNames(base.s), ", ") + "."
			}
			return x.fail(x.at(n.Property), p)
		}
		return t
	case schema.List:
		return x.errorf(x.at(n.Property), "expr-field", "cannot read field %q of a list %s: index it first (x[0].%s) or use map(x, .%s)", prop.Value, base, prop.Value, prop.Value)
	}
	return x.errorf(x.at(n.Property), "expr-field", "cannot read field %q of a value of type %s", prop.Value, base)
}

// slice types a[i:j].
func (x *ec) slice(n *exprast.SliceNode) vt {
	base := x.typeOf(n.Node)
	if n.From != nil {
		x.wantKind(n.From, x.typeOf(n.From), "a slice bound", schema.Int)
	}
	if n.To != nil {
		x.wantKind(n.To, x.typeOf(n.To), "a slice bound", schema.Int)
	}
	if base.opt {
		return x.fail(x.whole(n.Node), x.optionalUse(n.Node, base))
	}
	switch base.kind() {
	case schema.List, schema.Any:
		return base
	case schema.String, schema.Enum:
		return tString
	}
	return x.errorf(x.whole(n.Node), "expr-type", "cannot slice a value of type %s", base)
}

// mapLit types a map literal: an object when every key is a literal name.
func (x *ec) mapLit(n *exprast.MapNode) vt {
	t := &schema.Type{Kind: schema.Object}
	dynamic := false
	seen := map[string]bool{}
	for _, p := range n.Pairs {
		pair, ok := p.(*exprast.PairNode)
		if !ok {
			continue
		}
		v := x.typeOf(pair.Value)
		key, ok := pair.Key.(*exprast.StringNode)
		if !ok {
			x.wantKind(pair.Key, x.typeOf(pair.Key), "a map key", schema.String)
			dynamic = true
			continue
		}
		if seen[key.Value] {
			x.errorf(x.at(pair.Key), "duplicate-key", "duplicate key %q: it is set twice", key.Value)
			continue
		}
		seen[key.Value] = true
		t.Fields = append(t.Fields, &schema.Field{Name: key.Value, Type: v.schemaType(), Optional: v.opt})
	}
	if dynamic {
		return tAny
	}
	return vt{s: t}
}
