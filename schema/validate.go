package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ValidationError says where a value does not fit its type. Path is the
// field path, such as "analyze.risk" or "files[2]".
type ValidationError struct {
	Path string
	Msg  string
}

func (e *ValidationError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Normalize checks v against t and returns it in canonical form (see
// Canonical): numbers become int64 or float64 as the type asks, defaults
// of absent object fields are filled in, and fields the type does not
// declare are dropped. path names v in messages (for example "analyze").
// On error the returned value is nil.
func Normalize(t *Type, v any, path string) (any, error) {
	return normalize(t, Canonical(v), path)
}

func fail(path, format string, args ...any) error {
	return &ValidationError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

func normalize(t *Type, v any, path string) (any, error) {
	if n, ok := v.(json.Number); ok {
		nv, err := number(n)
		if err != nil {
			return nil, fail(path, "%v", err)
		}
		v = nv
	}
	switch t.Kind {
	case Any:
		return storable(v, path)
	case Null:
		if v != nil {
			return nil, fail(path, "expected null, got %s", Describe(v))
		}
		return nil, nil
	case String:
		if s, ok := v.(string); ok {
			return validUTF8(s), nil
		}
	case Enum:
		if s, ok := v.(string); ok {
			if t.HasEnum(s) {
				return s, nil
			}
			return nil, fail(path, "%s is not one of %s", strconv.Quote(s), t.Structure())
		}
	case Bool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case Int:
		switch n := v.(type) {
		case int64:
			return n, nil
		case float64:
			if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
				return int64(n), nil
			}
			return nil, fail(path, "expected int, got %s", Describe(n))
		}
	case Float:
		switch n := v.(type) {
		case float64:
			return storable(n, path)
		case int64:
			return float64(n), nil
		}
	case List:
		if l, ok := v.([]any); ok {
			out := make([]any, len(l))
			for i, e := range l {
				ne, err := normalize(t.Elem, e, fmt.Sprintf("%s[%d]", path, i))
				if err != nil {
					return nil, err
				}
				out[i] = ne
			}
			return out, nil
		}
	case Object:
		if m, ok := v.(map[string]any); ok {
			out := make(map[string]any, len(t.Fields))
			for _, f := range t.Fields {
				fp := joinPath(path, f.Name)
				fv, present := m[f.Name]
				if !present || fv == nil {
					switch {
					case present && f.Type.Kind == Any:
						out[f.Name] = nil // any opts out of checking, null included
					case f.HasDefault:
						out[f.Name] = f.Default
					case f.Optional:
						if present {
							out[f.Name] = nil
						}
					case present:
						return nil, fail(fp, "is null, but the field is required (declare it %s?: %s to allow that)", f.Name, f.Type)
					default:
						return nil, fail(fp, "missing required field of type %s", f.Type)
					}
					continue
				}
				nv, err := normalize(f.Type, fv, fp)
				if err != nil {
					return nil, err
				}
				out[f.Name] = nv
			}
			return out, nil
		}
	}
	if v == nil {
		return nil, fail(path, "expected %s, got null", t)
	}
	return nil, fail(path, "expected %s, got %s", t, Describe(v))
}

// storable makes a canonical value one that JSON holds as it is, so that
// the value stored and read back is the value validated. It works in
// place: normalize's value is its own copy (Canonical copies lists and
// maps). A string's bytes that are not UTF-8 become U+FFFD, one for each,
// as encoding/json writes them; NaN and the infinities, which JSON cannot
// hold (they come from expressions such as 0.0 / 0.0), are refused.
func storable(v any, path string) (any, error) {
	nv, at, msg := storableAt(v)
	if msg != "" {
		if path == "" {
			at = strings.TrimPrefix(at, ".")
		}
		return nil, &ValidationError{Path: path + at, Msg: msg}
	}
	return nv, nil
}

// storableAt is storable's walk. A refused value's path below v (".a[1]")
// is built only on the way back up, so that a large value costs no
// string per element.
func storableAt(v any) (out any, at, msg string) {
	switch x := v.(type) {
	case string:
		return validUTF8(x), "", ""
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, "", Text(x) + " is not a number JSON can hold (a division by zero?)"
		}
	case []any:
		for i, e := range x {
			ne, at, msg := storableAt(e)
			if msg != "" {
				return nil, "[" + strconv.Itoa(i) + "]" + at, msg
			}
			x[i] = ne
		}
	case map[string]any:
		var renamed []string
		for k, e := range x {
			ne, at, msg := storableAt(e)
			if msg != "" {
				return nil, "." + k + at, msg
			}
			x[k] = ne
			if !utf8.ValidString(k) {
				renamed = append(renamed, k)
			}
		}
		for _, k := range renamed {
			e := x[k]
			delete(x, k)
			x[validUTF8(k)] = e
		}
	}
	return v, "", ""
}

// validUTF8 is s with each byte that is not part of a UTF-8 character
// replaced by U+FFFD (s itself when it is valid, the common case).
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// Describe names a value's JSON kind and shows a short form of it, for
// messages: `string "severe"`, `int 3`, `object`.
func Describe(v any) string {
	switch x := Canonical(v).(type) {
	case nil:
		return "null"
	case string:
		// cut before it is quoted (a long string is not copied whole),
		// at the start of a character
		cut := len(x) > 38
		if cut {
			n := 36
			for n > 0 && !utf8.RuneStart(x[n]) {
				n--
			}
			x = x[:n]
		}
		q := strconv.Quote(x)
		if cut {
			q = q[:len(q)-1] + `..."`
		}
		return "string " + q
	case bool:
		return fmt.Sprintf("bool %v", x)
	case int64:
		return "int " + Text(x)
	case float64:
		return "float " + Text(x)
	case []any:
		return "list"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// Coerce converts a command-line string to a value of type t: "3" is an
// int for an int field, "true" a bool, and a list or object is read as
// JSON. A string field takes the text as it is.
func Coerce(t *Type, s string, path string) (any, error) {
	switch t.Kind {
	case String, Enum:
		return Normalize(t, s, path)
	case Int:
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fail(path, "%q is not an int", s)
		}
		return i, nil
	case Float:
		// as an int is read, without digit separators; and JSON holds no
		// NaN or infinity
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || strings.Contains(s, "_") || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fail(path, "%q is not a float", s)
		}
		return f, nil
	case Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fail(path, "%q is not a bool (use true or false)", s)
		}
		return b, nil
	}
	v, err := DecodeJSON([]byte(s))
	if err != nil {
		if t.Kind == Any {
			return s, nil
		}
		return nil, fail(path, "%q is not valid JSON for %s: %v", s, t, err)
	}
	return Normalize(t, v, path)
}

// JSONSchema renders t as a JSON Schema document (draft 2020-12 subset),
// for asking agents for structured output.
func JSONSchema(t *Type) map[string]any {
	switch t.Kind {
	case String:
		return map[string]any{"type": "string"}
	case Int:
		return map[string]any{"type": "integer"}
	case Float:
		return map[string]any{"type": "number"}
	case Bool:
		return map[string]any{"type": "boolean"}
	case Null:
		return map[string]any{"type": "null"}
	case Enum:
		vals := make([]any, len(t.Enum))
		for i, v := range t.Enum {
			vals[i] = v
		}
		return map[string]any{"type": "string", "enum": vals}
	case List:
		return map[string]any{"type": "array", "items": JSONSchema(t.Elem)}
	case Object:
		props := map[string]any{}
		var req []string
		for _, f := range t.Fields {
			props[f.Name] = JSONSchema(f.Type)
			if !f.Optional && !f.HasDefault {
				req = append(req, f.Name)
			}
		}
		sort.Strings(req)
		out := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(req) > 0 {
			out["required"] = req
		}
		return out
	}
	return map[string]any{}
}
