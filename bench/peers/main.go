// Command peers measures smithc next to Temporal on the same workload: a
// chain of N sequential compute steps, each adding one to the previous
// one's result.
//
//   - Temporal: one workflow whose body calls N local activities one after
//     the other, on a dev server (temporal server start-dev, SQLite) that
//     is already running, with a warm worker in this process. Timed from
//     ExecuteWorkflow to the workflow's result.
//   - smithc, whole process: `smithc run chain.smw` on an existing store,
//     a fresh process each time (start-up, compile, open, run, exit
//     included), stdout and stderr to pipes.
//   - smithc, in process: the engine of this module (runtime.Engine over
//     an open SQLite store, the standard library's actions) starting the
//     same compiled chain, as the Temporal figure has a warm worker.
//   - Temporal, fresh worker process: the counterpart of the smithc
//     whole-process figure. Each run execs the one-shot worker program
//     (./once, -once), which dials the (still warm) dev server, starts a
//     worker on a task queue of its own, executes the same workflow, waits
//     for its result, stops the worker and exits; timed from exec to exit,
//     stdout and stderr to pipes, as the smithc whole-process figure is.
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

	type figure struct {
		name  string
		med   time.Duration
		whole bool // a fresh process per run
	}
	var figs []figure
	if *smithc != "" {
		d, err := smithcWhole(*smithc, dir, *n, *reps)
		if err != nil {
			fail(err)
		}
		figs = append(figs, figure{"smithc run, whole process", d, true})
	}
	d, err := smithcInProcess(dir, *n, *reps)
	if err != nil {
		fail(err)
	}
	figs = append(figs, figure{"smithc engine, in process", d, false})
	var temporal, fresh time.Duration
	var freshPhases phases
	if *address != "" {
		if temporal, err = temporalChain(*address, *n, *reps, *wait); err != nil {
			fail(err)
		}
		// After temporalChain: its warm worker is stopped and polls no more.
		if *once != "" {
			if fresh, freshPhases, err = temporalFresh(*once, *address, *n, *reps, *presetChecksum); err != nil {
				fail(err)
			}
		}
	}

	fmt.Printf("\n%d sequential compute steps, medians of %d runs:\n", *n, *reps)
	const col = 48
	if temporal > 0 {
		fmt.Printf("  %-*s %9.2f ms  %7.1f µs/step\n", col, "Temporal local activities (warm worker)", ms(temporal), us(temporal, *n))
		if fresh > 0 {
			fmt.Printf("  %-*s %9.2f ms  %7.1f µs/step\n", col, "Temporal, fresh worker process (warm server)", ms(fresh), us(fresh, *n))
			fmt.Printf("    (medians of its phases: %s)\n", freshPhases)
		}
	}
	for _, f := range figs {
		line := fmt.Sprintf("  %-*s %9.2f ms  %7.1f µs/step", col, f.name, ms(f.med), us(f.med, *n))
		if temporal > 0 {
			line += fmt.Sprintf("  Temporal/smithc = %.1f×", float64(temporal)/float64(f.med))
			if f.whole && fresh > 0 {
				line += fmt.Sprintf("  Temporal fresh process/smithc = %.1f×", float64(fresh)/float64(f.med))
			}
		}
		fmt.Println(line)
	}
	if temporal > 0 {
		whole := len(figs) > 1 && figs[0].whole
		line := fmt.Sprintf("target: smithc at least 5× faster than Temporal local activities (whole process against the warm worker: %s",
			verdict(whole && float64(temporal) >= 5*float64(figs[0].med)))
		if fresh > 0 {
			line += fmt.Sprintf("; like for like, whole process against a fresh worker process: %s",
				verdict(whole && float64(fresh) >= 5*float64(figs[0].med)))
		}
		fmt.Println(line + ")")
	}
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

// measure runs f once to warm up, then reps times, printing each run.
func measure(what string, reps int, f func() (time.Duration, error)) (time.Duration, error) {
	var ds []time.Duration
	for i := -1; i < reps; i++ {
		d, err := f()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", what, err)
		}
		if i < 0 {
			fmt.Printf("%s: warm-up %.2f ms\n", what, ms(d))
			continue
		}
		fmt.Printf("%s: run %d %.2f ms\n", what, i+1, ms(d))
		ds = append(ds, d)
	}
	return median(ds), nil
}

