package grammar

import (
	"fmt"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/google/go-cmp/cmp"
)

// kinds renders tokens as "Type:value" for comparison.
func kinds(toks []lexer.Token) []string {
	names := map[lexer.TokenType]string{}
	for name, tt := range (Definition{}).Symbols() {
		names[tt] = name
	}
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		if t.Type == lexer.EOF {
			continue
		}
		out = append(out, names[t.Type]+":"+t.Value)
	}
	return out
}

func TestTokenize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "value ends at newline, comment and comma",
			src:  "a = x + 1 // c\nb = [1,\n 2], c = 'q'",
			want: []string{"Ident:a", "Punct:=", "Expr:x + 1", "Ident:b", "Punct:=", "Expr:[1,\n 2]", "Ident:c", "Punct:=", "Expr:'q'"},
		},
		{
			name: "value ends at an unmatched closing brace",
			src:  `retry { attempts = 3, delay = "1s" }`,
			want: []string{"Ident:retry", "Punct:{", "Ident:attempts", "Punct:=", "Expr:3", "Ident:delay", "Punct:=", `Expr:"1s"`, "Punct:}"},
		},
		{
			name: "header ends at a brace at depth 0",
			src:  "match s {\n when s == {a: 1}.a || (x) {",
			want: []string{"Keyword:match", "Ident:s", "Punct:{", "Keyword:when", "Expr:s ==", "Punct:{", "Ident:a", "Punct::", "Number:1", "Punct:}", "Punct:.", "Ident:a", "Punct:|", "Punct:|", "Punct:(", "Ident:x", "Punct:)", "Punct:{"},
		},
		{
			name: "for and use",
			src:  "for x in f(a, {b: 1}) {\n use frag(1, \"two\",\n  [3]) as p\n",
			want: []string{"Keyword:for", "Ident:x", "Ident:in", "Expr:f(a, {b: 1})", "Punct:{", "Keyword:use", "Ident:frag", "Punct:(", "Expr:1", `Expr:"two"`, "Expr:[3]", "Punct:)", "Ident:as", "Ident:p"},
		},
		{
			name: "keywords only at an item start without = : ?",
			src:  "step when {\n branch = 1\n when: bool\n for?: int\n}\nbranch x {",
			want: []string{"Keyword:step", "Ident:when", "Punct:{", "Ident:branch", "Punct:=", "Expr:1", "Ident:when", "Punct::", "Ident:bool", "Ident:for", "Punct:?", "Punct::", "Ident:int", "Punct:}", "Keyword:branch", "Expr:x", "Punct:{"},
		},
		{
			name: "string with nested quotes in an interpolation is one token",
			src:  `import "a ${ x ?? "}" } b"`,
			want: []string{"Ident:import", `String:"a ${ x ?? "}" } b"`},
		},
		{
			name: "triple-quoted string spans lines",
			src:  "p = \"\"\"\n  a \"quoted\"\n  \"\"\"\nq = 1",
			want: []string{"Ident:p", "Punct:=", "Expr:\"\"\"\n  a \"quoted\"\n  \"\"\"", "Ident:q", "Punct:=", "Expr:1"},
		},
		{
			name: "comments and commas make no tokens",
			src:  "/* a */ x, // b\n,y",
			want: []string{"Ident:x", "Ident:y"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			toks, err := Tokenize("t.smw", tt.src)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if diff := cmp.Diff(tt.want, kinds(toks.List)); diff != "" {
				t.Errorf("tokens (-want +got):\n%s", diff)
			}
			for i, tok := range toks.List {
				if end := toks.End(i); tt.src[tok.Pos.Offset:end.Offset] != tok.Value {
					t.Errorf("token %d %q ends at %d", i, tok.Value, end.Offset)
				}
			}
		})
	}
}

func TestTokenizeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want string // line:col-line:col message
	}{
		{"a = \"abc\n", `1:5-1:6 unterminated string: missing closing " on this line`},
		{"a = \"x ${y\"\n", `1:8-1:10 unterminated interpolation: "${" has no matching "}"`},
		{"a = \"k-${f(\\\"x\\\")}\"\n", `1:12-1:14 a quote inside "${...}" is written as it is, not escaped: ${f("x")}, not ${f(\"x\")}`},
		{"a = \"\"\"\n  ${f(\\\"x\\\")}\n  \"\"\"\n", `2:7-2:9 a quote inside "${...}" is written as it is, not escaped: ${f("x")}, not ${f(\"x\")}`},
		{"a = \"\"\"\nabc", `1:5-1:8 unterminated string: """ has no closing """`},
		{"x /* abc", `1:3-1:5 unterminated comment: "/*" has no closing "*/"`},
		{"a = (1\n]\n", `2:1-2:2 unexpected "]", expected ")" to close "(" opened at 1:5`},
		{"a = [1,\n", `1:5-1:6 unclosed "[": expected "]" before the end of the file`},
		{"a = [1,\n  2,\nworkflow w {\n", `1:5-1:6 unclosed "[": expected "]" before the declaration at 3:1`},
		{"a = f(\n  type T {\n", `1:6-1:7 unclosed "(": expected ")" before the declaration at 2:3`},
		{"use f(1,\n\nworkflow w {\n", `1:6-1:7 unclosed "(": expected ")" before the declaration at 3:1`},
		{"use f(1,\n  2 +\nworkflow w {\n", `1:6-1:7 unclosed "(": expected ")" before the declaration at 3:1`},
		{"use f(\nworkflow w {\n", `1:6-1:7 unclosed "(": expected ")" before the declaration at 2:1`},
		{"a = 'x\n", `1:5-1:6 unterminated string: missing closing ' on this line`},
		{"a = `x", "1:5-1:6 unterminated raw string: missing closing `"},
	}
	for _, tt := range tests {
		toks, err := Tokenize("t.smw", tt.src)
		if err == nil {
			t.Errorf("%q: no error", tt.src)
			continue
		}
		if len(toks.Repaired) > 0 {
			t.Errorf("%q: repaired %v", tt.src, toks.Repaired)
		}
		got := fmt.Sprintf("%d:%d-%d:%d %s", err.Pos.Line, err.Pos.Column, err.End.Line, err.End.Column, err.Msg)
		if got != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.src, got, tt.want)
		}
		// The EOF token is at the error, or right after the last token
		// when that one is after the error (the arguments of a use
		// whose "(" is not closed).
		last := toks.List[len(toks.List)-1]
		limit := err.Pos.Offset
		if n := len(toks.List); n > 1 {
			limit = max(limit, toks.End(n-2).Offset)
		}
		if last.Type != lexer.EOF || last.Pos.Offset > limit {
			t.Errorf("%q: tokens do not end with EOF at or before the error: %v", tt.src, last)
		}
	}
}

// TestUseArgsCloseDepth checks that the ")" closing the arguments of use
// closes its bracket for the nesting limit: many uses do not add up.
func TestUseArgsCloseDepth(t *testing.T) {
	t.Parallel()
	src := strings.Repeat("use f(1) as p\n", maxDepth+1) + strings.Repeat("{", maxDepth-1) + strings.Repeat("}", maxDepth-1)
	if _, err := Tokenize("t.smw", src); err != nil {
		t.Fatal(err)
	}
}

func TestEndBefore(t *testing.T) {
	t.Parallel()
	toks, err := Tokenize("t.smw", "ab  cd\n  ef")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		off  int
		want int
	}{{0, 0}, {4, 2}, {9, 6}, {11, 11}}
	for _, tt := range tests {
		if got := toks.EndBefore(tt.off).Offset; got != tt.want {
			t.Errorf("EndBefore(%d) = %d, want %d", tt.off, got, tt.want)
		}
	}
}

// TestTokenizeRepairs checks that a ")" or "]" closing the other kind of
// bracket on the line it was opened on is repaired (reported, and read as
// the right closer), while a "}" or a closer on a later line stops lexing.
func TestTokenizeRepairs(t *testing.T) {
	t.Parallel()
	toks, err := Tokenize("t.smw", "step a { value = [1, (2]) }\nstep b { value = 1 }\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(toks.Repaired) != 2 {
		t.Fatalf("repaired %d brackets, want 2: %v", len(toks.Repaired), toks.Repaired)
	}
	want := []string{`1:24-1:25 unexpected "]", expected ")" to close "(" opened at 1:22`, `1:25-1:26 unexpected ")", expected "]" to close "[" opened at 1:18`}
	for i, e := range toks.Repaired {
		if got := fmt.Sprintf("%d:%d-%d:%d %s", e.Pos.Line, e.Pos.Column, e.End.Line, e.End.Column, e.Msg); got != want[i] {
			t.Errorf("repair %d:\n got %s\nwant %s", i, got, want[i])
		}
	}
	var vals []string
	for _, tk := range toks.List {
		vals = append(vals, tk.Value)
	}
	if got := strings.Join(vals, " "); !strings.Contains(got, "[1, (2]) } step b { value = 1 }") {
		t.Errorf("tokens after the repair: %s", got)
	}
	for _, src := range []string{"a = [1, 2 }\n", "a = (1\n]\n"} {
		if _, err := Tokenize("t.smw", src); err == nil {
			t.Errorf("%q: no error", src)
		}
	}
}
