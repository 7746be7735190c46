package parser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smithc/smithc/internal/golden"
	"github.com/smithc/smithc/lang/ast"
)

// TestGolden parses every testdata/golden/parse/*.txtar case: out/ast is
// the printed tree of a clean parse, out/diag the diagnostics otherwise.
func TestGolden(t *testing.T) {
	t.Parallel()
	golden.Run(t, "../../testdata/golden/parse", func(t *testing.T, c *golden.Case) map[string]string {
		src, ok := c.File("in.smw")
		if !ok {
			t.Fatal("no in.smw")
		}
		f, diags := Parse("in.smw", src)
		if len(diags) > 0 {
			lines := make([]string, len(diags))
			for i, d := range diags {
				lines[i] = d.String()
			}
			if c.Has("ast") {
				t.Errorf("unexpected diagnostics:\n%s", strings.Join(lines, "\n"))
			}
			return map[string]string{"diag": strings.Join(lines, "\n")}
		}
		if c.Has("diag") {
			t.Errorf("expected diagnostics, parse was clean")
		}
		var b strings.Builder
		if err := ast.Fprint(&b, f); err != nil {
			t.Fatal(err)
		}
		return map[string]string{"ast": b.String()}
	})
}

// TestExamples parses every examples/*.smw with no diagnostics.
func TestExamples(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob("../../examples/*.smw")
	more, _ := filepath.Glob("../../examples/*/*.smw")
	paths = append(paths, more...)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no examples")
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			f, diags := Parse(filepath.Base(p), src)
			for _, d := range diags {
				t.Errorf("%s", d)
			}
			if len(f.Decls) == 0 {
				t.Errorf("no declarations parsed")
			}
		})
	}
}

// TestGrammarEBNF pins participle's rendering of the grammar.
func TestGrammarEBNF(t *testing.T) {
	t.Parallel()
	golden.Compare(t, "../grammar/testdata/grammar.ebnf", []byte(Grammar()+"\n"))
}
