package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/stdlib"
)

func (a *app) newHijackCmd() *cobra.Command {
	var (
		f      dbFlags
		scope  string
		wait   time.Duration
		noOpen bool
		format string
	)
	cmd := &cobra.Command{
		Use:   "hijack RUN_ID [NODE]",
		Short: "Take over a running agent step's session in this terminal",
		Long: `Hand the session of an agent step (claude, codex, gemini) to you: the
step's running attempt ends cancelled with a handoff record (see inspect),
the run ends cancelled, and the agent's session opens here, interactively,
in the step's directory (claude --resume ID, codex resume ID, gemini
--resume ID). When you leave it, smithc resume RUN_ID continues the step in
that same session: the next attempt resumes it and asks for the step's
result, rather than starting over.

A run executed by another process (run --detach, a worker) gets the request
through the store, like cancel; that process ends the attempt. A run nobody
executes (its process died, or it failed or was cancelled) is handed over
from the session its step's last attempt reported. NODE may be left out
when one agent step has a session; --scope picks one instance inside a for
or loop. With --no-open (or --format json) the command line is printed
instead of run.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
			}
			ctx := cmd.Context()
			return a.withEngine(ctx, &f, false, func(eng *runtime.Engine) error {
				p := runtime.HijackParams{Scope: scope, Wait: wait}
				if len(args) == 2 {
					p.NodeID = args[1]
				}
				h, err := eng.Hijack(ctx, args[0], p)
				switch {
				case errors.Is(err, runtime.ErrNoSession), errors.Is(err, runtime.ErrAmbiguous):
					return exitf(ExitUsage, "%v", err)
				case err != nil:
					return a.runError(args[0], err)
				}
				child, notes, err := stdlib.InteractiveCommand(h, os.Environ())
				if err != nil {
					return exitf(ExitFailed, "run %s: step %s was handed over, but its session cannot be opened: %v", h.RunID, h.NodeID, err)
				}
				if format == "json" {
					return writeJSON(a.stdout, map[string]any{
						"run_id": h.RunID, "node_id": h.NodeID, "scope": nullIfEmpty(h.Scope), "attempt": h.Attempt,
						"agent": h.Session.Agent, "kind": h.Session.Kind, "session_id": h.Session.ID, "dir": h.Session.Dir,
						"by": h.By, "time": h.Time, "command": child.Args, "notes": notes,
					})
				}
				where := instLabel(h.NodeID, h.Scope)
				a.printf("run %s: step %s (attempt %d) handed over; the run is cancelled\n", h.RunID, where, h.Attempt)
				for _, n := range notes {
					fmt.Fprintf(a.stderr, "note: %s\n", n)
				}
				line := shellLine(child.Args)
				if noOpen || !a.stdinTTY || !a.stdoutTTY {
					a.printf("open the session with:\n  cd %s && %s\nthen `smithc resume %s` continues the step in it\n", shellQuote(child.Dir), line, h.RunID)
					return nil
				}
				a.printf("opening %s session %s in %s (%s); leave it to hand it back\n", h.Session.Kind, h.Session.ID, child.Dir, line)
				code, err := handOver(child)
				if err != nil {
					return exitf(ExitFailed, "run %s: open the %s session: %v; open it yourself: cd %s && %s", h.RunID, h.Session.Kind, err,
						shellQuote(child.Dir), line)
				}
				if code != 0 {
					fmt.Fprintf(a.stderr, "%s exited with code %d\n", h.Session.Kind, code)
				}
				a.printf("session %s closed; `smithc resume %s` continues step %s in it\n", h.Session.ID, h.RunID, where)
				return nil
			})
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&scope, "scope", "", "the instance of NODE inside a for or loop (as inspect shows it)")
	cmd.Flags().DurationVar(&wait, "wait", 30*time.Second, "how long to wait for the agent to report its session and for the run's process to hand it over")
	cmd.Flags().BoolVar(&noOpen, "no-open", false, "print the command that opens the session instead of running it")
	cmd.Flags().StringVar(&format, "format", "text", "text, or json for the handoff record and the command (not run)")
	return cmd
}

// handOver runs child on this process's terminal until it exits:
// stdin, stdout and stderr are the terminal, the child stays in the
// terminal's foreground process group (so the keyboard's SIGINT, SIGQUIT
// and SIGTSTP and the terminal's SIGWINCH reach it directly, and this
// process outlives them), and SIGTERM and SIGHUP sent to this process are
// passed on to it.
func handOver(child *exec.Cmd) (int, error) {
	child.Stdin, child.Stdout, child.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	if err := child.Start(); err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	for {
		select {
		case err := <-done:
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return ee.ExitCode(), nil
			}
			return 0, err
		case s := <-sigs:
			if s == syscall.SIGTERM || s == syscall.SIGHUP {
				_ = child.Process.Signal(s) // it may have exited meanwhile
			}
			// SIGINT and SIGQUIT come from the keyboard, to the whole
			// foreground group: the child has them already.
		}
	}
}

func instLabel(node, scope string) string {
	if scope == "" {
		return node
	}
	return node + " [" + scope + "]"
}

// shellLine renders argv for a person to paste into a shell.
func shellLine(argv []string) string {
	parts := make([]string, len(argv))
	for i, s := range argv {
		parts[i] = shellQuote(s)
	}
	return strings.Join(parts, " ")
}

// shellQuote single-quotes s unless it is plain.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
