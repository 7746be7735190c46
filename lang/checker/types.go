package checker

import (
	"sort"
	"strings"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/schema"
)

// resolveTypes resolves every declared type, in a stable order, reporting
// unknown names and recursive types.
func (c *checker) resolveTypes() {
	names := make([]string, 0, len(c.types))
	for n := range c.types {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c.resolveNamed(n, c.types[n].decl.Name.Range, nil)
	}
}

// resolveNamed returns the schema type of the declared type name,
// referenced at at. chain is the list of types being resolved, for cycle
// messages; c.typeEntry holds, for each of them, where it was referenced.
func (c *checker) resolveNamed(name string, at diag.Range, chain []string) *schema.Type {
	td := c.types[name]
	switch td.state {
	case 2:
		return c.info.Types[name]
	case 1:
		c.reportTypeCycle(name, at, chain)
		return schema.AnyType
	}
	td.state = 1
	c.typeEntry = append(c.typeEntry, at)
	t := &schema.Type{Kind: schema.Object, Name: name}
	t.Fields = c.resolveFields(td.decl.Fields, append(chain, name), "type "+name)
	c.typeEntry = c.typeEntry[:len(c.typeEntry)-1]
	c.info.Types[name] = t
	td.state = 2
	return t
}

// reportTypeCycle reports a cycle closed by a reference to name at at:
// once for every type of the cycle, at its reference to the next one.
func (c *checker) reportTypeCycle(name string, at diag.Range, chain []string) {
	i := max(indexOf(chain, name), 0)
	members := chain[i:]
	base := len(c.typeEntry) - len(chain)
	for k := range members {
		ref := at
		if k+1 < len(members) && base+i+k+1 >= 0 && base+i+k+1 < len(c.typeEntry) {
			ref = c.typeEntry[base+i+k+1]
		}
		cyc := append(append(append([]string(nil), members[k:]...), members[:k]...), members[k])
		c.report(diag.Diagnostic{
			Code:    "recursive-type",
			Summary: "recursive type: " + strings.Join(cyc, " -> "),
			Detail:  "A type may not contain itself, directly or through other types; use any for the recursive part.",
			Subject: ref,
		})
	}
}

// resolveFields resolves object fields, reporting duplicates and checking
// defaults. owner names the object in messages.
func (c *checker) resolveFields(fields []*ast.Field, chain []string, owner string) []*schema.Field {
	out := make([]*schema.Field, 0, len(fields))
	seen := map[string]diag.Range{}
	for _, f := range fields {
		if f == nil {
			continue
		}
		if prev, ok := seen[f.Name.Name]; ok {
			c.report(diag.Diagnostic{
				Code:    "duplicate-field",
				Summary: "duplicate field " + quote(f.Name.Name) + " in " + owner + ": it is declared twice",
				Subject: f.Name.Range,
				Related: []diag.Related{{Range: prev, Message: "first declared here"}},
			})
			continue
		}
		seen[f.Name.Name] = f.Name.Range
		sf := &schema.Field{Name: f.Name.Name, Optional: f.Optional, Type: c.resolveTypeExpr(f.Type, chain)}
		if f.Default != nil {
			sf.HasDefault = true
			sf.Default = c.checkDefault(f, sf.Type)
		}
		out = append(out, sf)
	}
	return out
}

// resolveTypeExpr turns a written type into a schema type.
func (c *checker) resolveTypeExpr(te ast.TypeExpr, chain []string) *schema.Type {
	switch te := te.(type) {
	case nil:
		return schema.AnyType
	case *ast.NamedType:
		switch te.Name {
		case "string":
			return schema.StringType
		case "int":
			return schema.IntType
		case "float":
			return schema.FloatType
		case "bool":
			return schema.BoolType
		case "any":
			return schema.AnyType
		}
		if _, ok := c.types[te.Name]; ok {
			return c.resolveNamed(te.Name, te.Range, chain)
		}
		cands := append([]string(nil), scalarTypes...)
		for n := range c.types {
			cands = append(cands, n)
		}
		c.report(diag.Diagnostic{
			Code:    "unknown-type",
			Summary: "unknown type " + quote(te.Name),
			Hint:    didYouMean(te.Name, cands),
			Detail:  "Types are string, int, float, bool, any, [T], { field: T }, \"a\" | \"b\", or a type declared with `type` in this file or an imported one.",
			Subject: te.Range,
		})
		return schema.AnyType
	case *ast.ListType:
		return schema.ListOf(c.resolveTypeExpr(te.Elem, chain))
	case *ast.ObjectType:
		return schema.ObjectOf(c.resolveFields(te.Fields, chain, "the object type")...)
	case *ast.EnumType:
		vals := make([]string, 0, len(te.Values))
		for _, v := range te.Values {
			if indexOf(vals, v.Value) >= 0 {
				c.errorf(v.Range, "duplicate-enum-value", "duplicate enum value %q: it is listed twice", v.Value)
				continue
			}
			vals = append(vals, v.Value)
		}
		return schema.EnumOf(vals...)
	}
	return schema.AnyType
}

// typeOf resolves a written type outside type declarations (inputs,
// outputs, parameters).
func (c *checker) typeOf(te ast.TypeExpr) *schema.Type { return c.resolveTypeExpr(te, nil) }

// objectOf resolves an output schema; a non-object declared output is
// kept as written (output: [string] is allowed).
func (c *checker) fieldsType(fields []*ast.Field, owner string) *schema.Type {
	return schema.ObjectOf(c.resolveFields(fields, nil, owner)...)
}
