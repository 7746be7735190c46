// Command once is one run of a fresh Temporal worker process, the
// counterpart of one `smithc run`: it dials the dev server, starts a worker
// on a task queue of its own, executes the chain of -n local activities,
// waits for its result, stops the worker and exits. It imports only the
// Temporal SDK and the chain (not smithc's engine), so its binary, which
// the SDK reads whole at worker start to checksum it, is the size of a
// small Temporal worker.
//
// It prints the chain's result on one line, then the time of its phases in
// nanoseconds: exec to main (from -t0, when the parent started it), dial,
// worker start, ExecuteWorkflow to the result, worker stop and client
// close. The peers program (../main.go) execs it once per run.
//
// Usage:
//
//	once -temporal 127.0.0.1:7233 -queue q1 -n 1000 -t0 1765000000000000000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/smithc/smithc/bench/peers/chain"
)

func main() {
	address := flag.String("temporal", "", "the Temporal dev server's frontend (host:port)")
	queue := flag.String("queue", "", "the task queue of the worker and the workflow (a new one per run)")
	n := flag.Int("n", 1000, "local activities in the chain")
	t0 := flag.Int64("t0", 0, "when the parent started this process (Unix nanoseconds); 0: now")
	checksum := flag.String("checksum", "", "preset the worker's binary checksum (worker.SetBinaryChecksum) so that the SDK does not read and hash this executable at worker start")
	flag.Parse()
	start := time.Now()
	if *t0 != 0 {
		start = time.Unix(0, *t0)
	}
	if *address == "" || *queue == "" || *n < 1 {
		fail(errors.New("once needs -temporal, -queue and -n of at least 1"))
	}
	if *checksum != "" {
		worker.SetBinaryChecksum(*checksum)
	}
	got, p, err := run(*address, *queue, *n, start)
	if err != nil {
		fail(err)
	}
	fmt.Printf("%d\n%d %d %d %d %d\n", got, p[0], p[1], p[2], p[3], p[4])
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "once: %v\n", err)
	os.Exit(1)
}

// run does the work and returns the chain's result and the time of each
// phase: exec to main, dial, worker start, workflow, worker stop.
func run(address, queue string, n int, t0 time.Time) (int, [5]time.Duration, error) {
	var p [5]time.Duration
	mark := time.Now()
	p[0] = mark.Sub(t0)
	lap := func() time.Duration {
		now := time.Now()
		d := now.Sub(mark)
		mark = now
		return d
	}
	quiet := log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	c, err := client.Dial(client.Options{HostPort: address, Namespace: "default", Logger: quiet})
	if err != nil {
		return 0, p, fmt.Errorf("dial the Temporal server at %s: %w", address, err)
	}
	defer c.Close()
	p[1] = lap()
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflow(chain.Chain)
	w.RegisterActivity(chain.Step)
	if err := w.Start(); err != nil {
		return 0, p, fmt.Errorf("start the worker: %w", err)
	}
	p[2] = lap()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	wr, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "chain-" + queue, TaskQueue: queue}, chain.Chain, n)
	if err != nil {
		w.Stop()
		return 0, p, fmt.Errorf("start the workflow: %w", err)
	}
	var got int
	if err := wr.Get(ctx, &got); err != nil {
		w.Stop()
		return 0, p, fmt.Errorf("workflow %s: %w", wr.GetID(), err)
	}
	p[3] = lap()
	w.Stop()
	c.Close()
	p[4] = lap()
	if got != n {
		return 0, p, fmt.Errorf("the chain returned %d, want %d", got, n)
	}
	return got, p, nil
}
