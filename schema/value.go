package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is the one value model of smithc: how JSON-like values are
// decoded, brought to canonical form and formatted as text. Every other
// package calls these functions; none has a copy of them.
//
// Canonical values are the Go forms of JSON: nil, bool, int64, float64,
// string, []any and map[string]any. Integers are int64 whenever the
// number has no fraction and fits; other numbers are float64.

// DecodeJSON decodes one JSON value in canonical form: integers as int64,
// other numbers as float64. Text after the value (other than white space)
// is an error, as is a number out of range.
func DecodeJSON(data []byte) (any, error) {
	return DecodeJSONFrom(bytes.NewReader(data))
}

// DecodeJSONFrom is DecodeJSON of what r holds, decoded as it is read (a
// large file is not read whole before it is decoded). Every caller that
// reads a JSON value of a user, a step or the store decodes it here.
func DecodeJSONFrom(r io.Reader) (any, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &jsonError{msg: JSONProblem(err), err: err}
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("text after the JSON value, which ends at byte %d: want exactly one value", end)
	}
	return canonicalJSON(v)
}

// jsonError is a decoding error of encoding/json in JSONProblem's words;
// it unwraps to encoding/json's own.
type jsonError struct {
	msg string
	err error
}

func (e *jsonError) Error() string { return e.msg }
func (e *jsonError) Unwrap() error { return e.err }

// JSONProblem says what is wrong with a JSON document in its reader's
// terms (where, and what was found instead), without the Go types that
// encoding/json names ("Go value of type map[string]interface {}").
func JSONProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		where := "the document"
		if te.Field != "" {
			where = "field " + te.Field
		}
		want := "a value"
		switch te.Type.Kind() {
		case reflect.Map, reflect.Struct:
			want = "an object"
		case reflect.Slice, reflect.Array:
			want = "an array"
		case reflect.String:
			want = "a string"
		case reflect.Bool:
			want = "true or false"
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
			want = "a number"
		}
		return fmt.Sprintf("%s must be %s, not %s (at byte %d)", where, want, jsonKindName(te.Value), te.Offset)
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d: %s", se.Offset, se.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends early (an unclosed bracket, brace or string?)"
	case errors.Is(err, io.EOF):
		return "there is no JSON value (the text is empty)"
	}
	return strings.TrimPrefix(err.Error(), "json: ") // "unknown field \"x\"", "exceeded max depth"
}

// jsonKindName names a JSON value kind as encoding/json reports it in an
// UnmarshalTypeError ("array", "number 1.5").
func jsonKindName(v string) string {
	names := map[string]string{"array": "an array", "object": "an object", "string": "a string", "bool": "true or false", "number": "a number"}
	if n, ok := names[v]; ok {
		return n
	}
	if n, ok := strings.CutPrefix(v, "number "); ok {
		return "the number " + n
	}
	return v
}

// canonicalJSON converts the json.Number values of a decoded value in
// place.
func canonicalJSON(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		return number(x)
	case []any:
		for i := range x {
			e, err := canonicalJSON(x[i])
			if err != nil {
				return nil, err
			}
			x[i] = e
		}
	case map[string]any:
		for k := range x {
			e, err := canonicalJSON(x[k])
			if err != nil {
				return nil, err
			}
			x[k] = e
		}
	}
	return v, nil
}

// number reads a JSON number: int64 when it is an integer that fits,
// float64 otherwise.
func number(n json.Number) (any, error) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return nil, fmt.Errorf("number %s is out of range", n)
	}
	return f, nil
}

// Canonical returns v as a canonical JSON-like value. It accepts what
// expressions and decoders produce: Go integers and floats of every size,
// json.Number, typed slices and string-keyed maps ([]string, []int,
// map[string]string). Anything else is returned as it is. v is not
// modified; lists and maps are copied.
func Canonical(v any) any {
	switch x := v.(type) {
	case nil, string, bool, int64, float64:
		return v
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	case json.Number:
		if n, err := number(x); err == nil {
			return n
		}
		return v
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Canonical(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Canonical(e)
		}
		return out
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return []any{}
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = Canonical(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return v
		}
		out := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			out[iter.Key().String()] = Canonical(iter.Value().Interface())
		}
		return out
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u <= math.MaxInt64 {
			return int64(u)
		}
		return float64(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.Bool:
		return rv.Bool()
	case reflect.String:
		return rv.String()
	}
	return v
}

// Text formats a value as template text, the same way in every kind of
// template (run scripts, strings, prompts, headers, cache keys): a string
// as it is, null as nothing, a bool as true or false, a number as JSON
// writes it (3, 0.000001, 1e-7), a list or an object as compact JSON with
// sorted keys and <, > and & left as they are. A number prints the same
// alone as inside a list. NaN and infinities, which JSON cannot hold,
// print as NaN, +Inf and -Inf.
func Text(v any) string {
	c := Canonical(v)
	switch x := c.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	return string(appendJSON(nil, c))
}

// appendJSON writes a canonical value as compact JSON.
func appendJSON(b []byte, v any) []byte {
	b, _ = encodeJSON(b, v, false)
	return b
}

