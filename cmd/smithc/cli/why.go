package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

// waitCommand is the command that moves a wait on.
func waitCommand(w *runtime.Wait) string {
	switch w.Kind {
	case runtime.WaitApproval:
		target := w.NodeID
		if w.Ambiguous && w.Scope != "" {
			target += " --scope '" + w.Scope + "'"
		}
		return fmt.Sprintf("smithc approve %s %s [--note ...]   or   smithc deny %s %s", w.RunID, target, w.RunID, target)
	case runtime.WaitEvent:
		name := w.Signal
		if name == "" {
			name = "NAME"
		}
		return fmt.Sprintf("smithc signal %s %s --data '{...}'", w.RunID, name)
	case runtime.WaitTimer:
		return fmt.Sprintf("smithc resume %s continues it once it is due (or run with --wait auto or always)", w.RunID)
	}
	return fmt.Sprintf("smithc resume %s continues it", w.RunID)
}

// writeWaits prints what a run waits on, and the command that moves each
// wait on. With now set, it adds since when.
func writeWaits(out io.Writer, runID string, ws []*runtime.Wait, now time.Time) {
	for _, w := range ws {
		what := ""
		switch w.Kind {
		case runtime.WaitApproval:
			what = "approval " + w.NodeID
			if w.Scope != "" && w.Ambiguous {
				what += " (" + w.Scope + ")"
			}
		case runtime.WaitEvent:
			what = fmt.Sprintf("event %s (signal %q)", w.NodeID, w.Signal)
		case runtime.WaitTimer:
			what = "timer " + w.NodeID
		case runtime.WaitPaused:
			what = "a resume: the run was paused (smithc pause)"
		default:
			what = w.Kind
		}
		if w.RunID != runID {
			what += fmt.Sprintf(" of child run %s (called by step %s)", w.RunID, w.Via)
		}
		line := "  waiting for " + what
		if w.Title != "" {
			line += ": " + w.Title
		}
		if !now.IsZero() && !w.Since.IsZero() {
			line += fmt.Sprintf(" — since %s (%s)", w.Since.Local().Format(time.DateTime), roundDuration(now.Sub(w.Since).Truncate(time.Second)))
		}
		if !w.Deadline.IsZero() {
			verb := "times out at"
			if w.Kind == runtime.WaitTimer {
				verb = "due at"
			}
			line += fmt.Sprintf(", %s %s", verb, w.Deadline.Local().Format(time.DateTime))
		}
		fmt.Fprintf(out, "%s\n    %s\n", line, waitCommand(w))
	}
}

// waitsJSON is the "waiting" list of JSON results and inspect.
func waitsJSON(ws []*runtime.Wait) []map[string]any {
	out := []map[string]any{}
	for _, w := range ws {
		out = append(out, map[string]any{
			"run_id": w.RunID, "via": nullIfEmpty(w.Via), "node": w.NodeID, "scope": w.Scope, "kind": w.Kind,
			"title": nullIfEmpty(w.Title), "signal": nullIfEmpty(w.Signal), "since": timeOrNil(w.Since),
			"deadline": timeOrNil(w.Deadline), "command": w.Command(),
		})
	}
	return out
}

func (a *app) newWhyCmd() *cobra.Command {
	var (
		f      dbFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "why RUN_ID",
		Short: "Say what a run waits on, since when, and the command that moves it on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
			}
			ctx := cmd.Context()
			return a.withEngine(ctx, &f, true, func(eng *runtime.Engine) error { return a.why(ctx, eng, args[0], format) })
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

func (a *app) why(ctx context.Context, eng *runtime.Engine, runID, format string) error {
	run, err := eng.RunSummary(ctx, runID)
	if err != nil {
		return a.runError(runID, err)
	}
	ws, err := eng.Waits(ctx, runID)
	if err != nil {
		return exitf(ExitFailed, "%v", err)
	}
	next := whyNext(run, ws)
	if run.Status == store.RunFailed {
		if loop := failedLoop(ctx, eng, runID); loop != "" {
			next = fmt.Sprintf("loop %s reached its max_iterations: `smithc retry %s %s` runs it again from its first iteration (resume would fail the same way)", loop, run.ID, loop)
		}
	}
	if format == "json" {
		return writeJSON(a.stdout, map[string]any{"run_id": run.ID, "status": run.Status, "error": nullIfEmpty(run.Error),
			"owner": nullIfEmpty(liveName(run)), "waiting_since": timeOrNil(run.WaitingSince), "waiting": waitsJSON(ws), "next": nullIfEmpty(next)})
	}
	now := time.Now()
	head := fmt.Sprintf("run %s is %s", run.ID, run.Status)
	if !run.WaitingSince.IsZero() {
		head += fmt.Sprintf(" since %s (%s)", run.WaitingSince.Local().Format(time.DateTime), roundDuration(now.Sub(run.WaitingSince).Truncate(time.Second)))
	}
	if o := liveName(run); o != "" {
		head += " in process " + o
	}
	a.printf("%s\n", head)
	if run.Error != "" {
		a.printf("  %s\n", run.Error)
	}
	writeWaits(a.stdout, run.ID, ws, now)
	if next != "" {
		a.printf("  %s\n", next)
	}
	return nil
}

// liveName is the live owner of a run, "" when none.
func liveName(run *runtime.RunSummary) string {
	if run.OwnerLive {
		return run.Owner
	}
	return ""
}

// whyNext says what moves a run on when no wait does.
func whyNext(run *runtime.RunSummary, ws []*runtime.Wait) string {
	switch {
	case run.Status == store.RunFinished:
		return "it finished: nothing to do"
	case run.Status == store.RunCancelled:
		return fmt.Sprintf("it was cancelled: `smithc resume %s` continues it", run.ID)
	case run.Status == store.RunFailed:
		return fmt.Sprintf("it failed: fix the cause, then `smithc resume %s` (or `smithc retry %s NODE`)", run.ID, run.ID)
	case len(ws) > 0:
		if run.OwnerLive {
			return fmt.Sprintf("process %s picks up a decision or signal within a second", run.Owner)
		}
		return ""
	case run.OwnerLive:
		return fmt.Sprintf("it is executing; `smithc logs %s -f` follows it", run.ID)
	case run.Owner == "" && run.Status == store.RunRunning:
		// Created with run --detach, and no worker has claimed it yet.
		return fmt.Sprintf("it is queued: no process has claimed it yet; a worker (`smithc worker`) on this store picks it up, or `smithc resume %s` runs it here", run.ID)
	}
	return fmt.Sprintf("no process executes it (it was left by one that stopped): `smithc resume %s` continues it", run.ID)
}
