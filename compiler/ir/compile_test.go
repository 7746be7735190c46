package ir_test

import (
	"testing"

	"github.com/expr-lang/expr"
	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/compiler/ir"
)

// TestMapFunctionsAreOrdered: keys, values and toPairs give the same
// order every time (expr's own follow Go's random map order).
func TestMapFunctionsAreOrdered(t *testing.T) {
	env := map[string]any{"m": map[string]any{"d": 4, "a": 1, "c": 3, "b": 2}}
	cases := map[string]any{
		"keys(m)":             []any{"a", "b", "c", "d"},
		"values(m)":           []any{1, 2, 3, 4},
		"toPairs(m)":          []any{[]any{"a", 1}, []any{"b", 2}, []any{"c", 3}, []any{"d", 4}},
		"join(keys(m), \"\")": "abcd",
	}
	for src, want := range cases {
		x := &ir.Expr{Src: src}
		prog, err := x.Compile()
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		for i := 0; i < 20; i++ {
			got, err := expr.Run(prog, env)
			if err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s (-want +got):\n%s", src, diff)
			}
		}
	}
}

// TestNamesShadowBuiltins: a step called like a builtin means the step.
func TestNamesShadowBuiltins(t *testing.T) {
	x := &ir.Expr{Src: "keys + len(map)", Names: map[string]string{"keys": "keys", "map": "map"}}
	prog, err := x.Compile()
	if err != nil {
		t.Fatal(err)
	}
	got, err := expr.Run(prog, map[string]any{"keys": 1, "map": []any{1, 2}})
	if err != nil || got != 3 {
		t.Errorf("got %v, %v; want 3", got, err)
	}
}
