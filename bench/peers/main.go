// Command peers measures smithc next to Temporal on the same workload: a
// chain of N sequential compute steps, each adding one to the previous
// one's result.
//
//   - Temporal: one workflow whose body calls N local activities one after
//     the other, on a dev server (temporal server start-dev, SQLite) that
//     is already running, with a warm worker in this process. Timed from
//     ExecuteWorkflow to the workflow's result.
//   - Temporal, fresh worker process: what `smithc run` is to the smithc
//     engine: a new process (this program with -once) that dials the same
//     warm server, starts a worker on a task queue of its own, executes
//     the workflow, waits for its result, stops the worker and exits.
//     Timed from exec to exit, as the smithc whole-process figure is.
//   - smithc, whole process: `smithc run chain.smw` on an existing store,
//     a fresh process each time (start-up, compile, open, run, exit
//     included), stdout and stderr to pipes.
//   - smithc, in process: the engine of this module (runtime.Engine over
//     an open SQLite store, the standard library's actions) starting the
//     same compiled chain, as the Temporal figure has a warm worker.
//
// Each figure is the median of -reps runs after one warm-up. bench/peers/run.sh
// installs the Temporal CLI, starts the dev server and runs this; see
// bench/peers/README.md.
//
// Usage:
//
//	peers -temporal 127.0.0.1:7233 -smithc bin/smithc -n 1000 -reps 5
//	peers -freeport     # prints a free TCP port on 127.0.0.1
//	peers -once -temporal 127.0.0.1:7233 -n 1000 -queue Q   # one fresh worker run
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/smithc/smithc/compiler"
	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
	"github.com/smithc/smithc/stdlib"
)

const taskQueue = "smithc-bench-peers"

// Chain runs n local activities in sequence, each on the previous one's
// result.
func Chain(ctx workflow.Context, n int) (int, error) {
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	v := 0
	for i := 0; i < n; i++ {
		if err := workflow.ExecuteLocalActivity(ctx, Step, v).Get(ctx, &v); err != nil {
			return 0, err
		}
	}
	return v, nil
}

// Step is the compute step: it adds one.
func Step(_ context.Context, v int) (int, error) { return v + 1, nil }

// chainSource is the smithc chain of n compute steps: s0 = 1, then each
// step adds one to the one before it.
func chainSource(n int) string {
	var b strings.Builder
	b.WriteString("workflow chain {\n  step s0 {\n    value = 1\n  }\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "  step s%d {\n    value = s%d + 1\n  }\n", i, i-1)
	}
	fmt.Fprintf(&b, "  output = s%d\n}\n", n-1)
	return b.String()
}

