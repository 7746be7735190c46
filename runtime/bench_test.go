package runtime_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

func seqProgram(n int) *ir.Program {
	steps := make([]*ir.Node, n)
	for i := range steps {
		steps[i] = value(fmt.Sprintf("s%d", i), fmt.Sprintf("%d", i))
	}
	return program(fmt.Sprintf("seq%d", n), nil, steps...)
}

// readingChain is n value steps, each reading the one before it (the
// chain of bench/peers): every step builds an expression environment.
func readingChain(n int) *ir.Program {
	steps := make([]*ir.Node, n)
	steps[0] = value("s0", "1")
	for i := 1; i < n; i++ {
		steps[i] = value(fmt.Sprintf("s%d", i), fmt.Sprintf("s%d + 1", i-1))
	}
	return program(fmt.Sprintf("chain%d", n), nil, steps...)
}

func benchSequential(b *testing.B, prog *ir.Program, n int) {
	bd := setup(b, nil, func(c *runtime.Config) {
		c.ObserveFunc = nil
		if os.Getenv("SMITHC_SYNC") == "FULL" { // SMITHC_SYNC=FULL: durability full, as the CLI sets it
			c.Durability = runtime.DurabilityFull
		}
	})
	b.ReportAllocs()
	b.ResetTimer()
	cpu := selfCPU()
	for i := 0; i < b.N; i++ {
		res, err := bd.engine.Start(context.Background(), runtime.StartParams{Program: prog})
		if err != nil || res.Status != store.RunFinished {
			b.Fatalf("%+v %v", res, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/step")
	b.ReportMetric(float64(selfCPU()-cpu)/float64(b.N*n), "cpu-ns/step")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkSequential runs N no-op value steps in sequence, each one
// durable (committed before the next starts), and a chain of 1,000 steps
// each reading the one before.
func BenchmarkSequential(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchSequential(b, seqProgram(n), n) })
	}
	b.Run("chain=1000", func(b *testing.B) { benchSequential(b, readingChain(1000), 1000) })
}

// BenchmarkForFanout runs a for over 10,000 elements, one value step each.
func BenchmarkForFanout(b *testing.B) {
	const n = 10000
	prog := program("fan", nil, forEach("F", "v", fmt.Sprintf("0..%d", n-1), 0, value("w", "v * 2")), value("count", "len(w)"))
	bd := setup(b, nil, func(c *runtime.Config) { c.ObserveFunc = nil })
	b.ReportAllocs()
	b.ResetTimer()
	cpu := selfCPU()
	for i := 0; i < b.N; i++ {
		res, err := bd.engine.Start(context.Background(), runtime.StartParams{Program: prog})
		if err != nil || res.Status != store.RunFinished || res.Output != int64(n) {
			b.Fatalf("%+v %v", res, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "steps/s")
	b.ReportMetric(float64(b.N*n)/(selfCPU()-cpu).Seconds(), "steps/cpu-s")
}

// BenchmarkResumeFinished resumes a finished 10,000-step run.
func BenchmarkResumeFinished(b *testing.B) {
	prog := seqProgram(10000)
	bd := setup(b, nil, func(c *runtime.Config) { c.ObserveFunc = nil })
	res, err := bd.engine.Start(context.Background(), runtime.StartParams{Program: prog})
	if err != nil || res.Status != store.RunFinished {
		b.Fatalf("%+v %v", res, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := bd.engine.Resume(context.Background(), res.RunID, runtime.ResumeParams{Program: prog})
		if err != nil || r.Status != store.RunFinished {
			b.Fatalf("%+v %v", r, err)
		}
	}
}

// BenchmarkLoop runs a loop of 10,000 iterations of one value step.
func BenchmarkLoop(b *testing.B) {
	const n = 10000
	prog := program("loopy", nil, loop("L", fmt.Sprintf("iteration >= %d", n-1), n+1, "fail", value("s", "iteration")), value("out", "s"))
	bd := setup(b, nil, func(c *runtime.Config) { c.ObserveFunc = nil })
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := bd.engine.Start(context.Background(), runtime.StartParams{Program: prog})
		if err != nil || res.Status != store.RunFinished || res.Output != int64(n-1) {
			b.Fatalf("%+v %v", res, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/iteration")
}
