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

// BenchmarkParseErrors parses the program of BenchmarkParse with one
// broken step in every tenth workflow (a missing "="), which sends it
// down the recovery path, and reports the errors found per parse.
func BenchmarkParseErrors(b *testing.B) {
	src := testgen.Program(10000)
	parts := bytes.SplitAfter(src, []byte("\nworkflow "))
	for i := 0; i < len(parts); i += 10 {
		parts[i] = bytes.Replace(parts[i], []byte("value = "), []byte("value "), 1)
	}
	src = bytes.Join(parts, nil)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		_, diags := Parse("gen.smw", src)
		n = len(diags)
	}
	b.ReportMetric(float64(n), "errors")
}
