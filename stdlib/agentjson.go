package stdlib

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/schema"
)

// jsonInstruction is appended to the prompt of an agent step that declares
// its output type.
func jsonInstruction(t *schema.Type) string {
	doc, err := json.MarshalIndent(schema.JSONSchema(t), "", "  ")
	if err != nil {
		// JSONSchema builds maps of strings, lists and maps only.
		doc = []byte(t.Structure())
	}
	return "\n\nReply with a single JSON value that matches this JSON Schema, and nothing else " +
		"(no explanations; a ```json fenced block is accepted):\n" + string(doc) + "\n"
}

// feedback returns the part of the prompt that reports why the previous
// attempt's reply was rejected, or "" when it was not a validation failure.
func feedback(prev error) string {
	var se *runtime.StepError
	if prev == nil || !errors.As(prev, &se) || se.Kind != runtime.ErrKindValidation {
		return ""
	}
	return "\nYour previous reply was rejected: " + se.Message + "\nReply again with a corrected JSON value.\n"
}

// fenced matches ``` fenced blocks, with an optional info string.
var fenced = lazyRegexp("(?s)```[A-Za-z0-9_+-]*[ \t]*\r?\n(.*?)```")

// maxJSONScans bounds the candidate start positions ExtractJSON tries.
const maxJSONScans = 10000

// ExtractJSON finds the JSON value in an agent's reply: the whole text if
// it is one JSON value; else the last ``` fenced block (```json or plain)
// that is one; else the last complete top-level {...} object in the text
// ([...] array when want is a list). For a string type, a reply that is
// not JSON is taken as the string itself. Numbers are int64 or float64.
func ExtractJSON(text string, want *schema.Type) (any, error) {
	trimmed := strings.TrimSpace(text)
	if v, ok := decodeOne(trimmed); ok {
		return v, nil
	}
	blocks := fenced().FindAllStringSubmatch(text, -1)
	for i := len(blocks) - 1; i >= 0; i-- {
		if v, ok := decodeOne(strings.TrimSpace(blocks[i][1])); ok {
			return v, nil
		}
	}
	if want != nil && want.Kind == schema.String {
		return trimmed, nil
	}
	opener := byte('{')
	if want != nil && want.Kind == schema.List {
		opener = '['
	}
	if want == nil || want.Kind == schema.Object || want.Kind == schema.List || want.Kind == schema.Any {
		if v, ok := lastBalanced(text, opener); ok {
			return v, nil
		}
	}
	if trimmed == "" {
		return nil, errors.New("the reply is empty")
	}
	return nil, fmt.Errorf("no JSON value found in the reply (it starts %q)", firstLine(trimmed))
}

// decodeOne decodes s when it is exactly one JSON value.
func decodeOne(s string) (any, bool) {
	if s == "" {
		return nil, false
	}
	v, err := schema.DecodeJSONFrom(strings.NewReader(s))
	if err != nil {
		return nil, false
	}
	return v, true
}

// lastBalanced returns the last top-level JSON value that starts with
// opener and decodes, scanning left to right and skipping over each value
// found so that nested objects are not mistaken for top-level ones.
func lastBalanced(text string, opener byte) (any, bool) {
	var last any
	found := false
	scans := 0
	for i := 0; i < len(text) && scans < maxJSONScans; i++ {
		if text[i] != opener {
			continue
		}
		scans++
		dec := json.NewDecoder(strings.NewReader(text[i:]))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			continue
		}
		last, found = v, true
		i += int(dec.InputOffset()) - 1
	}
	if !found {
		return nil, false
	}
	return schema.Canonical(last), true
}

// strictSchema is the JSON Schema of t in the strict form the CLIs' and
// OpenAI's structured-output options take: every object lists all its
// properties as required and allows no others, an optional field may be
// null instead, and a root that is not an object is wrapped as
// {"value": T}. ok is false when t has a part of type any, which strict
// schemas cannot say.
func strictSchema(t *schema.Type) (doc []byte, ok bool) {
	s, ok := strictPart(t)
	if !ok {
		return nil, false
	}
	if t.Kind != schema.Object {
		s = map[string]any{"type": "object", "properties": map[string]any{"value": s},
			"required": []string{"value"}, "additionalProperties": false}
	}
	b, err := json.Marshal(s)
	return b, err == nil
}

func strictPart(t *schema.Type) (map[string]any, bool) {
	switch t.Kind {
	case schema.Any:
		return nil, false
	case schema.List:
		items, ok := strictPart(t.Elem)
		if !ok {
			return nil, false
		}
		return map[string]any{"type": "array", "items": items}, true
	case schema.Object:
		props := map[string]any{}
		req := make([]string, 0, len(t.Fields))
		for _, f := range t.Fields {
			p, ok := strictPart(f.Type)
			if !ok {
				return nil, false
			}
			if f.Optional || f.HasDefault {
				p = map[string]any{"anyOf": []any{p, map[string]any{"type": "null"}}}
			}
			props[f.Name] = p
			req = append(req, f.Name)
		}
		sort.Strings(req)
		return map[string]any{"type": "object", "properties": props, "required": req, "additionalProperties": false}, true
	}
	return schema.JSONSchema(t), true
}

// dropOptionalNulls removes the null values a strict schema allowed for
// optional fields, so that defaults apply; and unwraps {"value": V} for a
// type that is not an object.
func dropOptionalNulls(t *schema.Type, v any) any {
	if t == nil {
		return v
	}
	switch t.Kind {
	case schema.Object:
		obj, ok := v.(map[string]any)
		if !ok {
			return v
		}
		for _, f := range t.Fields {
			x, present := obj[f.Name]
			switch {
			case !present:
			case x == nil && (f.Optional || f.HasDefault) && f.Type.Kind != schema.Null && f.Type.Kind != schema.Any:
				delete(obj, f.Name)
			default:
				obj[f.Name] = dropOptionalNulls(f.Type, x)
			}
		}
		return obj
	case schema.List:
		l, ok := v.([]any)
		if !ok {
			return v
		}
		for i := range l {
			l[i] = dropOptionalNulls(t.Elem, l[i])
		}
		return l
	}
	return v
}

// unwrapValue undoes strictSchema's {"value": V} wrapping of a type that
// is not an object.
func unwrapValue(t *schema.Type, v any) any {
	if t == nil || t.Kind == schema.Object || t.Kind == schema.Any {
		return v
	}
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		if x, ok := m["value"]; ok {
			return x
		}
	}
	return v
}
