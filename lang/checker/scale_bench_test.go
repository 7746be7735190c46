package checker

import (
	"fmt"
	"testing"

	"github.com/smithc/smithc/internal/testgen"
	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/parser"
)

// benchScale parses and checks the program gen(n) for n = 10³, 10⁴ and
// 10⁵; with -benchmem the ratio between sizes shows whether time and
// memory grow linearly (a tenfold n should cost about ten times).
func benchScale(b *testing.B, unit string, gen func(int) []byte) {
	for _, n := range []int{1000, 10000, 100000} {
		src := gen(n)
		b.Run(fmt.Sprintf("%s=%d", unit, n), func(b *testing.B) {
			cfg := &Config{Actions: testSpecs()}
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				files := map[string][]byte{"gen.smw": src}
				cfg.ReadFile = func(name string) ([]byte, error) { return files[name], nil }
				if _, ds := CheckFile("gen.smw", cfg); ds.HasErrors() {
					b.Fatal(ds.Error())
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), unit+"/s")
		})
	}
}

// BenchmarkCheckSteps checks workflows of 10³, 10⁴ and 10⁵ sequential
// steps, each reading the one before it.
func BenchmarkCheckSteps(b *testing.B) { benchScale(b, "steps", testgen.Sequential) }

// BenchmarkCheckInterpolations checks one template of 10³, 10⁴ and 10⁵
// interpolations.
func BenchmarkCheckInterpolations(b *testing.B) {
	benchScale(b, "interpolations", testgen.Interpolations)
}

// BenchmarkCheckOnlySteps checks an already parsed workflow of 10⁵
// sequential steps (the checker's share of BenchmarkCheckSteps).
func BenchmarkCheckOnlySteps(b *testing.B) {
	f, ds := parser.Parse("gen.smw", testgen.Sequential(100000))
	if ds.HasErrors() {
		b.Fatal(ds.Error())
	}
	cfg := &Config{Actions: testSpecs()}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ds := Check([]*ast.File{f}, cfg); ds.HasErrors() {
			b.Fatal(ds.Error())
		}
	}
}

// TestLimits checks the bounds that keep check linear: a template of
// MaxInterpolations interpolations checks clean and one more is one
// error at the template; a workflow of more than MaxNodes nodes is one
// error at its name.
func TestLimits(t *testing.T) {
	t.Parallel()
	cfg := &Config{Actions: testSpecs()}
	check := func(src []byte) []string {
		f, ds := parser.Parse("gen.smw", src)
		if ds.HasErrors() {
			t.Fatal(ds.Error())
		}
		_, ds = Check([]*ast.File{f}, cfg)
		var out []string
		for _, d := range ds {
			out = append(out, d.Code+": "+d.Summary)
		}
		return out
	}
	if ds := check(testgen.Interpolations(MaxInterpolations)); len(ds) != 0 {
		t.Errorf("%d interpolations: %v", MaxInterpolations, ds)
	}
	ds := check(testgen.Interpolations(MaxInterpolations + 1))
	if want := `too-many-interpolations: value of step "s" has 100001 interpolations, more than the limit of 100000`; len(ds) != 1 || ds[0] != want {
		t.Errorf("%d interpolations: %q, want %q", MaxInterpolations+1, ds, want)
	}
	// A workflow of MaxNodes steps, built as a tree (parsing it would
	// only cost time).
	body := &ast.Body{}
	for i := 0; i < MaxNodes; i++ {
		body.Nodes = append(body.Nodes, &ast.StepStmt{ID: ast.Ident{Name: fmt.Sprintf("s%d", i)}})
	}
	wf := &ast.WorkflowDecl{Name: ast.Ident{Name: "seq"}, Body: body}
	_, all := Check([]*ast.File{{Name: "gen.smw", Decls: []ast.Decl{wf}}}, cfg)
	ds = nil
	for _, d := range all {
		ds = append(ds, d.Code+": "+d.Summary)
	}
	if want := `too-many-nodes: workflow "seq" has 250001 nodes, more than the limit of 250000`; len(ds) != 1 || ds[0] != want {
		t.Errorf("%d steps: %q, want %q", MaxNodes, ds, want)
	}
}
