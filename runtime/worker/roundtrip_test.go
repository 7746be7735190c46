package worker_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/internal/pgtest"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/pgstore"
	"github.com/smithc/smithc/runtime/worker"
	"github.com/smithc/smithc/stdlib"
)

// counter is a pgx tracer that counts round trips (a statement sent on
// its own, or a batch) and statements (a batch's each), by statement.
type counter struct {
	mu         sync.Mutex
	on         bool
	roundTrips int
	commits    int // the round trips that are a fenced commit of a session
	statements int
	by         map[string]int
}

var spaces = regexp.MustCompile(`\s+`)

func (c *counter) note(sql string, trip bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on {
		return
	}
	if trip {
		c.roundTrips++
	}
	c.statements++
	s := spaces.ReplaceAllString(strings.TrimSpace(sql), " ")
	if len(s) > 400 {
		s = s[:400]
	}
	if c.by == nil {
		c.by = map[string]int{}
	}
	c.by[s]++
}

func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.note(d.SQL, true)
	return ctx
}
func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *counter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	c.mu.Lock()
	if c.on {
		c.roundTrips++
		for _, q := range d.Batch.QueuedQueries {
			if strings.Contains(q.SQL, "AND fence = $3") { // pgstore's fence check
				c.commits++
				break
			}
		}
	}
	c.mu.Unlock()
	return ctx
}
func (c *counter) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	c.note(d.SQL, false)
}
func (c *counter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (c *counter) set(on bool) {
	c.mu.Lock()
	c.on = on
	c.mu.Unlock()
}

func (c *counter) report(tb testing.TB) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var lines []string
	for s, n := range c.by {
		lines = append(lines, fmt.Sprintf("%5d  %s", n, s))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(lines)))
	return strings.Join(lines, "\n")
}

// TestRoundTripsPerRun pins the PostgreSQL round trips a worker spends on
// a detached run of ten no-op steps, from its notification to its end:
// the scan, the claim, the session's load, its commits and its end. A
// change that adds a round trip per run (or per step) fails here; the
// statements are listed with -v.
//
// Today a run costs 4 round trips besides its commits: the scans that
// find it and follow its end (1–2), the claim (from the scan's read of
// the run: 1), the session's load (nodes, attempts, tasks in one batch:
// 1); and its commits: the first, and the last with its end, and with
// durability full one per step. With durability normal the steps' results
// share the last commit, or make one more per 10 ms of a slow machine: a
// count that depends on the machine, bounded here by full's. The limits
// leave one round trip per run for a notification that arrives while the
// worker has a free slot. Before the work that set them, a run cost
// 13–14 round trips (normal) and 24 (full).
func TestRoundTripsPerRun(t *testing.T) {
	for _, d := range []runtime.Durability{runtime.DurabilityNormal, runtime.DurabilityFull} {
		t.Run(d.String(), func(t *testing.T) { roundTrips(t, d, 5, 2+stepsPerRun) })
	}
}

