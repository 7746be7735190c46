package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

// sessionFlags are shared by the commands that execute a run.
type sessionFlags struct {
	dbFlags
	format         string
	wait           string
	progress       string
	maxConcurrency int
}

func (f *sessionFlags) register(cmd *cobra.Command) {
	f.dbFlags.register(cmd)
	cmd.Flags().StringVar(&f.durability, "durability", "", "normal: a commit survives a crash of the process; full: every step is fsynced and survives power loss (default $SMITHC_DURABILITY or normal)")
	cmd.Flags().StringVar(&f.format, "format", "text", "result format: text or json (one JSON object on stdout)")
	cmd.Flags().StringVar(&f.wait, "wait", "auto", "auto: wait through timers (and, at a terminal, prompt for approvals); always: wait for everything; never: stop at the first wait")
	cmd.Flags().StringVar(&f.progress, "progress", "auto", "auto: a live node tree at a terminal, plain lines otherwise; plain: one line per event; quiet: only the result")
	cmd.Flags().IntVar(&f.maxConcurrency, "max-concurrency", 0, fmt.Sprintf("attempts running at once in the run (default %d)", runtime.DefaultMaxConcurrency))
}

func (f *sessionFlags) validate() (runtime.WaitMode, error) {
	if f.format != "text" && f.format != "json" {
		return 0, exitf(ExitUsage, "--format must be text or json, not %q", f.format)
	}
	if f.progress != "auto" && f.progress != "plain" && f.progress != "quiet" {
		return 0, exitf(ExitUsage, "--progress must be auto, plain or quiet, not %q", f.progress)
	}
	if f.maxConcurrency < 0 {
		return 0, exitf(ExitUsage, "--max-concurrency must be positive")
	}
	m, err := runtime.ParseWaitMode(f.wait)
	if err != nil {
		return 0, exitf(ExitUsage, "--wait must be auto, always or never, not %q", f.wait)
	}
	return m, nil
}

