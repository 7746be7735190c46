package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// humanFlags are the flags of approve, deny and signal.
type humanFlags struct {
	sessionFlags
	noContinue bool
}

func (f *humanFlags) register(cmd *cobra.Command) {
	f.sessionFlags.register(cmd)
	cmd.Flags().BoolVar(&f.noContinue, "no-continue", false, "only record; do not continue the run in this process")
}

func (a *app) newDecisionCmd(approve bool) *cobra.Command {
	var (
		f      humanFlags
		note   string
		by     string
		scope  string
		inputs []string
	)
	use, short := "approve RUN_ID NODE", "Approve a waiting approval and continue the run"
	if !approve {
		use, short = "deny RUN_ID NODE", "Deny a waiting approval and continue the run"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `.

If a process is already running the run (run --wait always, or a worker),
it picks the decision up within a second; otherwise this command continues
the run in the foreground until it finishes or waits again (--no-continue
only records the decision).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			mode, err := f.validate()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if by == "" {
				by = whoami()
			}
			s, eng, done, err := a.sessionEngine(ctx, &f.sessionFlags, mode)
			if err != nil {
				return err
			}
			defer done()
			sum, err := eng.RunSummary(ctx, args[0])
			if err != nil {
				return a.runError(args[0], err)
			}
			data, err := approvalInputs(ctx, eng, args[0], args[1], inputs)
			if err != nil {
				return err
			}
			if !f.noContinue {
				s.begin(ctx, eng, args[0], nil)
				defer s.abort()
			}
			d := runtime.Decision{By: by, Note: note, Data: data, Scope: scope}
			var r *runtime.Result
			cont := !f.noContinue && mode == runtime.WaitAuto // the engine continues in wait mode auto
			if approve {
				r, err = eng.Approve(ctx, args[0], args[1], d, cont)
			} else {
				r, err = eng.Deny(ctx, args[0], args[1], d, cont)
			}
			if errors.Is(err, runtime.ErrExpired) {
				if r == nil {
					return exitf(ExitUsage, "%v", err)
				}
				fmt.Fprintf(a.stderr, "smithc: %v\n", err)
				s.end()
				a.printResult(f.format, r, nil)
				return &exitError{code: ExitUsage}
			}
			if err != nil {
				if errors.Is(err, store.ErrUnavailable) {
					return s.storeFailed(args[0], err)
				}
				return decisionError(args[0], args[1], err)
			}
			if !f.noContinue && !cont {
				if r, err = continueIn(ctx, eng, r, mode); err != nil {
					return s.runError(args[0], err)
				}
			}
			if f.noContinue || ended(sum.Status, r) {
				s.abort()
				verb := map[bool]string{true: "approval", false: "denial"}[approve]
				return a.recorded(f.format, r, fmt.Sprintf("%s of %s", verb, args[1]))
			}
			return s.finish(ctx, eng, r)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&note, "note", "", "a note recorded with the decision")
	cmd.Flags().StringVar(&scope, "scope", "", "which instance of an approval inside a for or loop (the scope inspect shows); default: the oldest waiting")
	cmd.Flags().StringVar(&by, "by", "", "who decides (default: the current user)")
	if approve {
		cmd.Flags().StringArrayVarP(&inputs, "input", "i", nil, "a field of the approval's output as name=value (repeatable)")
	}
	return cmd
}

// continueIn continues a run after a decision or signal in a wait mode
// other than auto, unless it ended or another live process executes it
// (that process picks the decision up itself).
func continueIn(ctx context.Context, eng *runtime.Engine, r *runtime.Result, mode runtime.WaitMode) (*runtime.Result, error) {
	if r.Status.Terminal() {
		return r, nil
	}
	if owner, _ := liveOwner(ctx, eng, r.RunID); owner != "" {
		return r, nil
	}
	next, err := eng.Resume(ctx, r.RunID, runtime.ResumeParams{Wait: mode})
	if errors.Is(err, runtime.ErrRunLive) {
		return r, nil
	}
	return next, err
}

// ended reports whether a decision or signal went to a run that had
// already ended (failed or cancelled: resumable) and still has: nothing
// continued it, so the command reports what it recorded, not the old
// failure as if the decision had caused it.
func ended(before store.RunStatus, r *runtime.Result) bool {
	return before.Terminal() && r != nil && r.Status == before
}

// recorded reports a decision or signal stored without continuing the
// run (--no-continue, or a run that had ended). The command did what it
// was asked, so it exits 0 whatever the run's status.
func (a *app) recorded(format string, r *runtime.Result, what string) error {
	if format == "json" {
		a.printResult(format, r, nil)
		return nil
	}
	a.printf("recorded the %s for run %s (%s)\n", what, r.RunID, r.Status)
	switch {
	case !r.Status.Terminal():
		a.printf("a process running it picks it up within a second; otherwise `smithc resume %s` continues it\n", r.RunID)
	case r.Status == store.RunFailed || r.Status == store.RunCancelled:
		a.printf("the run is %s, so nothing continued it: `smithc resume %s` does, with this %s\n", r.Status, r.RunID, strings.Fields(what)[0])
	}
	return nil
}

func decisionError(runID, node string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return exitf(ExitUsage, "run %s has no approval %q waiting (see `smithc inspect %s`)", runID, node, runID)
	case errors.Is(err, store.ErrConflict):
		return exitf(ExitUsage, "approval %s of run %s was already decided; `smithc retry %s %s` re-opens it", node, runID, runID, node)
	case errors.Is(err, runtime.ErrAmbiguous):
		return exitf(ExitUsage, "%v", err)
	case errors.Is(err, runtime.ErrInvalidDecision):
		return exitf(ExitUsage, "%v; the approval is still waiting: give its fields with --input name=value", err)
	}
	return exitf(ExitFailed, "%v", err)
}

// approvalInputs reads approve's --input pairs as the approval's own
// output fields, coerced by their declared types. When the run's source
// cannot be loaded the values are taken as JSON, or strings, and the
// runtime validates them.
func approvalInputs(ctx context.Context, eng *runtime.Engine, runID, nodeID string, pairs []string) (map[string]any, error) {
	data := map[string]any{}
	if len(pairs) == 0 {
		return data, nil
	}
	var fields *schema.Type
	var aps []*runtime.ApprovalView
	if _, _, err := eng.RunProgram(ctx, runID); err == nil {
		aps, _ = eng.Approvals(ctx, runID) // without them the runtime validates the values
	}
	for _, ap := range aps {
		if ap.NodeID == nodeID {
			fields = ap.Fields
			if fields == nil {
				fields = &schema.Type{Kind: schema.Object}
			}
		}
	}
	for _, kv := range pairs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, exitf(ExitUsage, "--input %q: want name=value", kv)
		}
		if fields == nil {
			data[k] = parseLoose(v)
			continue
		}
		f := fields.Field(k)
		if f == nil {
			return nil, exitf(ExitUsage, "--input %s: approval %s declares no output field %q; its fields are: %s", kv, nodeID, k, fieldList(fields))
		}
		val, err := schema.Coerce(f.Type, v, nodeID+"."+k)
		if err != nil {
			return nil, exitf(ExitUsage, "--input %s: %v", kv, err)
		}
		data[k] = val
	}
	return data, nil
}

// parseLoose reads a command-line value as JSON when it is JSON, and as
// a string otherwise.
func parseLoose(s string) any {
	if v, err := schema.DecodeJSONFrom(strings.NewReader(s)); err == nil {
		return v
	}
	return s
}

func (a *app) newSignalCmd() *cobra.Command {
	var (
		f    humanFlags
		data string
	)
	cmd := &cobra.Command{
		Use:   "signal RUN_ID NAME",
		Short: "Send a signal to a run's event",
		Long: `Send a named signal with JSON data. An event node waiting for that name
consumes it; a signal sent before its event starts waiting is kept and
consumed when it does. Continues the run like approve does.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			mode, err := f.validate()
			if err != nil {
				return err
			}
			var payload any = map[string]any{}
			if data != "" {
				if payload, err = schema.DecodeJSONFrom(strings.NewReader(data)); err != nil {
					return exitf(ExitUsage, "--data: %v", err)
				}
			}
			ctx := cmd.Context()
			s, eng, done, err := a.sessionEngine(ctx, &f.sessionFlags, mode)
			if err != nil {
				return err
			}
			defer done()
			if !f.noContinue {
				s.begin(ctx, eng, args[0], nil)
				defer s.abort()
			}
			sum, err := eng.RunSummary(ctx, args[0])
			if err != nil {
				return a.runError(args[0], err)
			}
			cont := !f.noContinue && mode == runtime.WaitAuto // the engine continues in wait mode auto
			r, err := eng.Signal(ctx, args[0], args[1], payload, cont)
			if errors.Is(err, runtime.ErrInvalidSignal) {
				return exitf(ExitUsage, "%v; nothing was recorded: send data that fits the event's output", err)
			}
			if errors.Is(err, runtime.ErrRunFinished) {
				return exitf(ExitUsage, "%v", err)
			}
			if err != nil {
				return s.runError(args[0], err)
			}
			for _, w := range r.Warnings {
				fmt.Fprintf(a.stderr, "smithc: warning: %s\n", w)
			}
			if !f.noContinue && !cont {
				if r, err = continueIn(ctx, eng, r, mode); err != nil {
					return s.runError(args[0], err)
				}
			}
			if f.noContinue || ended(sum.Status, r) {
				s.abort()
				return a.recorded(f.format, r, fmt.Sprintf("signal %q", args[1]))
			}
			return s.finish(ctx, eng, r)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&data, "data", "", "the signal's data as JSON")
	return cmd
}

