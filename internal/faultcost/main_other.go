//go:build !linux

// Command faultcost measures the cost of a first touch of fresh memory;
// it uses Linux's madvise, so elsewhere it only says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "faultcost: Linux only (it measures madvise's page sizes)")
	os.Exit(1)
}