func main() {
	address := flag.String("temporal", "", "the Temporal dev server's frontend (host:port); empty: measure smithc only")
	smithc := flag.String("smithc", "", "the smithc binary for the whole-process figure; empty: no whole-process figure")
	n := flag.Int("n", 1000, "steps (local activities) in the chain")
	reps := flag.Int("reps", 5, "measured runs of each figure, after one warm-up")
	wait := flag.Duration("wait", 90*time.Second, "how long to wait for the Temporal server to answer")
	freeport := flag.Bool("freeport", false, "print a free TCP port on 127.0.0.1 and exit")
	once := flag.Bool("once", false, "run the chain once with a worker of this process on -queue, print its result and exit (the fresh-process figure)")
	queue := flag.String("queue", "", "the task queue of -once")
	flag.Parse()
	if *once {
		if err := chainOnce(*address, *queue, *n); err != nil {
			fail(err)
		}
		return
	}
	if *freeport {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fail(err)
		}
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
		l.Close()
		return
	}
	if *n < 1 || *reps < 1 {
		fail(errors.New("-n and -reps must be at least 1"))
	}
	dir, err := os.MkdirTemp("", "smithc-peers-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)

	// Each figure's runs are interleaved with the others' (a warm-up of
	// each, then one run of each per round): the shared machine's load
	// then weighs on all of them alike, and the ratios hold.
	var figs []*figure
	var cleanups []func()
	defer func() {
		for _, c := range cleanups {
			c()
		}
	}()
	add := func(f *figure, cleanup func(), err error) {
		if cleanup != nil {
			cleanups = append(cleanups, cleanup)
		}
		if err != nil {
			for _, c := range cleanups {
				c()
			}
			fail(err)
		}
		figs = append(figs, f)
	}
	var whole, inProc, temporalWarm, temporalFresh *figure
	if *smithc != "" {
		f, err := smithcWhole(*smithc, dir, *n)
		whole = f
		add(f, nil, err)
	}
	f, cleanup, err := smithcInProcess(dir, *n)
	inProc = f
	add(f, cleanup, err)
	if *address != "" {
		f, cleanup, err := temporalChain(*address, *n, *wait)
		temporalWarm = f
		add(f, cleanup, err)
		f, err = temporalFreshProcess(*address, *n)
		temporalFresh = f
		add(f, nil, err)
	}
	if err := measureAll(figs, *reps); err != nil {
		for _, c := range cleanups {
			c()
		}
		fail(err)
	}

	fmt.Printf("\n%d sequential compute steps, medians of %d interleaved runs:\n", *n, *reps)
	for _, t := range []*figure{temporalWarm, temporalFresh} {
		if t != nil {
			fmt.Printf("  %-40s %9.2f ms  %7.1f µs/step\n", t.name, ms(t.med), us(t.med, *n))
		}
	}
	for _, f := range []*figure{whole, inProc} {
		if f == nil {
			continue
		}
		line := fmt.Sprintf("  %-40s %9.2f ms  %7.1f µs/step", f.name, ms(f.med), us(f.med, *n))
		if temporalWarm != nil {
			line += fmt.Sprintf("  Temporal warm worker/smithc = %.1f×", float64(temporalWarm.med)/float64(f.med))
			if f == whole {
				line += fmt.Sprintf(", Temporal fresh process/smithc = %.1f×", float64(temporalFresh.med)/float64(f.med))
			}
		}
		fmt.Println(line)
	}
	if temporalWarm != nil {
		fmt.Printf("target: smithc at least 5× faster than Temporal local activities: in process against the warm worker %s",
			verdict(float64(temporalWarm.med) >= 5*float64(inProc.med)))
		if whole != nil {
			fmt.Printf("; whole process against a fresh worker process %s; whole process against the warm worker %s",
				verdict(float64(temporalFresh.med) >= 5*float64(whole.med)), verdict(float64(temporalWarm.med) >= 5*float64(whole.med)))
		}
		fmt.Println()
	}
}

// figure is one measured figure: run runs it once.
type figure struct {
	name string
	run  func() (time.Duration, error)
	med  time.Duration
}

// measureAll runs each figure once to warm up, then reps rounds of one
// run of each, printing every run, and sets their medians.
func measureAll(figs []*figure, reps int) error {
	runs := make([][]time.Duration, len(figs))
	for i := -1; i < reps; i++ {
		for k, f := range figs {
			d, err := f.run()
			if err != nil {
				return fmt.Errorf("%s: %w", f.name, err)
			}
			if i < 0 {
				fmt.Printf("%s: warm-up %.2f ms\n", f.name, ms(d))
				continue
			}
			fmt.Printf("%s: run %d %.2f ms\n", f.name, i+1, ms(d))
			runs[k] = append(runs[k], d)
		}
	}
	for k, f := range figs {
		f.med = median(runs[k])
	}
	return nil
}
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "peers: %v\n", err)
	os.Exit(1)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func us(d time.Duration, n int) float64 { return float64(d) / 1e3 / float64(n) }

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// smithcWhole times `smithc run chain.smw` as a fresh process on a store
// that exists (the warm-up creates it).
func smithcWhole(bin, dir string, n int) (*figure, error) {
	src := filepath.Join(dir, "chain.smw")
	if err := os.WriteFile(src, []byte(chainSource(n)), 0o644); err != nil {
		return nil, err
	}
	db := filepath.Join(dir, "whole.db")
	want := fmt.Sprintf("\n%d\n", n)
	return &figure{name: "smithc run, whole process", run: func() (time.Duration, error) {
		cmd := exec.Command(bin, "run", src, "--db", db)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		t0 := time.Now()
		err := cmd.Run()
		d := time.Since(t0)
		if err != nil {
			return 0, fmt.Errorf("%v\n%s%s", err, out.String(), errb.String())
		}
		if !strings.HasSuffix(out.String(), want) {
			return 0, fmt.Errorf("the chain's output is not %d:\n%s", n, out.String())
		}
		return d, nil
	}}, nil
}

