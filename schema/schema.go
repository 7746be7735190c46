// Package schema describes the shapes of values that cross a boundary in
// smithc (a run's input, a step's output, an approval's or event's data)
// and validates JSON-like values against them.
//
// It is a leaf shared by the checker (which types expressions with it), the
// IR, the runtime (which validates with it) and the standard library (which
// renders it into agent prompts). Values are the Go forms of JSON: nil,
// bool, int64 (for int), float64, string, []any and map[string]any.
//
// It is also the one place of the value model: decoding (DecodeJSON),
// canonical form (Canonical), text formatting for templates (Text),
// descriptions for messages (Describe), and the secrets of a run
// (Secrets: redaction of text, and finding secrets in values so that
// values holding one are refused, never rewritten).
package schema

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is the kind of a Type.
type Kind uint8

// Kinds.
const (
	Any Kind = iota
	String
	Int
	Float
	Bool
	List
	Object
	Enum
	Null // the type of the literal nil; never written by users
)

var kindNames = [...]string{"any", "string", "int", "float", "bool", "list", "object", "enum", "null"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Type is a value type.
type Type struct {
	Kind   Kind     `json:"kind"`
	Name   string   `json:"name,omitempty"`   // the declared name (type Analysis {...}), if any
	Elem   *Type    `json:"elem,omitempty"`   // List
	Fields []*Field `json:"fields,omitempty"` // Object, in declaration order
	Enum   []string `json:"enum,omitempty"`   // Enum values, in declaration order
}

// Field is one field of an object type.
type Field struct {
	Name       string `json:"name,omitempty"`
	Type       *Type  `json:"type,omitempty"`
	Optional   bool   `json:"optional,omitempty"` // absent or null allowed
	HasDefault bool   `json:"has_default,omitempty"`
	Default    any    `json:"default"` // JSON-like value, when HasDefault
}

// Scalar types, shared and never to be modified.
var (
	AnyType    = &Type{Kind: Any}
	StringType = &Type{Kind: String}
	IntType    = &Type{Kind: Int}
	FloatType  = &Type{Kind: Float}
	BoolType   = &Type{Kind: Bool}
	NullType   = &Type{Kind: Null}
)

// ListOf returns the type [elem].
func ListOf(elem *Type) *Type { return &Type{Kind: List, Elem: elem} }

// ObjectOf returns an inline object type with the given fields.
func ObjectOf(fields ...*Field) *Type { return &Type{Kind: Object, Fields: fields} }

// EnumOf returns the string enum of values.
func EnumOf(values ...string) *Type { return &Type{Kind: Enum, Enum: values} }

// Field returns the field called name, or nil.
func (t *Type) Field(name string) *Field {
	if t == nil {
		return nil
	}
	for _, f := range t.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// HasEnum reports whether v is one of an enum's values.
func (t *Type) HasEnum(v string) bool {
	for _, e := range t.Enum {
		if e == v {
			return true
		}
	}
	return false
}

// String renders the type as it is written in .smw: a declared type by
// its name, otherwise structurally.
func (t *Type) String() string {
	if t == nil {
		return "<nil>"
	}
	if t.Name != "" {
		return t.Name
	}
	return t.Structure()
}

// Structure renders the type structurally even when it has a name.
func (t *Type) Structure() string {
	var b strings.Builder
	t.write(&b, true)
	return b.String()
}

func (t *Type) write(b *strings.Builder, top bool) {
	if !top && t.Name != "" {
		b.WriteString(t.Name)
		return
	}
	switch t.Kind {
	case List:
		b.WriteByte('[')
		t.Elem.write(b, false)
		b.WriteByte(']')
	case Object:
		if len(t.Fields) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{ ")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.Name)
			if f.Optional {
				b.WriteByte('?')
			}
			b.WriteString(": ")
			f.Type.write(b, false)
		}
		b.WriteString(" }")
	case Enum:
		for i, v := range t.Enum {
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(strconv.Quote(v))
		}
	default:
		b.WriteString(t.Kind.String())
	}
}

// AssignableTo reports whether a value of type t may be used where u is
// expected: identical structure, int to float, enum to string, anything
// to or from any, an enum to a wider enum, null to nothing (callers handle
// optionality), and objects field by field (t may have extra fields; every
// required field of u must be present in t and required there).
func (t *Type) AssignableTo(u *Type) bool {
	if t == nil || u == nil {
		return false
	}
	if t == u || t.Kind == Any || u.Kind == Any {
		return true
	}
	switch u.Kind {
	case Float:
		return t.Kind == Float || t.Kind == Int
	case String:
		return t.Kind == String || t.Kind == Enum
	case Enum:
		if t.Kind != Enum {
			return false
		}
		for _, v := range t.Enum {
			if !u.HasEnum(v) {
				return false
			}
		}
		return true
	case List:
		return t.Kind == List && t.Elem.AssignableTo(u.Elem)
	case Object:
		if t.Kind != Object {
			return false
		}
		for _, uf := range u.Fields {
			tf := t.Field(uf.Name)
			if tf == nil {
				if uf.Optional || uf.HasDefault {
					continue
				}
				return false
			}
			if tf.Optional && !uf.Optional {
				return false
			}
			if !tf.Type.AssignableTo(uf.Type) {
				return false
			}
		}
		return true
	}
	return t.Kind == u.Kind
}

// MarshalText renders the kind by name ("object").
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind by name.
func (k *Kind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if n == string(b) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("schema: unknown kind %q", b)
}
