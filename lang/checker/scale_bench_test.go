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
