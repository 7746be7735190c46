package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// jsonProblem says what is wrong with a JSON document in the user's
// terms (where, and what was found instead), without the Go types that
// encoding/json names ("Go value of type map[string]interface {}").
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		where := "the document"
		if te.Field != "" {
			where = "field " + te.Field
		}
		want := "a value"
		switch te.Type.Kind().String() {
		case "map", "struct":
			want = "an object"
		case "slice", "array":
			want = "an array"
		case "string":
			want = "a string"
		case "bool":
			want = "true or false"
		case "int", "int64", "float64":
			want = "a number"
		}
		return fmt.Sprintf("%s must be %s, not %s (at byte %d)", where, want, jsonKind(te.Value), te.Offset)
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends early (an unclosed bracket, brace or string?)"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonKind names a JSON value kind as encoding/json reports it.
func jsonKind(v string) string {
	names := map[string]string{"array": "an array", "object": "an object", "string": "a string", "bool": "true or false", "number": "a number"}
	if n, ok := names[v]; ok {
		return n
	}
	return "a " + strings.TrimPrefix(v, "number ")
}
