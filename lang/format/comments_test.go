package format_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/lang/format"
)

// tokenGaps returns the byte offsets at which a comment may be inserted
// without touching a token: after every run of blanks.
func tokenGaps(src string) []int {
	var out []int
	inString := false
	for i := 1; i < len(src); i++ {
		if src[i-1] == '"' {
			inString = !inString
		}
		if !inString && (src[i-1] == ' ' || src[i-1] == '\n') && src[i] != ' ' {
			out = append(out, i)
		}
	}
	return out
}

// TestCommentsAnywhere puts a block comment, then a line comment, at
// every place between tokens of the examples (one at a time): formatting
// keeps every comment, keeps the IR, and is idempotent.
func TestCommentsAnywhere(t *testing.T) {
	// examples with every kind of construct between them; the others
	// are covered by the same code paths (gaps.py-style runs over all
	// examples found nothing more)
	var paths []string
	for _, name := range []string{"review", "orchestrator", "try", "event"} {
		paths = append(paths, filepath.Join("../../examples", name+".smw"))
	}
	tried, refused := 0, 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		base, ok := irOf(t, program{main: "in.smw", files: map[string][]byte{"in.smw": b}})
		if !ok {
			continue // needs its imports
		}
		for _, off := range tokenGaps(src) {
			for _, c := range []string{"/* c */ ", "// c\n"} {
				in := src[:off] + c + src[off:]
				want, ok := irOf(t, program{main: "in.smw", files: map[string][]byte{"in.smw": []byte(in)}})
				if !ok {
					continue // the comment is inside a string or breaks a line that must not break
				}
				if d := cmp.Diff(base, want); d != "" {
					continue // a line comment ended an expression early: another program
				}
				tried++
				out, ds := format.Source("in.smw", []byte(in))
				if ds.HasErrors() {
					t.Errorf("%s+%d %q: %s", p, off, c, ds.Error())
					refused++
					continue
				}
				if strings.Count(string(out), strings.TrimSpace(c)) != strings.Count(in, strings.TrimSpace(c)) {
					t.Errorf("%s+%d %q: a comment was lost:\n%s", p, off, c, out)
				}
				got, ok := irOf(t, program{main: "in.smw", files: map[string][]byte{"in.smw": out}})
				if !ok || cmp.Diff(want, got) != "" {
					t.Errorf("%s+%d %q: the IR changed:\n%s", p, off, c, out)
					continue
				}
				again, ds := format.Source("in.smw", out)
				if ds.HasErrors() || string(again) != string(out) {
					t.Errorf("%s+%d %q: not idempotent:\n%s\n---\n%s", p, off, c, out, again)
				}
			}
		}
	}
	t.Logf("%d placements, %d refused", tried, refused)
	if tried < 300 {
		t.Errorf("only %d placements tried", tried)
	}
}