func (a *app) newRunCmd() *cobra.Command {
	var (
		f         sessionFlags
		workflow  string
		inputs    []string
		inputFile string
		runID     string
		resume    bool
		force     bool
		timeout   time.Duration
		detach    bool
	)
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run a workflow durably",
		Long: `Check and run a workflow. Every step's output is validated and committed to
the store before anything with an effect outside the run starts (--durability
full: before the next step starts, fsynced); a run that crashes, is cancelled
or waits resumes where it stopped (smithc resume RUN_ID).

Exit status: 0 finished, 1 failed, 2 usage or check error, 3 waiting (an
approval, event or timer), 4 the store failed (disk full, locked too long;
the run is left resumable), 130 cancelled.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mode, err := f.validate()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if resume {
				if runID == "" {
					return exitf(ExitUsage, "--resume needs --run-id")
				}
				if force {
					return errForceGone(runID)
				}
				return a.resumeRun(ctx, &f, runID, mode, "", timeout)
			}
			if runID != "" {
				if err := runtime.ValidateRunID(runID); err != nil {
					return exitf(ExitUsage, "--run-id: %v", strings.TrimPrefix(err.Error(), "runtime: "))
				}
			}
			res, err := a.compileOrReport(args[0], ExitUsage)
			if err != nil {
				return err
			}
			wf, err := pickWorkflow(res.Program, workflow)
			if err != nil {
				return err
			}
			input, err := readInputs(wf, inputFile, inputs)
			if err != nil {
				return err
			}
			if timeout > 0 {
				wf.Timeout = timeout
			}
			st, err := a.openStore(ctx, &f.dbFlags)
			if err != nil {
				return err
			}
			defer st.Close()
			if detach {
				return a.detachRun(ctx, st, &f, res, wf, input, runID, args[0], timeout)
			}
			s := a.newSession(&f, mode)
			eng, err := a.newEngine(st, engineOptions{maxConcurrency: f.maxConcurrency, observe: s.observer()})
			if err != nil {
				return err
			}
			if runID == "" {
				// Known before the engine starts, so that a store failure
				// can name the run to resume.
				runID = newRunID()
			}
			s.begin(ctx, eng, "", wf)
			defer s.abort()
			out, err := eng.Start(ctx, runtime.StartParams{
				Program: res.Program, Workflow: wf.Name, Input: input, RunID: runID,
				SourcePath: absPath(args[0]), Sources: sourcesOf(res), Wait: s.engineMode(),
			})
			if err != nil {
				if errors.Is(err, store.ErrConflict) {
					return exitf(ExitUsage, "run id %q is taken; resume it with `smithc resume %s`", runID, runID)
				}
				if errors.Is(err, store.ErrUnavailable) {
					if errors.Is(err, runtime.ErrNotCreated) {
						return s.storeFailedUncreated(runID, args[0], err)
					}
					return s.storeFailed(runID, err)
				}
				return exitf(ExitFailed, "%v", err)
			}
			return s.finish(ctx, eng, out)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&workflow, "workflow", "w", "", "the workflow to run (needed when the file declares several)")
	cmd.Flags().StringArrayVarP(&inputs, "input", "i", nil, "an input as name=value, coerced by its declared type (repeatable)")
	cmd.Flags().StringVar(&inputFile, "input-file", "", "a JSON object of inputs (--input overrides its fields)")
	cmd.Flags().StringVar(&runID, "run-id", "", "the run's id (default: generated)")
	cmd.Flags().BoolVar(&resume, "resume", false, "resume the run given by --run-id (from its stored source) instead of starting one")
	cmd.Flags().BoolVar(&force, "force", false, "replaced by `smithc resume RUN_ID --source FILE`")
	_ = cmd.Flags().MarkHidden("force") // the flag exists to say what replaced it
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "run deadline, overriding the workflow's timeout (e.g. 30m)")
	cmd.Flags().BoolVar(&detach, "detach", false, "create the run and print its id without executing it: `smithc worker` executes it")
	return cmd
}

func (a *app) newResumeCmd() *cobra.Command {
	var (
		f       sessionFlags
		force   bool
		source  string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "resume RUN_ID",
		Short: "Resume a run where it stopped",
		Long: `Resume a run: its input is reloaded from the store, finished nodes are never
run again, attempts left running by a process that died are retried, and
failed nodes get a fresh retry budget. Resuming a finished run prints its
result.

A run continues from the source stored with it when it started: moving,
editing or deleting the .smw file does not affect it. To adopt an edited
file, name it with --source: the run's workflow must still be there;
nodes that finished stay finished (even if their definition changed:
smithc retry RUN_ID NODE --source FILE re-runs one), nodes the new file
no longer has are dropped, and everything else runs from the new file,
which becomes the run's stored source.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mode, err := f.validate()
			if err != nil {
				return err
			}
			if force {
				return errForceGone(args[0])
			}
			return a.resumeRun(cmd.Context(), &f, args[0], mode, source, timeout)
		},
	}
	f.register(cmd)
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "a new run deadline for this session, from now (e.g. 30m); continues a run that hit its deadline")
	cmd.Flags().StringVar(&source, "source", "", "adopt this edited .smw file as the run's source (see above)")
	cmd.Flags().BoolVar(&force, "force", false, "replaced by --source FILE")
	_ = cmd.Flags().MarkHidden("force") // the flag exists to say what replaced it
	return cmd
}

// errForceGone explains what replaced --force.
func errForceGone(runID string) error {
	return exitf(ExitUsage, "--force is gone: a run continues from the source stored with it; to adopt an edited file, `smithc resume %s --source FILE`", runID)
}

// adoptParams compiles the file a run adopts (--source); "" adopts
// nothing.
func (a *app) adoptParams(file string) (runtime.ResumeParams, error) {
	if file == "" {
		return runtime.ResumeParams{}, nil
	}
	res, err := a.compileOrReport(file, ExitUsage)
	if err != nil {
		return runtime.ResumeParams{}, err
	}
	return runtime.ResumeParams{Program: res.Program, Sources: sourcesOf(res)}, nil
}

