package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
	"golang.org/x/tools/txtar"

	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/lang/grammar"
)

// goldenSources returns the in.smw of every parse golden, each ending
// with a newline, by archive name.
func goldenSources(t *testing.T) map[string]string {
	t.Helper()
	paths, err := filepath.Glob("../../testdata/golden/parse/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no parse goldens: %v", err)
	}
	out := map[string]string{}
	for _, p := range paths {
		a, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range a.Files {
			if f.Name == "in.smw" {
				src := string(f.Data)
				if src != "" && !strings.HasSuffix(src, "\n") {
					src += "\n"
				}
				out[strings.TrimSuffix(filepath.Base(p), ".txtar")] = src
			}
		}
	}
	return out
}

var lineCol = regexp.MustCompile(`\d+:\d+`)

// keys renders diagnostics as "line:col code summary", with the line
// numbers of the subject shifted by shift and positions inside the
// summary (such as "opened at 3:5") blanked.
func keys(ds diag.Diagnostics, shift int) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = fmt.Sprintf("%d:%d %s %s", d.Subject.Start.Line+shift, d.Subject.Start.Col, d.Code, lineCol.ReplaceAllString(d.Summary, "L:C"))
	}
	return out
}

// swallows reports whether the errors of a file can swallow what is
// appended to it: a block or a string left open at its end, or an
// unterminated comment.
func swallows(ds diag.Diagnostics) bool {
	for _, d := range ds {
		if strings.Contains(d.Summary, "end of file") || strings.HasPrefix(d.Summary, "unterminated") || strings.HasPrefix(d.Summary, "unclosed") || strings.Contains(d.Summary, "nested too deeply") {
			return true
		}
	}
	return false
}

// TestRecoveryConcat checks recovery on every pair of parse goldens
// joined into one file, A then B:
//
//   - joining never adds an error: A+B has at most the errors of A and B;
//   - after a clean A, B's errors are exactly those of B alone;
//   - before a clean B, A's errors are exactly those of A alone (unless
//     A leaves something open at its end), and B's declarations parse.
//
// An error caused by another one would show as a difference.
func TestRecoveryConcat(t *testing.T) {
	t.Parallel()
	srcs := goldenSources(t)
	type parsed struct {
		src   string
		diags diag.Diagnostics
		decls int
	}
	ps := map[string]parsed{}
	for name, src := range srcs {
		f, ds := Parse("in.smw", []byte(src))
		ps[name] = parsed{src, ds, len(f.Decls)}
	}
	for an, a := range ps {
		for bn, b := range ps {
			if strings.HasPrefix(b.src, "\ufeff") {
				continue // a byte order mark is only one at the start of a file
			}
			f, ds := Parse("in.smw", []byte(a.src+b.src))
			shift := strings.Count(a.src, "\n")
			if len(ds) > len(a.diags)+len(b.diags) {
				t.Errorf("%s + %s: %d errors, more than %d + %d:\n%s", an, bn, len(ds), len(a.diags), len(b.diags), ds)
			}
			want := append(keys(a.diags, 0), keys(b.diags, shift)...)
			switch {
			case len(a.diags) == 0 && len(b.diags) == 0:
				if len(ds) > 0 {
					t.Errorf("%s + %s: errors in two clean files:\n%s", an, bn, ds)
				}
			case len(a.diags) == 0:
				if got := keys(ds, 0); strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s + %s: after a clean file,\n got %q\nwant %q", an, bn, got, want)
				}
			case len(b.diags) == 0 && !swallows(a.diags):
				if got := keys(ds, 0); strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s + %s: before a clean file,\n got %q\nwant %q", an, bn, got, want)
				}
				if len(f.Decls) != a.decls+b.decls {
					t.Errorf("%s + %s: %d declarations, want %d + %d", an, bn, len(f.Decls), a.decls, b.decls)
				}
			}
		}
	}
}

