package stdlib

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
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
var fenced = regexp.MustCompile("(?s)```[A-Za-z0-9_+-]*[ \t]*\r?\n(.*?)```")

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
	blocks := fenced.FindAllStringSubmatch(text, -1)
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
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return schema.Canonical(v), true
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
