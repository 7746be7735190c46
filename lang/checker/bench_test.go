package checker

import (
	"bytes"
	"testing"

	"github.com/smithc/smithc/internal/testgen"
	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/parser"
)

// BenchmarkCheck parses and checks a generated 10,000-line program and
// reports lines per second.
func BenchmarkCheck(b *testing.B) {
	src := testgen.Program(10000)
	lines := bytes.Count(src, []byte("\n"))
	cfg := &Config{Actions: testSpecs()}
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, ds := parser.Parse("gen.smw", src)
		if ds.HasErrors() {
			b.Fatal(ds.Error())
		}
		_, ds = Check([]*ast.File{f}, cfg)
		if ds.HasErrors() {
			b.Fatal(ds.Error())
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkCheckOnly checks an already parsed 10,000-line program.
func BenchmarkCheckOnly(b *testing.B) {
	src := testgen.Program(10000)
	lines := bytes.Count(src, []byte("\n"))
	f, ds := parser.Parse("gen.smw", src)
	if ds.HasErrors() {
		b.Fatal(ds.Error())
	}
	cfg := &Config{Actions: testSpecs()}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ds := Check([]*ast.File{f}, cfg); ds.HasErrors() {
			b.Fatal(ds.Error())
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
