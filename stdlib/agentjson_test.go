package stdlib

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/schema"
)

func TestExtractJSON(t *testing.T) {
	t.Parallel()
	obj := schema.ObjectOf(&schema.Field{Name: "a", Type: schema.AnyType})
	tests := []struct {
		name string
		text string
		want *schema.Type
		out  any
		err  string
	}{
		{"whole reply", ` {"a": 1} `, obj, map[string]any{"a": int64(1)}, ""},
		{"float", `{"a": 1.5}`, obj, map[string]any{"a": 1.5}, ""},
		{"json fence", "Here it is:\n```json\n{\"a\": \"x\"}\n```\nDone.", obj, map[string]any{"a": "x"}, ""},
		{"plain fence", "```\n{\"a\": 2}\n```", obj, map[string]any{"a": int64(2)}, ""},
		{"last valid fence wins", "```json\n{\"a\": 1}\n```\nrevised:\n```json\n{\"a\": 2}\n```\n```\nnot json\n```", obj, map[string]any{"a": int64(2)}, ""},
		{"last balanced object", `Use {x} as a placeholder. Draft: {"a": 1}. Final: {"a": {"b": [1, {"c": 2}]}} hope it helps`, obj,
			map[string]any{"a": map[string]any{"b": []any{int64(1), map[string]any{"c": int64(2)}}}}, ""},
		{"braces in strings", `Answer: {"a": "}{"} end`, obj, map[string]any{"a": "}{"}, ""},
		{"list type", `The files are ["a.go", "b.go"].`, schema.ListOf(schema.StringType), []any{"a.go", "b.go"}, ""},
		{"string type, prose", "  just words  ", schema.StringType, "just words", ""},
		{"string type, JSON string", `"quoted"`, schema.StringType, "quoted", ""},
		{"no JSON", "I could not do it.", obj, nil, `no JSON value found in the reply (it starts "I could not do it.")`},
		{"empty", "  ", obj, nil, "the reply is empty"},
		{"unbalanced", `{"a": 1`, obj, nil, "no JSON value found"},
	}
	for _, tt := range tests {
		got, err := ExtractJSON(tt.text, tt.want)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error = %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.out, got); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestJSONInstructionAndFeedback(t *testing.T) {
	t.Parallel()
	typ := schema.ObjectOf(
		&schema.Field{Name: "risk", Type: schema.EnumOf("low", "high")},
		&schema.Field{Name: "score", Type: schema.FloatType, Optional: true},
	)
	got := jsonInstruction(typ)
	for _, want := range []string{"JSON Schema", `"enum": [`, `"required": [`, `"risk"`, `"additionalProperties": false`} {
		if !strings.Contains(got, want) {
			t.Errorf("instruction lacks %q:\n%s", want, got)
		}
	}
	tests := []struct {
		prev error
		want string
	}{
		{nil, ""},
		{&runtime.StepError{Kind: runtime.ErrKindNetwork, Message: "refused"}, ""},
		{&runtime.StepError{Kind: runtime.ErrKindValidation, Message: `risk: "severe" is not one of "low" | "high"`},
			"\nYour previous reply was rejected: risk: \"severe\" is not one of \"low\" | \"high\"\nReply again with a corrected JSON value.\n"},
	}
	for _, tt := range tests {
		if got := feedback(tt.prev); got != tt.want {
			t.Errorf("feedback(%v) = %q, want %q", tt.prev, got, tt.want)
		}
	}
}
