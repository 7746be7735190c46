package parser

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/smithc/smithc/lang/diag"
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
