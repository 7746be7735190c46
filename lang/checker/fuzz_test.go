package checker

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/parser"
)

// FuzzCheck parses and checks arbitrary input: the checker must not panic
// and every diagnostic must point inside the source.
func FuzzCheck(f *testing.F) {
	seeds, _ := filepath.Glob("../../examples/*.smw")
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	archives, _ := filepath.Glob("../../testdata/golden/check/*.txtar")
	for _, p := range archives {
		a, err := txtar.ParseFile(p)
		if err != nil {
			continue
		}
		for _, file := range a.Files {
			if file.Name == "in.smw" {
				f.Add(file.Data)
			}
		}
	}
	cfg := &Config{Actions: testSpecs(), ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist }}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, ds := parser.Parse("in.smw", src)
		if file == nil || ds.HasErrors() {
			return
		}
		_, ds = Check([]*ast.File{file}, cfg)
		for _, d := range ds {
			r := d.Subject
			if r.File != "in.smw" || !r.Start.IsValid() || r.End.Offset < r.Start.Offset || r.End.Offset > len(src) {
				t.Errorf("diagnostic with a bad range %+v: %s", r, d)
			}
		}
	})
}

// exprHost is a program into which FuzzCheckExpr splices an expression.
const exprHost = `type A { s: string, n: int, f?: float, e: "x" | "y", l: [{ k: int }] }
workflow w {
  input { a: A, xs: [int], m: any }
  step one { value = { a: input.a, t: "t" } }
  match one {
    when one.t == "t" { step arm { value = { v: 1 } } }
  }
  loop l {
    max_iterations = 2
    step body { value = iteration }
  }
  for x in input.xs {
    step each { value = x * index }
  }
  step probe { value = %s }
  step tmpl { run = "echo ${%s}" }
}
`

// FuzzCheckExpr checks arbitrary expressions in a program with every kind
// of value in scope (objects, enums, optionals, lists, any): no panic, and
// every diagnostic inside the source.
func FuzzCheckExpr(f *testing.F) {
	for _, s := range []string{
		"one.a.s + string(one.a.n)", "arm?.v ?? 0", "each[0] + len(input.xs)", "filter(input.a.l, .k > 1)",
		"input.a.e == \"z\"", "body + 1", "input.m.x.y", "let v = 1; v * 2", "map(each, # * 2)", "input.a.f ?? 1.5",
		"one.a.l[0].k", "{ a: 1, b: [1, 2] }", "input.xs[1:2]", "reduce(input.xs, #acc + #, 0)", "now()",
	} {
		f.Add(s)
	}
	cfg := &Config{Actions: testSpecs()}
	f.Fuzz(func(t *testing.T, e string) {
		src := []byte(fmt.Sprintf(exprHost, e, e))
		file, ds := parser.Parse("in.smw", src)
		if file == nil || ds.HasErrors() {
			return
		}
		_, ds = Check([]*ast.File{file}, cfg)
		for _, d := range ds {
			r := d.Subject
			if r.File != "in.smw" || !r.Start.IsValid() || r.End.Offset < r.Start.Offset || r.End.Offset > len(src) {
				t.Errorf("diagnostic with a bad range %+v: %s", r, d)
			}
		}
	})
}
