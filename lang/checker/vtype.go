package checker

import "github.com/smithc/smithc/schema"

// vt is the checker's view of a value's type: a schema type plus whether
// the value may be null. Lists built by the checker (a for body's step read
// after the for) carry their element's own optionality in elem.
type vt struct {
	s    *schema.Type
	opt  bool
	elem *vt // List only: overrides s.Elem when non-nil

	// chain is set on a value that is optional only because a ?. earlier
	// in the same member chain short-circuits: further accesses in that
	// chain need no ?. of their own.
	chain bool
	// ns is set when the value is a use mount's namespace (api in
	// api.read); its members are the mounted nodes.
	ns *gnode
	// empty is set on the empty list literal [], which unifies with any
	// list.
	empty bool
}

var (
	tAny    = vt{s: schema.AnyType}
	tString = vt{s: schema.StringType}
	tInt    = vt{s: schema.IntType}
	tFloat  = vt{s: schema.FloatType}
	tBool   = vt{s: schema.BoolType}
	tNull   = vt{s: schema.NullType, opt: true}
)

func of(s *schema.Type) vt {
	if s == nil {
		return tAny
	}
	return vt{s: s}
}

func (t vt) kind() schema.Kind {
	if t.s == nil {
		return schema.Any
	}
	return t.s.Kind
}

func (t vt) isAny() bool     { return t.kind() == schema.Any }
func (t vt) isNull() bool    { return t.kind() == schema.Null }
func (t vt) isNumber() bool  { k := t.kind(); return k == schema.Int || k == schema.Float }
func (t vt) isStringy() bool { k := t.kind(); return k == schema.String || k == schema.Enum }

// optional returns t marked as possibly null.
func (t vt) optional() vt { t.opt = true; t.chain = false; return t }

// required returns t without the null possibility.
func (t vt) required() vt { t.opt = false; t.chain = false; return t }

// elemType returns the element type of a list (any for anything else).
func (t vt) elemType() vt {
	if t.kind() != schema.List {
		return tAny
	}
	if t.elem != nil {
		return *t.elem
	}
	return of(t.s.Elem)
}

// listOf returns [e], keeping e's optionality.
func listOf(e vt) vt {
	s := schema.ListOf(e.s)
	if e.opt || e.elem != nil {
		ec := e
		return vt{s: s, elem: &ec}
	}
	return vt{s: s}
}

// String renders the type, with "?" for optional values.
func (t vt) String() string {
	var s string
	if t.kind() == schema.List && t.elem != nil {
		s = "[" + t.elem.String() + "]"
	} else {
		s = t.s.String()
	}
	if t.opt && !t.isNull() {
		s += "?"
	}
	return s
}

// schemaType returns the schema form of t (optionality dropped).
func (t vt) schemaType() *schema.Type {
	if t.kind() == schema.List && t.elem != nil {
		return schema.ListOf(t.elem.schemaType())
	}
	if t.s == nil {
		return schema.AnyType
	}
	return t.s
}

// unify returns a type covering a and b (for list literals, ?: and ??):
// the same type, int/float widened to float, enum/string to string, and
// any otherwise. ok is false when the two have nothing in common.
func unify(a, b vt) (vt, bool) {
	opt := a.opt || b.opt
	switch {
	case a.empty && b.kind() == schema.List:
		b.opt = opt
		return b, true
	case b.empty && a.kind() == schema.List:
		a.opt = opt
		return a, true
	case a.isNull():
		b.opt = true
		return b, true
	case b.isNull():
		a.opt = true
		return a, true
	case a.isAny() || b.isAny():
		return vt{s: schema.AnyType, opt: opt}, true
	case a.s == b.s:
		a.opt = opt
		return a, true
	case a.isNumber() && b.isNumber():
		if a.kind() == schema.Int && b.kind() == schema.Int {
			return vt{s: schema.IntType, opt: opt}, true
		}
		return vt{s: schema.FloatType, opt: opt}, true
	case a.isStringy() && b.isStringy():
		if a.kind() == schema.Enum && b.kind() == schema.Enum {
			vals := append([]string(nil), a.s.Enum...)
			for _, v := range b.s.Enum {
				if !a.s.HasEnum(v) {
					vals = append(vals, v)
				}
			}
			return vt{s: schema.EnumOf(vals...), opt: opt}, true
		}
		return vt{s: schema.StringType, opt: opt}, true
	case a.kind() == schema.List && b.kind() == schema.List:
		e, ok := unify(a.elemType(), b.elemType())
		if !ok {
			return vt{s: schema.ListOf(schema.AnyType), opt: opt}, true
		}
		l := listOf(e)
		l.opt = opt
		return l, true
	case a.kind() == b.kind() && a.kind() != schema.Object:
		a.opt = opt
		return a, true
	case a.kind() == schema.Object && b.kind() == schema.Object:
		if a.s.Structure() == b.s.Structure() {
			a.opt = opt
			return a, true
		}
		return vt{s: schema.AnyType, opt: opt}, true
	}
	return vt{s: schema.AnyType, opt: opt}, false
}

// fieldType returns the type of field name of an object type, and whether
// the field exists. Reading an optional field gives an optional value.
func fieldType(t vt, name string) (vt, bool) {
	f := t.s.Field(name)
	if f == nil {
		return tAny, false
	}
	r := of(f.Type)
	if f.Optional {
		r.opt = true
	}
	return r, true
}

// fieldNames lists the field names of an object type.
func fieldNames(t *schema.Type) []string {
	if t == nil {
		return nil
	}
	out := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		out[i] = f.Name
	}
	return out
}
