package worker_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
	"github.com/smithc/smithc/runtime/worker"
	"github.com/smithc/smithc/stdlib"
)

// lateClaim is a store whose first claim waits until held is closed
// (the claimer read the run before; another worker runs it meanwhile).
type lateClaim struct {
	store.Store
	once    sync.Once
	waiting chan struct{} // closed when the first claim waits
	held    chan struct{} // the first claim goes on once this is closed
	claimed chan struct{} // closed when the first claim returned
}

func (l *lateClaim) RunClaim(ctx context.Context, p *store.RunClaimParams) (*store.Run, error) {
	first := false
	l.once.Do(func() {
		first = true
		close(l.waiting)
		<-l.held
	})
	r, err := l.Store.RunClaim(ctx, p)
	if first {
		close(l.claimed)
	}
	return r, err
}

// runWorker runs a worker of eng until the returned stop is called (it
// drains: the sessions under way end first).
func runWorker(t *testing.T, eng *runtime.Engine) (stop func()) {
	t.Helper()
	w, err := worker.New(worker.Config{Engine: eng, PollInterval: 20 * time.Millisecond, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func openSQLite(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func observingEngine(t *testing.T, st store.Store, prog *ir.Program, name string, observe func(store.Event)) *runtime.Engine {
	t.Helper()
	eng, err := runtime.New(runtime.Config{
		Store: st, Actions: stdlib.Actions(stdlib.Config{}),
		Owner:       runtime.Owner{PID: os.Getpid(), Host: "test/" + name, Start: "0"},
		ObserveFunc: observe,
		CompileFunc: func(context.Context, []runtime.Source) (*ir.Program, error) { return prog, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// TestRunFinishedElsewhereIsNotClaimedAgain: worker B reads a detached
// run (running, free) and, before its claim, worker A claims it, runs it
// to the end and releases it. B's claim then finds a finished run: it
// must not run it again (a second RunResumed and RunFinished, the run
// back to running meanwhile, and its steps' side effects repeated).
func TestRunFinishedElsewhereIsNotClaimedAgain(t *testing.T) {
	t.Parallel()
	prog := tenProgram(t)
	path := filepath.Join(t.TempDir(), "claim.db")
	enq := openSQLite(t, path)
	res, err := observingEngine(t, enq, prog, "enqueuer", nil).Start(context.Background(), runtime.StartParams{Program: prog, Detach: true})
	if err != nil {
		t.Fatal(err)
	}
	id := res.RunID

	late := &lateClaim{Store: openSQLite(t, path), waiting: make(chan struct{}), held: make(chan struct{}), claimed: make(chan struct{})}
	stopB := runWorker(t, observingEngine(t, late, prog, "b", nil))
	<-late.waiting // B read the run and claims it

	var ended sync.Once
	stopA := runWorker(t, observingEngine(t, openSQLite(t, path), prog, "a", func(e store.Event) {
		if e.RunID == id && e.NodeID == "" && e.Kind == runtime.EventRunFinished {
			ended.Do(func() { close(late.held) })
		}
	}))
	<-late.claimed
	stopB()
	stopA()

	evs, err := enq.EventList(context.Background(), &store.EventListParams{RunID: id})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range evs {
		if e.NodeID == "" {
			count[e.Kind]++
		}
	}
	if count[runtime.EventRunResumed] != 1 || count[runtime.EventRunFinished] != 1 {
		t.Errorf("run %s: %d RunResumed and %d RunFinished events, want one of each: a worker ran the finished run again", id,
			count[runtime.EventRunResumed], count[runtime.EventRunFinished])
	}
	r, err := enq.RunGetByID(context.Background(), &store.RunGetByIDParams{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != store.RunFinished || r.Owner != "" {
		t.Errorf("run %s: %s owned by %q, want finished and released", id, r.Status, r.Owner)
	}
}
