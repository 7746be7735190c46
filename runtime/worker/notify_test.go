package worker_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/smithc/smithc/compiler"
	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/internal/pgtest"
	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/pgstore"
	"github.com/smithc/smithc/runtime/worker"
	"github.com/smithc/smithc/stdlib"
)

// The decisions of these tests are made by a second engine on its own
// connection pool (a process that is not a worker, as `smithc approve`
// is); the worker learns of them through PostgreSQL's NOTIFY, or by
// polling when the notifications are lost.
const decideSMW = `workflow gated {
  step before { value = 1 }
  approval ship { title = "Ship?" }
  step after { value = before + 1 }
  output = after
}

workflow awaiting {
  event go { name = "go" }
  step after { value = 2 }
  output = after
}

workflow slow {
  step nap { run = "sleep 30" }
  output = nap
}
`

func decideProgram(t *testing.T) *ir.Program {
	t.Helper()
	file := filepath.Join(t.TempDir(), "decide.smw")
	if err := os.WriteFile(file, []byte(decideSMW), 0o644); err != nil {
		t.Fatal(err)
	}
	res := compiler.Build(file, &compiler.Config{Checker: checker.Config{Actions: stdlib.Specs()}})
	if res.Program == nil {
		t.Fatalf("decide.smw: %v", res.Diagnostics.Error())
	}
	return res.Program
}

// hidden is a store without notifications: a worker on it polls only (as
// when every notification is lost).
type hidden struct{ store.Store }

// decideRig is a worker on a fresh database and a second engine that
// starts runs and decides them.
type decideRig struct {
	t      *testing.T
	prog   *ir.Program
	url    string
	other  *runtime.Engine
	ostore *pgstore.Store
}

func newDecideRig(t *testing.T) *decideRig {
	t.Helper()
	url := pgtest.NewDatabase(t)
	rg := &decideRig{t: t, prog: decideProgram(t), url: url}
	rg.ostore = openPG(t, url)
	rg.other = newEngine(t, rg.ostore, rg.prog, "decider")
	return rg
}

