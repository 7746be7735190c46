package checker

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/smithc/smithc/internal/fuzzguard"
	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/lang/parser"
)

// FuzzCheck parses and checks arbitrary input: the checker must not panic,
// every diagnostic must point inside the source, and no input may take
// more than 10s or 1 GiB (internal/fuzzguard).
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
		var ds diag.Diagnostics
		fuzzguard.Run(t, src, func() {
			var file *ast.File
			file, ds = parser.Parse("in.smw", src)
			if file == nil || ds.HasErrors() {
				ds = nil
				return
			}
			_, ds = Check([]*ast.File{file}, cfg)
		})
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
		var ds diag.Diagnostics
		fuzzguard.Run(t, src, func() {
			var file *ast.File
			file, ds = parser.Parse("in.smw", src)
			if file == nil || ds.HasErrors() {
				ds = nil
				return
			}
			_, ds = Check([]*ast.File{file}, cfg)
		})
		for _, d := range ds {
			r := d.Subject
			if r.File != "in.smw" || !r.Start.IsValid() || r.End.Offset < r.Start.Offset || r.End.Offset > len(src) {
				t.Errorf("diagnostic with a bad range %+v: %s", r, d)
			}
		}
	})
}

// useProgram builds a program of k fragments from mounts: byte j mounts
// fragment mounts[j]%k inside fragment j%k (so cycles, self-mounts and
// fragments mounted many times all occur), placed by its high bits at
// the top of the body, in a parallel, a loop or a try; the workflow
// mounts f0 and reads through the mounts, and extra is spliced into f0.
func useProgram(mounts []byte, extra string) []byte {
	const k = 5
	var b strings.Builder
	bodies := make([]strings.Builder, k)
	for j, m := range mounts {
		if j >= 64 {
			break
		}
		use := fmt.Sprintf("use f%d(x + %d) as m%d\n", int(m)%k, j, j)
		body := &bodies[j%k]
		switch (m >> 4) & 3 {
		case 0:
			body.WriteString(use)
		case 1:
			body.WriteString("parallel {\n" + use + "}\n")
		case 2:
			fmt.Fprintf(body, "loop l%d {\nmax_iterations = 2\n%s}\n", j, use)
		case 3:
			body.WriteString("try {\n" + use + "} catch {\nstep c" + fmt.Sprint(j) + " { value = error.message }\n}\n")
		}
	}
	for i := 0; i < k; i++ {
		fmt.Fprintf(&b, "fragment f%d(x: int) {\nstep s { value = x }\n%s", i, bodies[i].String())
		if i == 0 {
			b.WriteString(extra + "\n")
		}
		b.WriteString("}\n")
	}
	b.WriteString("workflow w {\nuse f0(1) as top\nstep r { value = top.s }\n")
	for j := range mounts {
		if j < 8 {
			fmt.Fprintf(&b, "step r%d { value = top.m%d?.s ?? 0 }\n", j, j)
		}
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

// FuzzCheckUse checks programs whose fragments mount each other in
// fuzzer-chosen shapes: self-mounts and cycles must be errors, mounts
// that multiply must stop at the node limit, and no input may take more
// than 10s or 1 GiB.
func FuzzCheckUse(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4}, "")
	f.Add([]byte{0}, "")                            // f0 mounts itself
	f.Add([]byte{1, 1, 2, 2, 3, 3, 4, 4, 1, 2}, "") // each mounts the next twice
	f.Add([]byte{0x11, 0x22, 0x33, 0x04}, "step t { value = m0.s }")
	f.Add([]byte{1, 0x31, 2, 0x22, 3, 0x13, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4}, "use f1(2) as extra")
	cfg := &Config{Actions: testSpecs()}
	f.Fuzz(func(t *testing.T, mounts []byte, extra string) {
		src := useProgram(mounts, extra)
		var ds diag.Diagnostics
		fuzzguard.Run(t, src, func() {
			file, pds := parser.Parse("in.smw", src)
			if file == nil || pds.HasErrors() {
				return
			}
			_, ds = Check([]*ast.File{file}, cfg)
		})
		recursive := false
		for _, d := range ds {
			r := d.Subject
			if r.File != "in.smw" || !r.Start.IsValid() || r.End.Offset < r.Start.Offset || r.End.Offset > len(src) {
				t.Errorf("diagnostic with a bad range %+v: %s", r, d)
			}
			recursive = recursive || d.Code == "recursive-fragment"
		}
		if ds != nil && mountCycle(mounts) != recursive {
			t.Errorf("mounts %v: a mount cycle is %v, a recursive-fragment error is %v\n%s", mounts, mountCycle(mounts), recursive, src)
		}
	})
}

// mountCycle reports whether the mounts of useProgram form a cycle.
func mountCycle(mounts []byte) bool {
	const k = 5
	var edge [k][k]bool
	for j, m := range mounts {
		if j < 64 {
			edge[j%k][int(m)%k] = true
		}
	}
	state := [k]int{}
	var visit func(i int) bool
	visit = func(i int) bool {
		state[i] = 1
		for j := 0; j < k; j++ {
			if edge[i][j] && (state[j] == 1 || state[j] == 0 && visit(j)) {
				return true
			}
		}
		state[i] = 2
		return false
	}
	for i := 0; i < k; i++ {
		if state[i] == 0 && visit(i) {
			return true
		}
	}
	return false
}
