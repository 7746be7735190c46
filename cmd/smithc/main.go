// Command smithc checks, compiles and runs .smw workflows.
package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"sync/atomic"

	"github.com/smithc/smithc/cmd/smithc/cli"
)

// The garbage collector's pacing. Go's default (GOGC=100, a 4 MB minimum
// goal) makes a command that runs a short workflow collect two or three
// times for the few MB it allocates in all (the parser's grammar, the
// program, a hundred steps' rows) before it exits, and a chain of a
// thousand steps with a live heap of 3 MB a dozen times. While the live
// heap stays small, smithc lets the heap grow to smallHeapGCPercent% of
// it (at most about 20 MB); once a collection finds more than
// smallLiveHeap live, the default pacing applies for the rest of the
// process, so a large run's memory is bounded as before. $GOGC, when
// set, is left alone.
const (
	smallHeapGCPercent = 400
	smallLiveHeap      = 4 << 20
)

// sentinel is allocated unreachable, so that its cleanup runs after the
// next collection (its pointer keeps it off the tiny allocator, whose
// objects may never be cleaned up).
type sentinel struct {
	_ *byte
	_ [16]byte
}

// collectionsWatched counts the collections paceGC has looked at (for
// its test).
var collectionsWatched atomic.Int64

func paceGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(smallHeapGCPercent)
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var watch func()
	watch = func() {
		runtime.AddCleanup(new(sentinel), func(int) {
			defer collectionsWatched.Add(1)
			metrics.Read(live)
			if live[0].Value.Kind() == metrics.KindUint64 && live[0].Value.Uint64() <= smallLiveHeap {
				watch()
				return
			}
			debug.SetGCPercent(100)
		}, 0)
	}
	watch()
}

func main() {
	paceGC()
	// $SMITHC_CPUPROFILE=FILE writes a CPU profile of the whole command
	// (for docs/benchmarks.md; go tool pprof reads it).
	if p := os.Getenv("SMITHC_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "smithc: $SMITHC_CPUPROFILE: %v\n", err)
			os.Exit(2)
		}
		code := cli.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(code)
	}
	os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