// smithcWhole times `smithc run chain.smw` as a fresh process on a store
// that exists (the warm-up creates it).
func smithcWhole(bin, dir string, n, reps int) (time.Duration, error) {
	src := filepath.Join(dir, "chain.smw")
	if err := os.WriteFile(src, []byte(chainSource(n)), 0o644); err != nil {
		return 0, err
	}
	db := filepath.Join(dir, "whole.db")
	want := fmt.Sprintf("\n%d\n", n)
	return measure("smithc run, whole process", reps, func() (time.Duration, error) {
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
	})
}

// smithcInProcess times the engine starting the compiled chain on an open
// store.
func smithcInProcess(dir string, n, reps int) (time.Duration, error) {
	src := filepath.Join(dir, "chain.smw")
	if err := os.WriteFile(src, []byte(chainSource(n)), 0o644); err != nil {
		return 0, err
	}
	res := compiler.Build(src, &compiler.Config{Checker: checker.Config{Actions: stdlib.Specs()}})
	if res.Program == nil {
		return 0, fmt.Errorf("the chain does not compile: %v", res.Diagnostics)
	}
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, "inproc.db"), sqlitestore.Options{})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	eng, err := runtime.New(runtime.Config{Store: st, Actions: stdlib.Actions(stdlib.Config{}), Dir: dir})
	if err != nil {
		return 0, err
	}
	return measure("smithc engine, in process", reps, func() (time.Duration, error) {
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
	})
}

func quietLogger() log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// temporalChain times the Chain workflow on the server at address, with
// a worker in this process.
func temporalChain(address string, n, reps int, wait time.Duration) (time.Duration, error) {
	quiet := quietLogger()
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
			return 0, fmt.Errorf("the Temporal server at %s did not answer within %s: %w", address, wait, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	defer c.Close()

	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(chain.Chain)
	w.RegisterActivity(chain.Step)
	if err := w.Start(); err != nil {
		return 0, fmt.Errorf("start the worker: %w", err)
	}
	defer w.Stop()

	i := 0
	return measure("Temporal local activities", reps, func() (time.Duration, error) {
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
	})
}

// phases splits one fresh-worker run: exec to main (the process start and
// the SDK's package initialisation), dial, worker start, ExecuteWorkflow to
// its result, worker stop and client close; exit is the rest, from the
// end of the child's work to the parent seeing it exit.
type phases struct {
	startup, dial, worker, workflow, stop, exit time.Duration
}

var phaseNames = []string{"exec to main", "dial", "worker start", "workflow", "worker stop", "exit"}

func (p phases) list() []time.Duration {
	return []time.Duration{p.startup, p.dial, p.worker, p.workflow, p.stop, p.exit}
}

func (p phases) String() string {
	var b strings.Builder
	for i, d := range p.list() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %.2f ms", phaseNames[i], ms(d))
	}
	return b.String()
}

// temporalFresh times the one-shot worker program bin (./once): a fresh
// process per run that dials the server, starts a worker on a task queue
// no other run uses, runs the chain and exits. The server is the one
// temporalChain warmed up. It returns the median of the runs and the
// median of each phase.
func temporalFresh(bin, address string, n, reps int, presetChecksum bool) (time.Duration, phases, error) {
	i := 0
	var runs []phases
	med, err := measure("Temporal, fresh worker process", reps, func() (time.Duration, error) {
		i++
		queue := fmt.Sprintf("smithc-bench-peers-fresh-%d-%d-%d", os.Getpid(), time.Now().UnixNano(), i)
		var out, errb bytes.Buffer
		t0 := time.Now()
		args := []string{"-temporal", address, "-queue", queue, "-n", fmt.Sprint(n), "-t0", fmt.Sprint(t0.UnixNano())}
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
		if _, err := fmt.Sscanf(out.String(), "%d\n%d %d %d %d %d\n", &got, &p.startup, &p.dial, &p.worker, &p.workflow, &p.stop); err != nil || got != n {
			return 0, fmt.Errorf("the chain's output is not %d and its phases:\n%s%s", n, out.String(), errb.String())
		}
		p.exit = d - p.startup - p.dial - p.worker - p.workflow - p.stop
		fmt.Printf("  (%s)\n", p)
		if i > 1 { // not the warm-up
			runs = append(runs, p)
		}
		return d, nil
	})
	var mp phases
	if err == nil {
		at := func(k int) time.Duration {
			var ds []time.Duration
			for _, r := range runs {
				ds = append(ds, r.list()[k])
			}
			return median(ds)
		}
		mp = phases{at(0), at(1), at(2), at(3), at(4), at(5)}
	}
	return med, mp, err
}
