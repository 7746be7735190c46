package ast

import "github.com/smithc/smithc/lang/diag"

// Field declares a named, typed field of an object type, an input schema,
// an output schema or a fragment's parameter list.
//
//	score?: float
//	max_files: int = 20
type Field struct {
	Name     Ident
	Optional bool       // written with "?"
	Type     TypeExpr   // never nil after a successful parse
	Default  *Expr      // nil when absent
	Range    diag.Range // the whole field
}

// Span implements Node.
func (f *Field) Span() diag.Range { return f.Range }

// TypeExpr is a written type: *NamedType, *ListType, *ObjectType or
// *EnumType.
type TypeExpr interface {
	Node
	typeExpr()
}

// NamedType is a scalar (string, int, float, bool, any) or the name of a
// declared type.
//
//	string
//	Analysis
type NamedType struct {
	Name  string
	Range diag.Range
}

// ListType is a list of Elem.
//
//	[string]
type ListType struct {
	Elem  TypeExpr
	Range diag.Range
}

// ObjectType is an inline object type.
//
//	{ a: int, b?: string }
type ObjectType struct {
	Fields []*Field
	Range  diag.Range
}

// EnumType is a union of string literals.
//
//	"low" | "medium" | "high"
type EnumType struct {
	Values []EnumValue
	Range  diag.Range
}

// EnumValue is one literal of an EnumType.
type EnumValue struct {
	Value string // unquoted
	Range diag.Range
}

func (*NamedType) typeExpr()  {}
func (*ListType) typeExpr()   {}
func (*ObjectType) typeExpr() {}
func (*EnumType) typeExpr()   {}

// Span implements Node.
func (t *NamedType) Span() diag.Range { return t.Range }

// Span implements Node.
func (t *ListType) Span() diag.Range { return t.Range }

// Span implements Node.
func (t *ObjectType) Span() diag.Range { return t.Range }

// Span implements Node.
func (t *EnumType) Span() diag.Range { return t.Range }
