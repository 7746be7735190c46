package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/smithc/smithc/compiler"
	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/pgstore"
	"github.com/smithc/smithc/runtime/worker"
)

func (a *app) newWorkerCmd() *cobra.Command {
	var (
		f              dbFlags
		concurrency    int
		tasks          int
		local          bool
		maxConcurrency int
		metricsAddr    string
		poll           time.Duration
		lease          time.Duration
		drain          time.Duration
	)
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Execute runs from the store until stopped (detached runs, takeovers, decisions, timers)",
		Long: `Claim and execute runs from the store until SIGTERM or SIGINT: runs started with
'smithc run --detach', runs whose process died or whose lease expired (their
attempts in flight are retried), waiting runs whose approval was decided or
whose signal arrived, and runs waiting on a timer. Any number of workers on
any number of machines may share one PostgreSQL database (or, on one machine,
a SQLite file); each run is held by one worker at a time.

On PostgreSQL the steps are shared too: the worker holding a run decides
what runs next, and each attempt of a step with an effect (shell, http,
agent) is queued as a task that any worker claims (up to --tasks at once),
so one run's fan-out spreads over all workers. A task's lease and fencing
token make sure a worker stopped past its lease cannot store a late result.

Workers wake at once on PostgreSQL notifications and poll every --poll.
SIGTERM drains: no new claims, runs under way get --drain-timeout to finish
or wait, the rest are handed back to the other workers; exit 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if concurrency < 1 || tasks < 1 {
				return exitf(ExitUsage, "--concurrency and --tasks must be at least 1")
			}
			if maxConcurrency < 0 || poll < 0 || lease < 0 || drain < 0 {
				return exitf(ExitUsage, "--max-concurrency, --poll, --lease and --drain-timeout must be positive")
			}
			ctx := cmd.Context()
			st, err := a.openStore(ctx, &f)
			if err != nil {
				if ctx.Err() != nil {
					return nil // stopped while starting: nothing was claimed
				}
				return err
			}
			defer st.Close()
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			registerCheckpoints(reg, st)
			metrics := worker.NewMetrics(reg)
			owner := workerOwner()
			var w *worker.Worker
			observe := func(e store.Event) { w.Observe(e) } // events come only once w runs
			eng, err := a.newEngine(st, engineOptions{maxConcurrency: maxConcurrency, observe: observe, owner: owner, lease: lease,
				distribute: !local})
			if err != nil {
				return err
			}
			logf := func(format string, args ...any) {
				fmt.Fprintf(a.stderr, "%s worker %s: %s\n", time.Now().Format("15:04:05.000"), owner, fmt.Sprintf(format, args...))
			}
			if metricsAddr != "" {
				l, err := net.Listen("tcp", metricsAddr)
				if err != nil {
					return exitf(ExitUsage, "--metrics-addr %s: %v", metricsAddr, err)
				}
				srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
				go srv.Serve(l) //nolint:errcheck // ends with Close
				defer srv.Close()
				logf("metrics on http://%s/metrics", l.Addr())
			}
			w, err = worker.New(worker.Config{Engine: eng, Concurrency: concurrency, Tasks: tasks, PollInterval: poll,
				DrainTimeout: drain, Metrics: metrics, Logf: logf})
			if err != nil {
				return exitf(ExitFailed, "%v", err)
			}
			if eng.Distributes() {
				logf("started on %s (%d runs and %d steps of any run at once)", storeName(&f), concurrency, tasks)
			} else {
				logf("started on %s (%d runs at once, each executing its own steps)", storeName(&f), concurrency)
			}
			if err := w.Run(ctx); err != nil {
				return exitf(ExitFailed, "%v", err)
			}
			logf("stopped")
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&concurrency, "concurrency", worker.DefaultConcurrency, "runs executed at once by this worker")
	cmd.Flags().IntVar(&tasks, "tasks", worker.DefaultTasks, "steps (of any run, on PostgreSQL) executed at once by this worker")
	cmd.Flags().BoolVar(&local, "local-steps", false, "execute the steps of the runs this worker holds itself, rather than sharing them with all workers (the only way on SQLite)")
	cmd.Flags().IntVar(&maxConcurrency, "max-concurrency", 0, fmt.Sprintf("attempts running at once in each run (default %d)", runtime.DefaultMaxConcurrency))
	cmd.Flags().StringVar(&metricsAddr, "metrics-addr", "", "serve Prometheus metrics at this address (e.g. :9464 or 127.0.0.1:9464)")
	cmd.Flags().DurationVar(&poll, "poll", worker.DefaultPollInterval, "how often to scan the store without a notification")
	cmd.Flags().DurationVar(&lease, "lease", runtime.DefaultLeaseDuration, "lease of the runs this worker holds: another worker takes a run over this long after this one stops renewing it")
	cmd.Flags().DurationVar(&drain, "drain-timeout", worker.DefaultDrainTimeout, "on SIGTERM, how long runs under way may take before they are handed back")
	return cmd
}

// workerOwner names this worker in leases: "pid@host/worker-XXXXXX" with
// a random suffix, so that every other process, on this machine or not,
// judges the worker's runs by their lease alone rather than by whether the
// pid is alive: a worker that is stopped, hung or cut off loses its runs
// when its lease expires, as a worker on another machine would.
func workerOwner() runtime.Owner {
	o := runtime.CurrentOwner()
	var b [3]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand does not fail on Linux
	o.Host += "/worker-" + hex.EncodeToString(b[:])
	return o
}

func storeName(f *dbFlags) string {
	p := f.path()
	if isPostgresURL(p) {
		return pgstore.Redact(p)
	}
	return p
}

// detachRun creates the run for a worker to execute and prints its id.
func (a *app) detachRun(ctx context.Context, st store.Store, f *sessionFlags, res *compiler.Result, wf *ir.Workflow,
	input map[string]any, runID, file string, timeout time.Duration) error {
	if timeout > 0 {
		return exitf(ExitUsage, "--timeout cannot be combined with --detach: the worker applies the workflow's own timeout")
	}
	eng, err := a.newEngine(st, engineOptions{})
	if err != nil {
		return err
	}
	out, err := eng.Start(ctx, runtime.StartParams{Program: res.Program, Workflow: wf.Name, Input: input, RunID: runID,
		SourcePath: absPath(file), Sources: sourcesOf(res), Detach: true})
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return exitf(ExitUsage, "run id %q is taken; resume it with `smithc resume %s`", runID, runID)
		}
		return exitf(ExitFailed, "%v", err)
	}
	if f.format == "json" {
		b, _ := json.Marshal(map[string]any{"run_id": out.RunID, "status": out.Status})
		a.printf("%s\n", b)
	} else {
		a.printf("%s\n", out.RunID)
	}
	db := ""
	if f.db != "" {
		db = " --db " + storeName(&f.dbFlags)
	}
	fmt.Fprintf(a.stderr, "run %s is queued for a worker (smithc worker%s); follow it with: smithc logs -f %s%s\n",
		out.RunID, db, out.RunID, db)
	return nil
}
