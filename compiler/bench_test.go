package compiler_test

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

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

// cpuTime is the CPU time (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBuildScale measures what `smithc check` does (parse, check,
// compile with every expr program) on the two shapes of the check
// targets: 10⁵ sequential steps, each reading the one before it, and one
// template of 10⁵ interpolations; the 1,000 constant steps that
// `smithc run` compiles in the whole-process targets; and 1,000 steps
// each reading the one before (the chain of bench/peers).
func BenchmarkBuildScale(b *testing.B) {
	for _, c := range []struct {
		name string
		src  []byte
	}{
		{"steps=100000", testgen.Sequential(100000)},
		{"interpolations=100000", testgen.Interpolations(100000)},
		{"constants=1000", testgen.Constants(1000)},
		{"steps=1000", testgen.Sequential(1000)}, // the chain bench/peers compiles
	} {
		b.Run(c.name, func(b *testing.B) {
			p := filepath.Join(b.TempDir(), "gen.smw")
			if err := os.WriteFile(p, c.src, 0o644); err != nil {
				b.Fatal(err)
			}
			cfg := config()
			b.ReportAllocs()
			c0 := cpuTime()
			for b.Loop() {
				if res := compiler.Build(p, cfg); res.Program == nil {
					b.Fatalf("generated program does not compile:\n%s", res.Diagnostics.Error())
				}
			}
			// CPU time (user + system, every thread: the garbage
			// collector's too) says more than wall time on a shared
			// machine.
			b.ReportMetric(float64(cpuTime()-c0)/1e6/float64(b.N), "cpu-ms/op")
		})
	}
}
