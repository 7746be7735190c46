package stdlib

import "testing"

func TestShorten(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc..."},
		{"aé", 2, "a..."}, // never splits a rune
		{"日本語", 4, "日..."},
	}
	for _, tt := range tests {
		if got := shorten(tt.in, tt.n); got != tt.want {
			t.Errorf("shorten(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestScalarString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   any
		want string
		err  bool
	}{
		{"s", "s", false},
		{int64(-3), "-3", false},
		{3, "3", false},
		{1.5, "1.5", false},
		{1e21, "1e+21", false},
		{true, "true", false},
		{nil, "", true},
		{[]any{1}, "", true},
		{map[string]any{}, "", true},
	}
	for _, tt := range tests {
		got, err := scalarString(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("scalarString(%#v) = %q, %v", tt.in, got, err)
		}
	}
}
