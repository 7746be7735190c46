// Command linkfloor is smithc with nothing run: the same packages linked
// (cli.Main stays reachable, so the linker keeps everything cmd/smithc
// has) but main returns before it calls anything. What it costs is what
// every smithc process pays before its command starts: the Go runtime's
// start on a binary of this size, the initialisation of every linked
// package (the Prometheus client, pgx, SQLite, expr-lang, ...), and the
// exit. The targets table (runtime/targets_bench_test.go) and
// internal/startbench report it beside a one-step `smithc run`, so that
// a start-up figure reads as that floor plus smithc's own work.
//
//	linkfloor            (does nothing)
//	linkfloor -- ARGS    (runs smithc ARGS: the check that it is smithc)
package main

import (
	"context"
	"os"

	"github.com/smithc/smithc/cmd/smithc/cli"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--" {
		os.Exit(cli.Main(context.Background(), os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
}
