package grammar

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDeclHeaderAt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line string
		want bool
	}{
		{`import "a.smw"`, true},
		{`  import "a.smw"`, true},
		{"type T {", true},
		{"\ttype T{", true},
		{"agent a {", true},
		{"fragment f(a: int) {", true},
		{"fragment f (", true},
		{"workflow w {", true},
		{"workflow w", false},
		{"workflow w (", false},
		{"fragment f {", false},
		{"type: string", false},
		{"type = 1", false},
		{"type T", false},
		{"import a", false},
		{"types T {", false},
		{"workflow {", false},
		{"step a {", false},
		{"// workflow w {", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := DeclHeaderAt(tt.line, 0); got != tt.want {
			t.Errorf("DeclHeaderAt(%q) = %v, want %v", tt.line, got, tt.want)
		}
	}
}

func TestResumeAfter(t *testing.T) {
	t.Parallel()
	src := "workflow a {\n  x = \"oops\n  workflow = 1\n}\nworkflow b {\n}\n"
	if got, want := ResumeAfter(src, 18), len("workflow a {\n  x = \"oops\n  workflow = 1\n}\n"); got != want {
		t.Errorf("ResumeAfter = %d, want %d", got, want)
	}
	// Not on the line of the error itself.
	if got := ResumeAfter("workflow a { x = \"\nworkflow b {", 0); got != 19 {
		t.Errorf("ResumeAfter = %d, want 19", got)
	}
	if got := ResumeAfter("workflow b {\n", 0); got != -1 {
		t.Errorf("ResumeAfter = %d, want -1", got)
	}
	// Not at an indented header: likely text in a string.
	if got := ResumeAfter("x = \"\"\"\n  workflow b {\n\"\"\"\ntype T {", 0); got != 27 {
		t.Errorf("ResumeAfter = %d, want 27", got)
	}
	if got := ResumeAfter("a", 5); got != -1 {
		t.Errorf("ResumeAfter past the end = %d, want -1", got)
	}
}

func TestTokenizeAt(t *testing.T) {
	t.Parallel()
	src := "workflow a { x = \"é\n\nworkflow b {\n  step s { value = 1 }\n}\n"
	start := ResumeAfter(src, 17)
	toks, err := TokenizeAt("t.smw", src, start)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Ident:workflow", "Ident:b", "Punct:{", "Keyword:step", "Ident:s", "Punct:{", "Ident:value", "Punct:=", "Expr:1", "Punct:}", "Punct:}"}
	if diff := cmp.Diff(want, kinds(toks.List)); diff != "" {
		t.Errorf("tokens (-want +got):\n%s", diff)
	}
	first := toks.List[0].Pos
	if first.Offset != start || first.Line != 3 || first.Column != 1 {
		t.Errorf("first token at %+v, want offset %d, 3:1", first, start)
	}
	v := toks.List[8]
	if v.Pos.Line != 4 || v.Pos.Column != 20 || toks.End(8).Column != 21 {
		t.Errorf("value at %+v-%+v, want 4:20-4:21", v.Pos, toks.End(8))
	}
}

func TestErrorResumable(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]bool{
		"a = \"x\n":      true,
		"a = \"\"\"\n":   true,
		"/* x":           false,
		"a = (1 /* x":    false,
		"a = [1,\n":      true,
		"a = (1\n]":      true,
		"a = \"${ /* \"": true, // reported as the interpolation's error
	} {
		_, err := Tokenize("t.smw", src)
		if err == nil {
			t.Errorf("%q: no error", src)
			continue
		}
		if got := err.Resumable(); got != want {
			t.Errorf("%q: Resumable() = %v, want %v (%s)", src, got, want, err.Msg)
		}
	}
}
