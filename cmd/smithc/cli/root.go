package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/stdlib"
)

// Exit codes of smithc.
const (
	ExitOK      = 0
	ExitFailed  = 1
	ExitUsage   = 2
	ExitWaiting = 3
	// ExitStore: the store failed (a full disk, a file size limit, an I/O
	// error, a lock held too long by another process, a database written
	// by a newer smithc). What was committed stands; a run is left
	// resumable.
	ExitStore     = 4
	ExitCancelled = 130
)

// exitError carries an exit code through cobra. A message, if any, has
// already been printed unless msg is set.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// printf writes to the command's standard output.
func (a *app) printf(format string, args ...any) { fmt.Fprintf(a.stdout, format, args...) }

func exitf(code int, format string, args ...any) error {
	return &exitError{code: code, msg: fmt.Sprintf(format, args...)}
}

// app holds what every command needs: the injected streams.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// Whether each stream is a terminal: approvals are asked inline when
	// stdin and stdout are; the live view draws when stderr is.
	stdinTTY, stdoutTTY, stderrTTY bool
	// storePath names the store the command opened, for messages.
	storePath string
	// durability is the mode of the store opened for writing (--durability
	// or $SMITHC_DURABILITY).
	durability runtime.Durability
}

// Main runs smithc with args (without the program name) and returns the
// process exit code. SIGINT, SIGTERM and SIGHUP (the terminal closed)
// cancel ctx: a run stops its steps (their process groups get SIGTERM,
// then SIGKILL), is recorded cancelled, and can be resumed.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	stdlib.CloseInheritedFiles() // steps and git get stdin, stdout and stderr only
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr,
		stdinTTY: isTerminal(stdin), stdoutTTY: isTerminal(stdout), stderrTTY: isTerminal(stderr)}
	root := a.newRoot()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintf(stderr, "smithc: %s\n", ee.msg)
		}
		return ee.code
	}
	// Anything else cobra returns is a usage error (unknown command or
	// flag, wrong number of arguments).
	fmt.Fprintf(stderr, "smithc: %s\n", err)
	fmt.Fprintf(stderr, "Run 'smithc --help' for usage.\n")
	return ExitUsage
}

func (a *app) newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "smithc",
		Short:         "Check, compile and durably run .smw workflows",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(
		a.newVersionCmd(),
		a.newCheckCmd(),
		a.newCompileCmd(),
		a.newGraphCmd(),
		a.newServeCmd(),
		a.newFmtCmd(),
		a.newLSPCmd(),
	)
	for _, c := range a.runtimeCommands() {
		root.AddCommand(c)
	}
	return root
}

// checkFormat returns a usage error unless format is one of allowed.
func checkFormat(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return exitf(ExitUsage, "--format must be %s, not %q", strings.Join(allowed, " or "), format)
}