// roundTrips fails when a run costs more than maxOther round trips
// besides its commits, or more than maxCommits commits.
func roundTrips(t *testing.T, d runtime.Durability, maxOther, maxCommits int) {
	url := pgtest.NewDatabase(t)
	prog := tenProgram(t)
	ctx := context.Background()
	enq, err := pgstore.Open(ctx, url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer enq.Close()
	cnt := &counter{}
	st, err := pgstore.Open(ctx, url, pgstore.Options{Tracer: cnt})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	newEngine := func(st store.Store, name string, observe func(store.Event)) *runtime.Engine {
		eng, err := runtime.New(runtime.Config{
			Store: st, Actions: stdlib.Actions(stdlib.Config{}),
			Owner:       runtime.Owner{PID: os.Getpid(), Host: "rt/" + name, Start: "0"},
			ObserveFunc: observe,
			Durability:  d,
			// No poll of the session within a run: what a run costs
			// does not depend on how long the machine takes for it.
			PollInterval: time.Hour,
			CompileFunc:  func(context.Context, []runtime.Source) (*ir.Program, error) { return prog, nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}
	ended := make(chan string, 16)
	var w *worker.Worker
	eng := newEngine(st, "worker", func(e store.Event) {
		w.Observe(e)
		if e.NodeID == "" && (e.Kind == runtime.EventRunFinished || e.Kind == runtime.EventRunFailed) {
			ended <- e.RunID
		}
	})
	w, err = worker.New(worker.Config{Engine: eng, Concurrency: 1, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(wctx) }()
	defer func() { stop(); <-done }()
	time.Sleep(100 * time.Millisecond) // the first (full) scan, the LISTEN
	ee := newEngine(enq, "enqueuer", nil)
	const runs = 5
	cnt.set(true)
	for i := 0; i < runs; i++ {
		res, err := ee.Start(ctx, runtime.StartParams{Program: prog, Detach: true})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case id := <-ended:
			if id != res.RunID {
				t.Fatalf("ended %s, want %s", id, res.RunID)
			}
		case <-time.After(time.Minute):
			t.Fatalf("run %s did not end in a minute", res.RunID)
		}
		// The run's end notification wakes the worker once more.
		time.Sleep(50 * time.Millisecond)
	}
	cnt.set(false)
	t.Logf("per run of %d steps: %.1f round trips (%.1f commits), %.1f statements\n%s", stepsPerRun,
		float64(cnt.roundTrips)/runs, float64(cnt.commits)/runs, float64(cnt.statements)/runs, cnt.report(t))
	if other := cnt.roundTrips - cnt.commits; other > maxOther*runs {
		t.Errorf("%d round trips besides commits for %d runs of %d steps, want at most %d per run", other, runs, stepsPerRun, maxOther)
	}
	if cnt.commits > maxCommits*runs {
		t.Errorf("%d commits for %d runs of %d steps, want at most %d per run", cnt.commits, runs, stepsPerRun, maxCommits)
	}
	if cnt.commits < 2*runs {
		t.Errorf("%d commits for %d runs: the tracer does not see pgstore's fenced commits", cnt.commits, runs)
	}
}

// TestQueueDrainsWithoutPolls checks that a worker that never polls
// (PollInterval an hour) executes a queue of runs enqueued before it
// started back to back: each run ending here frees a slot that the next
// scan fills, whatever notifications of its own commits arrive meanwhile.
func TestQueueDrainsWithoutPolls(t *testing.T) {
	url := pgtest.NewDatabase(t)
	prog := tenProgram(t)
	ctx := context.Background()
	st, err := pgstore.Open(ctx, url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ended := make(chan string, 64)
	var w *worker.Worker
	eng, err := runtime.New(runtime.Config{
		Store: st, Actions: stdlib.Actions(stdlib.Config{}),
		Owner: runtime.Owner{PID: os.Getpid(), Host: "drain/worker", Start: "0"},
		ObserveFunc: func(e store.Event) {
			w.Observe(e)
			if e.NodeID == "" && (e.Kind == runtime.EventRunFinished || e.Kind == runtime.EventRunFailed) {
				ended <- e.RunID
			}
		},
		CompileFunc: func(context.Context, []runtime.Source) (*ir.Program, error) { return prog, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	const runs = 24
	for i := 0; i < runs; i++ {
		if _, err := eng.Start(ctx, runtime.StartParams{Program: prog, Detach: true}); err != nil {
			t.Fatal(err)
		}
	}
	w, err = worker.New(worker.Config{Engine: eng, Concurrency: 2, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(wctx) }()
	defer func() { stop(); <-done }()
	for n := 0; n < runs; n++ {
		select {
		case <-ended:
		case <-time.After(2 * time.Minute):
			t.Fatalf("%d of %d runs ended; the worker stopped taking queued runs", n, runs)
		}
	}
}
