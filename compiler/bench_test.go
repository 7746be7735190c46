package compiler_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/smithc/smithc/compiler"
	"github.com/smithc/smithc/internal/testgen"
)

// BenchmarkBuild measures parse + check + compile of a generated
// 10,000-line program, reporting lines per second.
func BenchmarkBuild(b *testing.B) {
	src := testgen.Program(10000)
	lines := bytes.Count(src, []byte("\n"))
	p := filepath.Join(b.TempDir(), "big.smw")
	if err := os.WriteFile(p, src, 0o644); err != nil {
		b.Fatal(err)
	}
	cfg := config()
	if res := compiler.Build(p, cfg); res.Program == nil {
		b.Fatalf("generated program does not compile:\n%s", res.Diagnostics.Error())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		compiler.Build(p, cfg)
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