func (a *app) newCancelCmd() *cobra.Command {
	var (
		f      dbFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "cancel RUN_ID",
		Short: "Cancel a run, in this process or another",
		Long: `Cancel a run through the store: a process executing it sees the request
within a second, cancels its in-flight attempts (killing their process
groups) and ends the run cancelled. A cancelled run can be resumed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := a.openStore(ctx, &f)
			if err != nil {
				return err
			}
			defer st.Close()
			eng, err := a.newEngine(st, engineOptions{})
			if err != nil {
				return err
			}
			r, err := eng.Cancel(ctx, args[0])
			if err != nil {
				return a.runError(args[0], err)
			}
			if r.Status == store.RunCancelled || r.Status.Terminal() {
				a.printResult(format, r, nil)
				return nil
			}
			if format == "json" {
				return writeJSON(a.stdout, map[string]any{"run_id": r.RunID, "status": r.Status, "cancel_requested": true})
			}
			a.printf("cancel requested for run %s; the process running it stops it within a second\n", r.RunID)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "result format: text or json")
	return cmd
}

func (a *app) newPauseCmd() *cobra.Command {
	var (
		f      dbFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "pause RUN_ID",
		Short: "Pause a run: no new attempts start; resume continues it",
		Long: `Pause a run through the store, so it works on a run executing in another
process: that process sees the request within a second, starts no new
attempt, lets the running ones finish (their outputs are committed), and
ends the run paused (exit 3). A run nobody executes (waiting, or left by a
process that stopped) is marked paused at once. smithc resume RUN_ID
continues a paused run.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := a.openStore(ctx, &f)
			if err != nil {
				return err
			}
			defer st.Close()
			eng, err := a.newEngine(st, engineOptions{})
			if err != nil {
				return err
			}
			r, err := eng.Pause(ctx, args[0])
			if err != nil {
				return a.runError(args[0], err)
			}
			if r.LiveOwner == "" {
				a.printResult(format, r, nil)
				return nil
			}
			if format == "json" {
				return writeJSON(a.stdout, map[string]any{"run_id": r.RunID, "status": r.Status, "pause_requested": true})
			}
			a.printf("pause requested for run %s; process %s starts no new attempt and pauses it once the running ones finish\n", r.RunID, r.LiveOwner)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "result format: text or json")
	return cmd
}