func (a *app) resumeRun(ctx context.Context, f *sessionFlags, runID string, mode runtime.WaitMode, source string, timeout time.Duration) error {
	p, err := a.adoptParams(source)
	if err != nil {
		return err
	}
	p.Timeout = timeout
	s, eng, done, err := a.sessionEngine(ctx, f, mode)
	if err != nil {
		return err
	}
	defer done()
	s.begin(ctx, eng, runID, nil)
	defer s.abort()
	p.Wait = s.engineMode()
	out, err := eng.Resume(ctx, runID, p)
	if errors.Is(err, store.ErrUnavailable) {
		return s.storeFailed(runID, err)
	}
	if err != nil {
		return a.runError(runID, err)
	}
	return s.finish(ctx, eng, out)
}

// runError maps a runtime error about an existing run to an exit error;
// "no run" names the store it looked in.
func (a *app) runError(runID string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return exitf(ExitUsage, "no run %q in the store %s (see `smithc ps`, or give --db)", runID, a.storePath)
	case errors.Is(err, runtime.ErrUnknownNode):
		return exitf(ExitUsage, "%v", err)
	case errors.Is(err, store.ErrUnavailable):
		return exitf(ExitStore, "%v\n  what was committed stands; once the store is fixed, `smithc resume %s` continues the run", err, runID)
	case errors.Is(err, runtime.ErrRunLive):
		return exitf(ExitFailed, "%v; follow it with `smithc logs %s -f`, or stop it with `smithc cancel %s`", err, runID, runID)
	}
	return exitf(ExitFailed, "%v", err)
}

// printResult prints where a run stands: one JSON object with --format
// json (with what a waiting run waits on), otherwise a summary line and
// the output.
func (a *app) printResult(format string, r *runtime.Result, waits []*runtime.Wait) {
	if format == "json" {
		out := map[string]any{"run_id": r.RunID, "status": r.Status, "output": r.Output, "error": nullIfEmpty(r.Error)}
		if r.Status.Waiting() {
			out["waiting"] = waitsJSON(waits)
		}
		_ = writeJSON(a.stdout, out)
		return
	}
	switch {
	case r.Status == store.RunFinished:
		fmt.Fprintf(a.stdout, "run %s finished\n", r.RunID)
		if r.Output != nil {
			b, err := json.MarshalIndent(r.Output, "", "  ")
			if err == nil {
				fmt.Fprintf(a.stdout, "%s\n", b)
			}
		}
	case r.Status == store.RunFailed:
		fmt.Fprintf(a.stdout, "run %s failed: %s\n", r.RunID, r.Error)
	case r.Status == store.RunCancelled && r.TimedOut:
		fmt.Fprintf(a.stdout, "run %s cancelled: %s; `smithc resume %s --timeout DURATION` continues it with a new deadline\n", r.RunID, r.Error, r.RunID)
	case r.Status == store.RunCancelled:
		fmt.Fprintf(a.stdout, "run %s cancelled; `smithc resume %s` continues it\n", r.RunID, r.RunID)
	case r.Status == store.RunPaused:
		fmt.Fprintf(a.stdout, "run %s paused; `smithc resume %s` continues it\n", r.RunID, r.RunID)
	default:
		fmt.Fprintf(a.stdout, "run %s is %s\n", r.RunID, r.Status)
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// exitFor maps a run status to the process exit code.
func exitFor(s store.RunStatus) error {
	switch {
	case s == store.RunFinished:
		return nil
	case s == store.RunFailed:
		return &exitError{code: ExitFailed}
	case s == store.RunCancelled:
		return &exitError{code: ExitCancelled}
	case s.Waiting() || s == store.RunPaused:
		return &exitError{code: ExitWaiting}
	}
	return &exitError{code: ExitFailed}
}
