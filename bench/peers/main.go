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
//
// Each figure is the median of -reps runs after one warm-up. bench/peers/run.sh
// installs the Temporal CLI, starts the dev server and runs this; see
// bench/peers/README.md.
//
// Usage:
//
//	peers -temporal 127.0.0.1:7233 -smithc bin/smithc -n 1000 -reps 5
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
		name string
		med  time.Duration
	}
	var figs []figure
	if *smithc != "" {
		d, err := smithcWhole(*smithc, dir, *n, *reps)
		if err != nil {
			fail(err)
		}
		figs = append(figs, figure{"smithc run, whole process", d})
	}
	d, err := smithcInProcess(dir, *n, *reps)
	if err != nil {
		fail(err)
	}
	figs = append(figs, figure{"smithc engine, in process", d})
	var temporal time.Duration
	if *address != "" {
		if temporal, err = temporalChain(*address, *n, *reps, *wait); err != nil {
			fail(err)
		}
	}

	fmt.Printf("\n%d sequential compute steps, medians of %d runs:\n", *n, *reps)
	if temporal > 0 {
		fmt.Printf("  %-40s %9.2f ms  %7.1f µs/step\n", "Temporal local activities (warm worker)", ms(temporal), us(temporal, *n))
	}
	for _, f := range figs {
		line := fmt.Sprintf("  %-40s %9.2f ms  %7.1f µs/step", f.name, ms(f.med), us(f.med, *n))
		if temporal > 0 {
			line += fmt.Sprintf("  Temporal/smithc = %.1f×", float64(temporal)/float64(f.med))
		}
		fmt.Println(line)
	}
	if temporal > 0 {
		fmt.Printf("target: smithc at least 5× faster than Temporal local activities (whole process: %s)\n",
			verdict(len(figs) > 1 && float64(temporal) >= 5*float64(figs[0].med)))
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

// temporalChain times the Chain workflow on the server at address, with
// a worker in this process.
func temporalChain(address string, n, reps int, wait time.Duration) (time.Duration, error) {
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
			return 0, fmt.Errorf("the Temporal server at %s did not answer within %s: %w", address, wait, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	defer c.Close()

	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(Chain)
	w.RegisterActivity(Step)
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
	})
}
