package runtime

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestNormalizeTypedValues: expr builtins return typed Go values (0..n is
// []int, split gives []string); the runtime turns them into JSON-like
// values so that for, validation and persistence see plain lists.
func TestNormalizeTypedValues(t *testing.T) {
	cases := []struct {
		in   any
		want any
	}{
		{[]int{1, 2}, []any{int64(1), int64(2)}},
		{[]string{"a"}, []any{"a"}},
		{[]float64{1.5}, []any{1.5}},
		{map[string]string{"k": "v"}, map[string]any{"k": "v"}},
		{[]any{[]int{1}}, []any{[]any{int64(1)}}},
		{[]int(nil), []any{}},
		{int(3), int64(3)},
		{uint8(7), int64(7)},
		{"s", "s"},
		{nil, nil},
	}
	for _, c := range cases {
		if diff := cmp.Diff(c.want, normalizeValue(c.in)); diff != "" {
			t.Errorf("normalizeValue(%#v) (-want +got):\n%s", c.in, diff)
		}
	}
}
