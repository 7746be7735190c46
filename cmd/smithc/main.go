// Command smithc checks, compiles and runs .smw workflows.
package main

import (
	"context"
	"os"

	"github.com/smithc/smithc/cmd/smithc/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