// EncodeJSON encodes v as compact JSON, as encoding/json's Marshal does
// (object keys sorted; a value of a type outside the canonical ones,
// a struct or a json.RawMessage, encoded by Marshal itself) except that
// <, > and & are not escaped, and into one buffer of about the encoded
// size that nothing keeps once the caller drops it. Marshal grows its
// buffer by doubling and keeps it in a pool that later calls draw from,
// so one 10 MB value (a run's input, a step's output) kept 16 MB of heap
// alive for as long as anything kept encoding (golang/go#27735). NaN and
// infinities, which JSON cannot hold, are an error, as they are for
// Marshal. Every stored value the runtime encodes is encoded here.
func EncodeJSON(v any) ([]byte, error) {
	return encodeJSON(make([]byte, 0, sizeJSON(v)), v, true)
}

// RoundTrip returns what DecodeJSON(EncodeJSON(v)) returns: a float that
// encodes as an integer (2.0 as 2) becomes an int64, lists and maps are
// copied. When v is canonical and its strings are valid UTF-8 it is
// computed without encoding and decoding; anything else is encoded and
// decoded. A run reads RoundTrip of its input in its first session, as a
// resume reads the decoding of what was stored, without decoding a large
// input it has just encoded.
func RoundTrip(v any) (any, error) {
	if out, ok := roundTrip(v); ok {
		return out, nil
	}
	b, err := EncodeJSON(v)
	if err != nil {
		return nil, err
	}
	return DecodeJSON(b)
}

// roundTrip is RoundTrip's walk; false when v holds something it does
// not compute (a non-canonical value, a string that is not valid UTF-8,
// which the encoding changes, NaN or an infinity, which it refuses).
func roundTrip(v any) (any, bool) {
	switch x := v.(type) {
	case nil, bool, int64:
		return v, true
	case string:
		return x, utf8.ValidString(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, false
		}
		// As DecodeJSON reads the encoding: an integer when its text is
		// one that fits; otherwise the float, which the shortest text
		// that EncodeJSON writes gives back exactly.
		var buf [32]byte
		if i, err := strconv.ParseInt(string(appendFloat(buf[:0], x)), 10, 64); err == nil {
			return i, true
		}
		return x, true
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, ok := roundTrip(e)
			if !ok {
				return nil, false
			}
			out[i] = r
		}
		return out, true
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if !utf8.ValidString(k) {
				return nil, false
			}
			r, ok := roundTrip(e)
			if !ok {
				return nil, false
			}
			out[k] = r
		}
		return out, true
	}
	return nil, false
}

// sizeJSON is about the length of v's compact JSON: exact for integers
// and for strings with nothing to escape, a guess for other numbers (a
// capacity hint for EncodeJSON: a wrong guess costs a reallocation, not
// a wrong result).
func sizeJSON(v any) int {
	switch x := v.(type) {
	case nil:
		return 4
	case bool:
		return 5
	case int64:
		n := 1
		if x < 0 {
			n++
		}
		for x <= -10 || x >= 10 {
			x /= 10
			n++
		}
		return n
	case string:
		return len(x) + 2
	case []any:
		n := 2
		for _, e := range x {
			n += sizeJSON(e) + 1
		}
		return n
	case map[string]any:
		n := 2
		for k, e := range x {
			n += len(k) + 4 + sizeJSON(e)
		}
		return n
	}
	return 20
}

// encodeJSON appends v's compact JSON to b. strict is EncodeJSON's: a
// value JSON cannot hold is an error; otherwise (Text) NaN and the
// infinities print as NaN, +Inf and -Inf, and a value encoding/json
// refuses prints as Go formats it.
func encodeJSON(b []byte, v any, strict bool) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case float64:
		if strict && (math.IsNaN(x) || math.IsInf(x, 0)) {
			return b, fmt.Errorf("%s is not a number JSON can hold", appendFloat(nil, x))
		}
		return appendFloat(b, x), nil
	case string:
		return appendString(b, x), nil
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = encodeJSON(b, e, strict); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			var err error
			if b, err = encodeJSON(b, x[k], strict); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	}
	// Not a canonical value (an int, a struct, a json.RawMessage): what
	// encoding/json makes of it, or (Text) its Go formatting.
	j, err := json.Marshal(v)
	if err == nil {
		return append(b, j...), nil
	}
	if strict {
		var ue *json.UnsupportedValueError
		var te *json.UnsupportedTypeError
		switch {
		case errors.As(err, &ue):
			return b, fmt.Errorf("%s is not a value JSON can hold", ue.Str)
		case errors.As(err, &te):
			return b, fmt.Errorf("a %s is not a value JSON can hold", te.Type)
		}
		return b, err
	}
	return fmt.Append(b, v), nil
}

// appendFloat writes f as encoding/json does (ES6 number formatting):
// plain decimals from 1e-6 to 1e21, exponents outside, "e-7" not "e-07".
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendString writes s as a JSON string without HTML escaping: quotes,
// backslashes and control characters are escaped, invalid UTF-8 becomes
// U+FFFD, U+2028 and U+2029 are escaped as encoding/json does.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