func openPG(t *testing.T, url string) *pgstore.Store {
	t.Helper()
	st, err := pgstore.Open(context.Background(), url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newEngine(t *testing.T, st store.Store, prog *ir.Program, name string) *runtime.Engine {
	t.Helper()
	eng, err := runtime.New(runtime.Config{
		Store: st, Actions: stdlib.Actions(stdlib.Config{}),
		Owner:       runtime.Owner{PID: os.Getpid(), Host: "test/" + name, Start: "0"},
		CompileFunc: func(context.Context, []runtime.Source) (*ir.Program, error) { return prog, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// startWorker runs a worker on st polling every poll until the test ends.
func (rg *decideRig) startWorker(st store.Store, poll time.Duration) {
	rg.t.Helper()
	eng := newEngine(rg.t, st, rg.prog, "worker")
	w, err := worker.New(worker.Config{Engine: eng, PollInterval: poll, Logf: rg.t.Logf})
	if err != nil {
		rg.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.Run(ctx) }()
	rg.t.Cleanup(func() { cancel(); wg.Wait() })
}

// detach starts a run of wf for the worker.
func (rg *decideRig) detach(wf string) string {
	rg.t.Helper()
	res, err := rg.other.Start(context.Background(), runtime.StartParams{Program: rg.prog, Workflow: wf, Detach: true})
	if err != nil {
		rg.t.Fatal(err)
	}
	return res.RunID
}

// wait polls the store (on the deciding side) until the run satisfies
// ok; it fails after a generous deadline, not a timing bound.
func (rg *decideRig) wait(id, what string, ok func(*store.Run) bool) *store.Run {
	rg.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r, err := rg.ostore.RunGetByID(context.Background(), &store.RunGetByIDParams{ID: id})
		if err != nil {
			rg.t.Fatal(err)
		}
		if ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			rg.t.Fatalf("run %s never %s: %s owned by %q", id, what, r.Status, r.Owner)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func released(st store.RunStatus) func(*store.Run) bool {
	return func(r *store.Run) bool { return r.Status == st && r.Owner == "" }
}

func is(st store.RunStatus) func(*store.Run) bool {
	return func(r *store.Run) bool { return r.Status == st }
}

func heldRunning(r *store.Run) bool { return r.Status == store.RunRunning && r.Owner != "" }

// exercise makes each kind of decision from the second engine and waits
// for the worker to act on it; it logs how long each took (figures, not
// assertions).
func (rg *decideRig) exercise(how string) {
	t := rg.t
	ctx := context.Background()

	id := rg.detach("gated")
	rg.wait(id, "waits for the approval", released(store.RunWaitingApproval))
	start := time.Now()
	if _, err := rg.other.Approve(ctx, id, "ship", runtime.Decision{By: "test"}, false); err != nil {
		t.Fatal(err)
	}
	if r := rg.wait(id, "finished after the approval", is(store.RunFinished)); string(r.Output) != "2" {
		t.Errorf("approved run output %s, want 2", r.Output)
	}
	t.Logf("%s: approve → finished in %s", how, time.Since(start))

	id = rg.detach("awaiting")
	rg.wait(id, "waits for the signal", released(store.RunWaitingEvent))
	start = time.Now()
	if _, err := rg.other.Signal(ctx, id, "go", nil, false); err != nil {
		t.Fatal(err)
	}
	rg.wait(id, "finished after the signal", is(store.RunFinished))
	t.Logf("%s: signal → finished in %s", how, time.Since(start))

	// A run the worker executes (its step sleeps 30s): the request goes
	// through the store and the worker's session polls for it.
	id = rg.detach("slow")
	rg.wait(id, "is executed by the worker", heldRunning)
	start = time.Now()
	if _, err := rg.other.Cancel(ctx, id); err != nil {
		t.Fatal(err)
	}
	rg.wait(id, "cancelled", is(store.RunCancelled))
	t.Logf("%s: cancel → cancelled in %s", how, time.Since(start))

	id = rg.detach("slow")
	rg.wait(id, "is executed by the worker", heldRunning)
	start = time.Now()
	if _, err := rg.other.Pause(ctx, id); err != nil {
		t.Fatal(err)
	}
	// Pausing lets the attempt under way finish; cancel it to end the
	// test sooner, once the worker has seen the pause.
	rg.wait(id, "sees the pause request", func(r *store.Run) bool { return r.PauseRequested })
	evs := rg.waitEvent(id, runtime.EventPauseRequested)
	t.Logf("%s: pause → seen by the worker in %s", how, evs.Time.Sub(start))
	if _, err := rg.other.Cancel(ctx, id); err != nil {
		t.Fatal(err)
	}
	rg.wait(id, "ended", func(r *store.Run) bool { return r.Status.Terminal() || r.Status == store.RunPaused })
}

// waitEvent waits for the worker to log an event of kind in run id.
func (rg *decideRig) waitEvent(id, kind string) *store.Event {
	rg.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		evs, err := rg.ostore.EventList(context.Background(), &store.EventListParams{RunID: id})
		if err != nil {
			rg.t.Fatal(err)
		}
		for _, e := range evs {
			if e.Kind == kind {
				return e
			}
		}
		if time.Now().After(deadline) {
			rg.t.Fatalf("run %s: no %s event", id, kind)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDecisionsReachWorkerByNotify: with polling practically off (every
// hour), detached runs, approvals and signals made by another engine
// reach the worker through NOTIFY alone, and cancel and pause requests
// reach the runs it executes (through their sessions' store polls).
func TestDecisionsReachWorkerByNotify(t *testing.T) {
	rg := newDecideRig(t)
	rg.startWorker(openPG(t, rg.url), time.Hour)
	rg.exercise("NOTIFY")
}

// TestDecisionsReachWorkerByPolling: a worker that never gets a
// notification (its store hides them, as if every one were lost) finds
// the same runs and decisions at its polls.
func TestDecisionsReachWorkerByPolling(t *testing.T) {
	rg := newDecideRig(t)
	rg.startWorker(hidden{openPG(t, rg.url)}, 200*time.Millisecond)
	rg.exercise("polling every 200ms")
}

// TestWorkerListenConnectionKilled: with polling practically off, the
// worker's LISTEN connection is killed (pg_terminate_backend) while a
// run waits for an approval, which is decided at once (its NOTIFY may be
// lost): the worker reconnects, rescans, and finishes the run; a later
// decision reaches it by NOTIFY on the new connection.
func TestWorkerListenConnectionKilled(t *testing.T) {
	rg := newDecideRig(t)
	rg.startWorker(openPG(t, rg.url), time.Hour)
	ctx := context.Background()
	for round := 0; round < 2; round++ {
		id := rg.detach("gated")
		rg.wait(id, "waits for the approval", released(store.RunWaitingApproval))
		if round == 0 {
			var killed int
			if err := rg.ostore.Pool().QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE datname = current_database() AND query = 'LISTEN smithc' AND pid <> pg_backend_pid()) k`).Scan(&killed); err != nil {
				t.Fatal(err)
			}
			if killed != 1 {
				t.Fatalf("killed %d LISTEN connections, want the worker's one", killed)
			}
		}
		if _, err := rg.other.Approve(ctx, id, "ship", runtime.Decision{By: "test"}, false); err != nil {
			t.Fatal(err)
		}
		rg.wait(id, "finished after the approval", is(store.RunFinished))
	}
}

// tap is a store whose notifications pass through the test: handed gets
// each id once the worker took it.
type tap struct {
	*pgstore.Store
	handed chan string
}

func (s tap) Notifications(ctx context.Context) (<-chan string, error) {
	in, err := s.Store.Notifications(ctx)
	if err != nil {
		return nil, err
	}
	out := make(chan string)
	go func() {
		defer close(out)
		for id := range in {
			select {
			case out <- id:
			case <-ctx.Done():
				return
			}
			select {
			case s.handed <- id:
			default:
			}
		}
	}()
	return out, nil
}

// TestSignalAtReleaseReachesWorker: with polling practically off, a
// signal is sent (and its NOTIFY reaches the worker) while the session
// that released the run to wait for it is still ending, so that the
// worker's scan finds the run executing there: the worker looks at it
// again once the session ended, instead of leaving it to the next poll.
func TestSignalAtReleaseReachesWorker(t *testing.T) {
	rg := newDecideRig(t)
	ctx := context.Background()
	st := tap{Store: openPG(t, rg.url), handed: make(chan string, 16)}
	var once sync.Once
	eng := observingEngine(t, st, rg.prog, "worker", func(e store.Event) {
		if e.Kind != runtime.EventRunWaiting {
			return
		}
		// Committed, and the worker still executes the run (its session
		// ends once this returns).
		once.Do(func() {
			for len(st.handed) > 0 {
				<-st.handed // the run's creation and release
			}
			if _, err := rg.other.Signal(ctx, e.RunID, "go", nil, false); err != nil {
				t.Error(err)
				return
			}
			for id := range st.handed {
				if id == e.RunID {
					break
				}
			}
			time.Sleep(50 * time.Millisecond) // the worker scans meanwhile
		})
	})
	w, err := worker.New(worker.Config{Engine: eng, PollInterval: time.Hour, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.Run(wctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	id := rg.detach("awaiting")
	rg.wait(id, "finished after the signal sent as it was released", is(store.RunFinished))
}
