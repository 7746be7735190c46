// Command peers measures smithc next to Temporal on the same workload: a
// chain of N sequential compute steps, each adding one to the previous
// one's result.
//
//   - Temporal: one workflow whose body calls N local activities one after
//     the other, on a dev server (temporal server start-dev, SQLite) that
//     is already running, with a warm worker in this process. Timed from
//     ExecuteWorkflow to the workflow's result.
//   - Temporal, fresh worker process: what `smithc run` is to the smithc
//     engine: a new process (the one-shot worker program ./once, given as
//     -once) that dials the same warm server, starts a worker on a task
//     queue of its own, executes the workflow, waits for its result, stops
//     the worker and exits. Timed from exec to exit, as the smithc
//     whole-process figure is; it reports its phases, whose medians are
//     printed too.
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
//	peers -temporal 127.0.0.1:7233 -smithc bin/smithc -once bin/once -n 1000 -reps 5
//	peers -freeport     # prints a free TCP port on 127.0.0.1
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

	"github.com/smithc/smithc/bench/peers/chain"
	"github.com/smithc/smithc/compiler"
	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
	"github.com/smithc/smithc/stdlib"
)

const taskQueue = "smithc-bench-peers"

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
	once := flag.String("once", "", "the one-shot Temporal worker program (./once) for the fresh-process figure; empty: no such figure")
	presetChecksum := flag.Bool("preset-checksum", false, "have the one-shot worker preset its binary checksum instead of hashing its executable at worker start")
	flag.Parse()
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
	var freshPhases func() phases
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
		if *once != "" {
			f, ph := temporalFreshProcess(*once, *address, *n, *presetChecksum)
			temporalFresh, freshPhases = f, ph
			add(f, nil, nil)
		}
	}
	if err := measureAll(figs, *reps); err != nil {
		for _, c := range cleanups {
			c()
		}
		fail(err)
	}

	fmt.Printf("\n%d sequential compute steps, medians of %d interleaved runs:\n", *n, *reps)
	const col = 44
	for _, t := range []*figure{temporalWarm, temporalFresh} {
		if t != nil {
			fmt.Printf("  %-*s %9.2f ms  %7.1f µs/step\n", col, t.name, ms(t.med), us(t.med, *n))
		}
	}
	if temporalFresh != nil {
		fmt.Printf("    (its phases, medians: %s)\n", freshPhases())
	}
	for _, f := range []*figure{whole, inProc} {
		if f == nil {
			continue
		}
		line := fmt.Sprintf("  %-*s %9.2f ms  %7.1f µs/step", col, f.name, ms(f.med), us(f.med, *n))
		if temporalWarm != nil {
			line += fmt.Sprintf("  Temporal warm worker/smithc = %.1f×", float64(temporalWarm.med)/float64(f.med))
			if f == whole && temporalFresh != nil {
				line += fmt.Sprintf(", Temporal fresh process/smithc = %.1f×", float64(temporalFresh.med)/float64(f.med))
			}
		}
		fmt.Println(line)
	}
	if temporalWarm != nil {
		fmt.Printf("target: smithc at least 5× faster than Temporal local activities: in process against the warm worker %s",
			verdict(float64(temporalWarm.med) >= 5*float64(inProc.med)))
		if whole != nil && temporalFresh != nil {
			fmt.Printf("; whole process against a fresh worker process %s", verdict(float64(temporalFresh.med) >= 5*float64(whole.med)))
		}
		if whole != nil {
			fmt.Printf("; whole process against the warm worker %s", verdict(float64(temporalWarm.med) >= 5*float64(whole.med)))
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
	w.RegisterWorkflow(chain.Chain)
	w.RegisterActivity(chain.Step)
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
		}, chain.Chain, n)
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

// phases splits one fresh-worker run: exec to main (the process start and
// the SDK's package initialisation), dial, worker start (which includes the
// SDK hashing the worker's executable), ExecuteWorkflow to its result,
// worker stop and client close; exit is the rest, from the end of the
// child's work to the parent seeing it exit.
type phases [6]time.Duration

var phaseNames = [6]string{"exec to main", "dial", "worker start", "workflow", "worker stop", "exit"}

func (p phases) String() string {
	var b strings.Builder
	for i, d := range p {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %.2f ms", phaseNames[i], ms(d))
	}
	return b.String()
}

// temporalFreshProcess times the one-shot worker program bin (./once), a
// fresh process each run (exec to exit, stdout and stderr to pipes) on a
// task queue of its own, so that no other worker takes its workflow. The
// function it returns gives the medians of the phases of the measured
// runs (the first run, the warm-up, left out).
func temporalFreshProcess(bin, address string, n int, presetChecksum bool) (*figure, func() phases) {
	i := 0
	var runs []phases
	f := &figure{name: "Temporal, fresh worker process (warm server)", run: func() (time.Duration, error) {
		i++
		queue := fmt.Sprintf("%s-once-%d-%d-%d", taskQueue, os.Getpid(), time.Now().UnixNano(), i)
		var out, errb bytes.Buffer
		t0 := time.Now()
		args := []string{"-temporal", address, "-n", fmt.Sprint(n), "-queue", queue, "-t0", fmt.Sprint(t0.UnixNano())}
		if presetChecksum {
			args = append(args, "-checksum", "smithc-bench-peers")
		}
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		d := time.Since(t0)
		if err != nil {
			return 0, fmt.Errorf("%v\n%s%s", err, out.String(), errb.String())
		}
		var got int
		var p phases
		if _, err := fmt.Sscanf(out.String(), "%d\n%d %d %d %d %d\n", &got, &p[0], &p[1], &p[2], &p[3], &p[4]); err != nil || got != n {
			return 0, fmt.Errorf("the chain's output is not %d and its phases:\n%s%s", n, out.String(), errb.String())
		}
		p[5] = d - p[0] - p[1] - p[2] - p[3] - p[4]
		fmt.Printf("  (%s)\n", p)
		if i > 1 {
			runs = append(runs, p)
		}
		return d, nil
	}}
	return f, func() phases {
		var m phases
		for k := range m {
			var ds []time.Duration
			for _, r := range runs {
				ds = append(ds, r[k])
			}
			if len(ds) > 0 {
				m[k] = median(ds)
			}
		}
		return m
	}
}
