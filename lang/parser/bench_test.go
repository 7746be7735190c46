package parser

import (
	"bytes"
	"strings"
	"testing"

	"github.com/smithc/smithc/internal/testgen"
)

// BenchmarkParse parses a generated program of 10,000 lines and reports
// lines per second.
func BenchmarkParse(b *testing.B) {
	src := testgen.Program(10000)
	lines := bytes.Count(src, []byte("\n"))
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, diags := Parse("gen.smw", src); len(diags) > 0 {
			b.Fatal(diags)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkParseLongTemplate parses one string with 10,000
// interpolations; the time per op grows linearly with their number.
func BenchmarkParseLongTemplate(b *testing.B) {
	src := []byte(`workflow w { step a { value = "` + strings.Repeat("x ${input.y} ", 10000) + `" } }`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, diags := Parse("t.smw", src); len(diags) > 0 {
			b.Fatal(diags)
		}
	}
}
