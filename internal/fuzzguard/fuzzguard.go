// Package fuzzguard bounds the resources one fuzz input may use: a check
// or parse that takes more than MaxTime or grows the heap by more than
// MaxHeap fails the input instead of slowly exhausting the machine.
package fuzzguard

import (
	"flag"
	"fmt"
	"runtime/metrics"
	"testing"
	"time"
)

// The bounds of one input.
const (
	MaxTime = 10 * time.Second
	MaxHeap = 1 << 30 // bytes of live heap objects, and of allocations
)

const (
	heapMetric   = "/memory/classes/heap/objects:bytes"
	allocsMetric = "/gc/heap/allocs:bytes"
)

func read(names ...string) []uint64 {
	samples := make([]metrics.Sample, len(names))
	for i, n := range names {
		samples[i].Name = n
	}
	metrics.Read(samples)
	out := make([]uint64, len(names))
	for i, s := range samples {
		if s.Value.Kind() == metrics.KindUint64 {
			out[i] = s.Value.Uint64()
		}
	}
	return out
}

// Run runs fn on input and fails t when fn takes longer than MaxTime,
// allocates more than MaxHeap in total, or the live heap grows by more
// than MaxHeap while it runs. A watchdog samples the heap every 20ms and
// panics when a bound is crossed, so that an input that would run
// forever or exhaust memory crashes the fuzz worker, which makes the
// fuzzer save it as a failing input.
func Run(t testing.TB, input []byte, fn func()) {
	t.Helper()
	base := read(heapMetric, allocsMetric)
	start := time.Now()
	done := make(chan struct{})
	go watch(done, start, base[0], len(input))
	fn()
	close(done)
	elapsed := time.Since(start)
	after := read(allocsMetric)
	if elapsed > MaxTime {
		t.Fatalf("input of %d bytes took %v (more than %v)", len(input), elapsed.Round(time.Millisecond), MaxTime)
	}
	// The allocation count is process-wide: only while fuzzing, when a
	// worker runs one input at a time, is all of it this input's.
	if a := after[0] - base[1]; a > MaxHeap && fuzzing() {
		t.Fatalf("input of %d bytes allocated %d MiB (more than %d MiB)", len(input), a>>20, MaxHeap>>20)
	}
}

var fuzzingForTest bool

// fuzzing reports whether the test binary runs with -fuzz.
func fuzzing() bool {
	if fuzzingForTest {
		return true
	}
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}

func watch(done chan struct{}, start time.Time, heap0 uint64, n int) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		if d := time.Since(start); d > MaxTime {
			panic(fmt.Sprintf("fuzzguard: input of %d bytes still running after %v", n, d.Round(time.Millisecond)))
		}
		if h := read(heapMetric)[0]; h > heap0 && h-heap0 > MaxHeap {
			panic(fmt.Sprintf("fuzzguard: input of %d bytes grew the heap by %d MiB", n, (h-heap0)>>20))
		}
	}
}