// smithcInProcess times the engine starting the compiled chain on an open
// store.
func smithcInProcess(dir string, n int) (*figure, func(), error) {
	src := filepath.Join(dir, "chain.smw")
	if err := os.WriteFile(src, []byte(chainSource(n)), 0o644); err != nil {
		return nil, nil, err
	}
	res := compiler.Build(src, &compiler.Config{Checker: checker.Config{Actions: stdlib.Specs()}})
	if res.Program == nil {
		return nil, nil, fmt.Errorf("the chain does not compile: %v", res.Diagnostics)
	}
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, "inproc.db"), sqlitestore.Options{})
	if err != nil {
		return nil, nil, err
	}
	closeStore := func() { st.Close() }
	eng, err := runtime.New(runtime.Config{Store: st, Actions: stdlib.Actions(stdlib.Config{}), Dir: dir})
	if err != nil {
		return nil, closeStore, err
	}
	return &figure{name: "smithc engine, in process", run: func() (time.Duration, error) {
		t0 := time.Now()
		out, err := eng.Start(ctx, runtime.StartParams{Program: res.Program})
		d := time.Since(t0)
		if err != nil {
			return 0, err
		}
		if out.Status != store.RunFinished || fmt.Sprint(out.Output) != fmt.Sprint(n) {
			return 0, fmt.Errorf("the run ended %s with output %v, want finished with %d", out.Status, out.Output, n)
		}
		return d, nil
	}}, closeStore, nil
}

// temporalChain times the Chain workflow on the server at address, with
// a worker in this process.
func temporalChain(address string, n int, wait time.Duration) (*figure, func(), error) {
	quiet := log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	var c client.Client
	deadline := time.Now().Add(wait)
	for {
		var err error
		c, err = client.Dial(client.Options{HostPort: address, Namespace: "default", Logger: quiet})
		if err == nil {
			_, err = c.CheckHealth(context.Background(), &client.CheckHealthRequest{})
			if err == nil {
				break
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("the Temporal server at %s did not answer within %s: %w", address, wait, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(Chain)
	w.RegisterActivity(Step)
	if err := w.Start(); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("start the worker: %w", err)
	}
	stop := func() { w.Stop(); c.Close() }

	i := 0
	return &figure{name: "Temporal local activities (warm worker)", run: func() (time.Duration, error) {
		i++
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		t0 := time.Now()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID:        fmt.Sprintf("chain-%d-%d", time.Now().UnixNano(), i),
			TaskQueue: taskQueue,
		}, Chain, n)
		if err != nil {
			return 0, fmt.Errorf("start the workflow: %w", err)
		}
		var got int
		if err := run.Get(ctx, &got); err != nil {
			return 0, fmt.Errorf("workflow %s: %w", run.GetID(), err)
		}
		d := time.Since(t0)
		if got != n {
			return 0, fmt.Errorf("the chain returned %d, want %d", got, n)
		}
		return d, nil
	}}, stop, nil
}

// temporalFreshProcess times this program with -once, a fresh process
// each run (exec to exit, stdout and stderr to pipes) on a task queue of
// its own, so that no other worker takes its workflow.
func temporalFreshProcess(address string, n int) (*figure, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	i := 0
	want := fmt.Sprintf("%d\n", n)
	return &figure{name: "Temporal, fresh worker process", run: func() (time.Duration, error) {
		i++
		queue := fmt.Sprintf("%s-once-%d-%d", taskQueue, os.Getpid(), i)
		cmd := exec.Command(self, "-once", "-temporal", address, "-n", fmt.Sprint(n), "-queue", queue)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		t0 := time.Now()
		err := cmd.Run()
		d := time.Since(t0)
		if err != nil {
			return 0, fmt.Errorf("%v\n%s%s", err, out.String(), errb.String())
		}
		if out.String() != want {
			return 0, fmt.Errorf("the chain's output is not %d:\n%s", n, out.String())
		}
		return d, nil
	}}, nil
}

// chainOnce is -once: what a one-shot command does with Temporal. It
// dials the server, starts a worker on queue, executes the chain, prints
// its result and stops the worker.
func chainOnce(address, queue string, n int) error {
	if address == "" || queue == "" {
		return errors.New("-once needs -temporal and -queue")
	}
	quiet := log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	c, err := client.Dial(client.Options{HostPort: address, Namespace: "default", Logger: quiet})
	if err != nil {
		return err
	}
	defer c.Close()
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflow(Chain)
	w.RegisterActivity(Step)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start the worker: %w", err)
	}
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "chain-" + queue, TaskQueue: queue}, Chain, n)
	if err != nil {
		return fmt.Errorf("start the workflow: %w", err)
	}
	var got int
	if err := run.Get(ctx, &got); err != nil {
		return fmt.Errorf("workflow %s: %w", run.GetID(), err)
	}
	fmt.Println(got)
	return nil
}
