package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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
	// signalsReady is closed once SIGINT, SIGTERM and SIGHUP cancel the
	// command's context (watchSignals); nil in tests that build an app
	// of their own.
	signalsReady <-chan struct{}
}

// Main runs smithc with args (without the program name) and returns the
// process exit code. SIGINT, SIGTERM and SIGHUP (the terminal closed)
// cancel ctx: a run stops its steps (their process groups get SIGTERM,
// then SIGKILL), is recorded cancelled, and can be resumed.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, signalsReady, stop := watchSignals(ctx)
	defer stop()
	stdlib.CloseInheritedFiles() // steps and git get stdin, stdout and stderr only
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, signalsReady: signalsReady,
		stdinTTY: isTerminal(stdin), stdoutTTY: isTerminal(stdout), stderrTTY: isTerminal(stderr)}
	if !a.stderrTTY {
		d := newDelayedWriter(stderr)
		defer d.Close() //nolint:errcheck // nowhere left to report a failed write of stderr
		stdout, stderr = flushFirst{w: stdout, before: d}, d
		a.stdout, a.stderr = stdout, stderr
	}
	root := a.newRoot(args)
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
			fmt.Fprintf(stderr, "smithc: %s\n", runtime.UserText(ee.msg))
		}
		return ee.code
	}
	// Anything else cobra returns is a usage error (unknown command or
	// flag, wrong number of arguments).
	fmt.Fprintf(stderr, "smithc: %s\n", runtime.UserText(err.Error()))
	fmt.Fprintf(stderr, "Run 'smithc --help' for usage.\n")
	return ExitUsage
}

// hotCommands are the commands a process most often runs, built alone
// when the first argument names one (see newRoot).
func (a *app) hotCommands() map[string]func() *cobra.Command {
	return map[string]func() *cobra.Command{"run": a.newRunCmd, "resume": a.newResumeCmd, "check": a.newCheckCmd}
}

// newRoot builds the command tree for args. When args start with the
// name of a hot command, the root gets that command only: building the
// two dozen others (their flags, help text) is work a process that runs
// one workflow does not need; their help, usage errors and flags are the
// same either way. Anything else (help, completion, another command, a
// typo to suggest a name for) gets the whole tree.
func (a *app) newRoot(args []string) *cobra.Command {
	if len(args) > 0 {
		if mk, ok := a.hotCommands()[args[0]]; ok {
			root := a.rootCommand()
			root.AddCommand(mk())
			return root
		}
	}
	root := a.rootCommand()
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

// rootCommand is the root of the tree, without subcommands.
func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "smithc",
		Short:         "Check, compile and durably run .smw workflows",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(flagError)
	return root
}

// flagError words a flag's value that does not parse by what the flag
// takes, instead of the parser's own message ('invalid argument "abc"
// for "--timeout" flag: time: invalid duration "abc"'); other flag
// errors (an unknown flag) are left as they are.
func flagError(_ *cobra.Command, err error) error {
	var ive *pflag.InvalidValueError
	if !errors.As(err, &ive) {
		return err
	}
	want := map[string]string{
		"duration": "a duration (such as 90s, 5m or 1h30m)",
		"int":      "a whole number",
		"bool":     "true or false",
	}[ive.GetFlag().Value.Type()]
	if want == "" {
		want = "a " + ive.GetFlag().Value.Type()
	}
	return fmt.Errorf("--%s %q: want %s", ive.GetFlag().Name, ive.GetValue(), want)
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
