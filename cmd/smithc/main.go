// Command smithc checks, compiles and runs .smw workflows.
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/smithc/smithc/cmd/smithc/cli"
)

func main() {
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