// mutations returns the ways TestOneMistake and TestTwoMistakes change
// a token of src: delete it, repeat it, put a stray "}", "{", "@", line
// break, quote, "(", "workflow" or "type T" before it, or replace it with
// "step".
func mutations(src string, tok lexer.Token, end int) []string {
	a, b := tok.Pos.Offset, end
	return []string{
		src[:a] + src[b:],
		src[:b] + " " + src[a:b] + src[b:],
		src[:a] + "} " + src[a:],
		src[:a] + "{ " + src[a:],
		src[:a] + "@ " + src[a:],
		src[:a] + "\n" + src[a:],
		src[:a] + "\"" + src[a:],
		src[:a] + "(" + src[a:],
		src[:a] + "workflow " + src[a:],
		src[:a] + "type T " + src[a:],
		src[:a] + "step" + src[b:],
	}
}

// exampleTokens returns the examples with their one-line tokens.
func exampleTokens(t *testing.T) (names, srcs []string, toks [][]lexer.Token, ends [][]int) {
	t.Helper()
	paths, err := filepath.Glob("../../examples/*.smw")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		all, lerr := grammar.Tokenize("in.smw", src)
		if lerr != nil {
			t.Fatal(lerr)
		}
		var ts []lexer.Token
		var es []int
		for i, tk := range all.List[:len(all.List)-1] {
			if !strings.Contains(tk.Value, "\n") {
				ts = append(ts, tk)
				es = append(es, all.End(i).Offset)
			}
		}
		names, srcs = append(names, filepath.Base(p)), append(srcs, src)
		toks, ends = append(toks, ts), append(ends, es)
	}
	return names, srcs, toks, ends
}

// TestOneMistake makes one mistake at every token of every example and
// checks that at most one error is reported: anything more would be
// caused by the first.
func TestOneMistake(t *testing.T) {
	t.Parallel()
	names, srcs, toks, ends := exampleTokens(t)
	for f := range names {
		for i, tk := range toks[f] {
			for k, m := range mutations(srcs[f], tk, ends[f][i]) {
				if _, ds := Parse("in.smw", []byte(m)); len(ds) > 1 {
					t.Errorf("%s: mutation %d at %d:%d: %d errors:\n%s", names[f], k, tk.Pos.Line, tk.Pos.Column, len(ds), ds)
				}
			}
		}
	}
}

// TestTwoMistakes makes two mistakes, lines apart, in every example (a
// sample of the pairs of tokens) and checks that when several errors are
// reported each is one that one of the mistakes makes alone.
func TestTwoMistakes(t *testing.T) {
	t.Parallel()
	names, srcs, toks, ends := exampleTokens(t)
	step := 7
	if testing.Short() {
		step = 29
	}
	for f := range names {
		ts := toks[f]
		n := 0
		for i := 0; i < len(ts); i += step {
			for j := i + 1; j < len(ts); j += step {
				if ts[j].Pos.Line < ts[i].Pos.Line+2 {
					continue
				}
				n++
				k1, k2 := n%11, (n/11)%11
				if k1 == 5 {
					continue // a line break would move the second mistake's errors
				}
				second := mutations(srcs[f], ts[j], ends[f][j])[k2]
				both := mutations(second, ts[i], ends[f][i])[k1]
				first := mutations(srcs[f], ts[i], ends[f][i])[k1]
				_, d1 := Parse("in.smw", []byte(first))
				_, d2 := Parse("in.smw", []byte(second))
				_, ds := Parse("in.smw", []byte(both))
				if len(ds) < 2 {
					continue
				}
				known := map[[2]int]bool{}
				for _, d := range append(d1, d2...) {
					known[[2]int{d.Subject.Start.Line, d.Subject.Start.Col}] = true
				}
				for _, d := range ds {
					if !known[[2]int{d.Subject.Start.Line, d.Subject.Start.Col}] && !strings.HasPrefix(d.Summary, "missing") {
						t.Errorf("%s: mutations %d at %d:%d and %d at %d:%d: %s\nalone: %s\nalone: %s", names[f], k1, ts[i].Pos.Line, ts[i].Pos.Column, k2, ts[j].Pos.Line, ts[j].Pos.Column, d, d1, d2)
					}
				}
			}
		}
	}
}
