package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/smithc/smithc/internal/golden"
	"github.com/smithc/smithc/lang/ast"
)

// TestGolden parses every testdata/golden/parse/*.txtar case: out/ast is
// the printed tree of a clean parse, out/diag the diagnostics otherwise.
// Cases named recover_* (or with an out/decls section) also list the
// declarations that parsed despite the errors, in out/decls.
func TestGolden(t *testing.T) {
	t.Parallel()
	golden.Run(t, "../../testdata/golden/parse", func(t *testing.T, c *golden.Case) map[string]string {
		src, ok := c.File("in.smw")
		if !ok {
			t.Fatal("no in.smw")
		}
		f, skipped, diags := ParseRecovered("in.smw", src)
		if len(diags) > 0 {
			lines := make([]string, len(diags))
			for i, d := range diags {
				lines[i] = d.String()
			}
			if c.Has("ast") {
				t.Errorf("unexpected diagnostics:\n%s", strings.Join(lines, "\n"))
			}
			out := map[string]string{"diag": strings.Join(lines, "\n")}
			if strings.HasPrefix(c.Name, "recover_") || c.Has("decls") {
				out["decls"] = declList(f, skipped)
			}
			return out
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

// declList lists the declarations of f, one per line: kind, name and
// range ("(none)" if there are none), then what was skipped.
func declList(f *ast.File, skipped []Skipped) string {
	var b strings.Builder
	for _, d := range f.Decls {
		var kind, name string
		switch d := d.(type) {
		case *ast.ImportDecl:
			kind, name = "import", strconv.Quote(d.Path)
		case *ast.TypeDecl:
			kind, name = "type", d.Name.Name
		case *ast.AgentDecl:
			kind, name = "agent", d.Name.Name
		case *ast.FragmentDecl:
			kind, name = "fragment", d.Name.Name
		case *ast.WorkflowDecl:
			kind, name = "workflow", d.Name.Name
		default:
			kind = fmt.Sprintf("%T", d)
		}
		r := d.Span()
		fmt.Fprintf(&b, "%s %s %d:%d-%d:%d\n", kind, name, r.Start.Line, r.Start.Col, r.End.Line, r.End.Col)
	}
	if b.Len() == 0 {
		b.WriteString("(none)\n")
	}
	for _, k := range skipped {
		kind, name := k.Kind, k.Name
		if kind == "" {
			kind = "text"
		}
		if name == "" {
			name = "-"
		}
		r := k.Range
		fmt.Fprintf(&b, "skipped %s %s %d:%d-%d:%d\n", kind, name, r.Start.Line, r.Start.Col, r.End.Line, r.End.Col)
	}
	return b.String()
}
