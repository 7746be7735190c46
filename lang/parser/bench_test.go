package parser

import (
	"bytes"
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