func (a *app) newForkCmd() *cobra.Command {
	var (
		f       sessionFlags
		from    string
		runID   string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "fork RUN_ID --from NODE",
		Short: "Start a new run that keeps what a run finished before a node",
		Long: `Make a new run of RUN_ID's workflow, with its input and its stored program
(not the file as it is now), that keeps every node RUN_ID finished or
skipped except NODE and what depends on it (what retry would reset), and
run it from there. RUN_ID is not changed. The kept nodes keep their
outputs and times, kept approvals their decisions; nodes that had not
finished run in the new run.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mode, err := f.validate()
			if err != nil {
				return err
			}
			if from == "" {
				return exitf(ExitUsage, "fork needs --from NODE: the node the new run starts again from (see `smithc inspect %s`)", args[0])
			}
			ctx := cmd.Context()
			s, eng, done, err := a.sessionEngine(ctx, &f, mode)
			if err != nil {
				return err
			}
			defer done()
			if runID == "" {
				runID = runtime.NewRunID()
			}
			_, wf, _ := eng.RunProgram(ctx, args[0]) // best effort: the live view's shape
			s.begin(ctx, eng, "", wf)
			defer s.abort()
			r, err := eng.Fork(ctx, args[0], runtime.ForkParams{From: from, RunID: runID, Wait: s.engineMode(), Timeout: timeout})
			if errors.Is(err, runtime.ErrNotCreated) && errors.Is(err, store.ErrConflict) {
				return exitf(ExitUsage, "run id %q is taken; fork into another with --run-id, or resume that run with `smithc resume %s`", runID, runID)
			}
			if errors.Is(err, runtime.ErrInvalidRunID) {
				return exitf(ExitUsage, "%s", runtime.UserText(err.Error()))
			}
			if err != nil {
				return s.runError(args[0], err)
			}
			return s.finish(ctx, eng, r)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&from, "from", "", "the node the new run starts again from (it and what depends on it run; the rest is kept)")
	cmd.Flags().StringVar(&runID, "run-id", "", "the new run's id (default: a new one)")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "a run deadline for the new run (e.g. 30m)")
	return cmd
}

func (a *app) newRetryCmd() *cobra.Command {
	var (
		f       sessionFlags
		force   bool
		source  string
		scope   string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "retry RUN_ID NODE",
		Short: "Reset a node and everything that depends on it, then resume",
		Long: `Reset NODE (and every node that depends on it by graph edges) to pending,
then resume the run. Other finished nodes stay as they are. This is also
how a denied approval is re-opened. With --source FILE the run first adopts
an edited file, as resume --source does, and NODE runs from it.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			mode, err := f.validate()
			if err != nil {
				return err
			}
			if force {
				return errForceGone(args[0])
			}
			p, err := a.adoptParams(source)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			s, eng, done, err := a.sessionEngine(ctx, &f, mode)
			if err != nil {
				return err
			}
			defer done()
			s.begin(ctx, eng, args[0], nil)
			defer s.abort()
			p.Wait, p.Timeout, p.Scope = s.engineMode(), timeout, scope
			r, err := eng.Retry(ctx, args[0], args[1], p)
			if err != nil {
				return s.runError(args[0], err)
			}
			return s.finish(ctx, eng, r)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&source, "source", "", "adopt this edited .smw file first (see resume --source)")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "a new run deadline for this session, from now (e.g. 30m)")
	cmd.Flags().StringVar(&scope, "scope", "", "re-open one instance of a node inside a for or loop (the scope inspect shows); default: every instance")
	cmd.Flags().BoolVar(&force, "force", false, "replaced by --source FILE")
	_ = cmd.Flags().MarkHidden("force") // the flag exists to say what replaced it
	return cmd
}
