package worker_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
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
	"github.com/smithc/smithc/runtime/store/sqlitestore"
	"github.com/smithc/smithc/runtime/worker"
	"github.com/smithc/smithc/stdlib"
)

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	if durable != nil {
		durable.Destroy()
	}
	os.Exit(code)
}

// durable is the benchmarks' cluster: fsync on, like a real server (the
// shared test cluster runs with fsync off).
var (
	durable     *pgtest.Cluster
	durableOnce sync.Once
)

// stepsPerRun is the length of the benchmark's runs.
const stepsPerRun = 10

const tenSMW = `workflow ten {
  step s0 { value = 0 }
  step s1 { value = s0 + 1 }
  step s2 { value = s1 + 1 }
  step s3 { value = s2 + 1 }
  step s4 { value = s3 + 1 }
  step s5 { value = s4 + 1 }
  step s6 { value = s5 + 1 }
  step s7 { value = s6 + 1 }
  step s8 { value = s7 + 1 }
  step s9 { value = s8 + 1 }
  output = s9
}
`

func tenProgram(tb testing.TB) *ir.Program {
	tb.Helper()
	file := filepath.Join(tb.TempDir(), "ten.smw")
	if err := os.WriteFile(file, []byte(tenSMW), 0o644); err != nil {
		tb.Fatal(err)
	}
	res := compiler.Build(file, &compiler.Config{Checker: checker.Config{Actions: stdlib.Specs()}})
	if res.Program == nil {
		tb.Fatalf("ten.smw: %v", res.Diagnostics.Error())
	}
	return res.Program
}

// bench is a store and its workers, each with its own connection pool,
// engine and owner name, as separate processes would have.
type bench struct {
	open    func() store.Store
	prog    *ir.Program
	claimed chan string // the runs claimed (their RunResumed events)
}

func (bb *bench) engine(tb testing.TB, st store.Store, name string, observe func(store.Event)) *runtime.Engine {
	tb.Helper()
	eng, err := runtime.New(runtime.Config{
		Store: st, Actions: stdlib.Actions(stdlib.Config{}),
		Owner:       runtime.Owner{PID: os.Getpid(), Host: "bench/" + name, Start: "0"},
		ObserveFunc: observe,
		CompileFunc: func(context.Context, []runtime.Source) (*ir.Program, error) { return bb.prog, nil },
	})
	if err != nil {
		tb.Fatal(err)
	}
	return eng
}

// startWorkers starts n workers and returns their stop function.
func (bb *bench) startWorkers(tb testing.TB, n int, poll time.Duration) func() {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var stores []store.Store
	for i := 0; i < n; i++ {
		st := bb.open()
		stores = append(stores, st)
		var w *worker.Worker
		observe := func(e store.Event) {
			w.Observe(e)
			if e.Kind == runtime.EventRunResumed && bb.claimed != nil {
				select {
				case bb.claimed <- e.RunID:
				default:
				}
			}
		}
		eng := bb.engine(tb, st, fmt.Sprintf("w%d", i), observe)
		var err error
		w, err = worker.New(worker.Config{Engine: eng, Concurrency: 4, PollInterval: poll})
		if err != nil {
			tb.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(ctx) }()
	}
	return func() {
		cancel()
		wg.Wait()
		for _, st := range stores {
			st.Close()
		}
	}
}

// enqueue creates detached runs.
func (bb *bench) enqueue(tb testing.TB, eng *runtime.Engine, runs int) []string {
	tb.Helper()
	ids := make([]string, runs)
	for i := range ids {
		res, err := eng.Start(context.Background(), runtime.StartParams{Program: bb.prog, Detach: true})
		if err != nil {
			tb.Fatal(err)
		}
		ids[i] = res.RunID
	}
	return ids
}

func waitFinished(tb testing.TB, st store.Store, ids []string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for _, id := range ids {
		for {
			r, err := st.RunGetByID(context.Background(), &store.RunGetByIDParams{ID: id})
			if err != nil {
				tb.Fatal(err)
			}
			if r.Status == store.RunFinished {
				break
			}
			if r.Status.Terminal() || time.Now().After(deadline) {
				tb.Fatalf("run %s: %s %s", id, r.Status, r.Error)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// pgBench is a fresh database on the durable cluster. Its connections
// use synchronous_commit=off, PostgreSQL's counterpart of SQLite's
// synchronous=NORMAL that the SQLite figures use: a commit survives a
// crash of the server process; an OS crash may lose the last ones.
func pgBench(b *testing.B) *bench {
	pgtest.Shared(b) // skips without PostgreSQL
	durableOnce.Do(func() {
		var err error
		if durable, err = pgtest.Start(true); err != nil {
			b.Fatal(err)
		}
	})
	if durable == nil {
		b.Fatal("the benchmark cluster did not start")
	}
	url, err := durable.CreateDatabase(context.Background(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	url += "&synchronous_commit=off"
	return &bench{open: func() store.Store {
		st, err := pgstore.Open(context.Background(), url, pgstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return st
	}}
}

func sqliteBench(b *testing.B) *bench {
	path := filepath.Join(b.TempDir(), "bench.db")
	return &bench{open: func() store.Store {
		st, err := sqlitestore.Open(context.Background(), path, sqlitestore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return st
	}}
}

// BenchmarkWorkers measures steps per second of no-op steps (ten-step
// sequential runs, enqueued detached) executed by 1, 2 and 4 workers on
// PostgreSQL and on a SQLite file. Each worker runs 4 runs at once.
func BenchmarkWorkers(b *testing.B) {
	for _, kind := range []string{"postgres", "sqlite"} {
		for _, n := range []int{1, 2, 4} {
			b.Run(fmt.Sprintf("%s/workers=%d", kind, n), func(b *testing.B) {
				bb := pgBench
				if kind == "sqlite" {
					bb = sqliteBench
				}
				be := bb(b)
				be.prog = tenProgram(b)
				st := be.open()
				defer st.Close()
				eng := be.engine(b, st, "enqueuer", nil)
				runs := (b.N + stepsPerRun - 1) / stepsPerRun
				ids := be.enqueue(b, eng, runs)
				b.ResetTimer()
				stop := be.startWorkers(b, n, 50*time.Millisecond)
				waitFinished(b, st, ids)
				b.StopTimer()
				stop()
				b.ReportMetric(float64(runs*stepsPerRun)/b.Elapsed().Seconds(), "steps/s")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// BenchmarkClaimLatency measures the time from a detached run's creation
// to a worker's claim (its RunResumed event), one run at a time (the next
// is enqueued once the previous one finished), with two idle workers: woken by NOTIFY on PostgreSQL, by polling every 50ms on
// SQLite. It reports the p50 and p99.
func BenchmarkClaimLatency(b *testing.B) {
	for _, kind := range []string{"postgres", "sqlite"} {
		b.Run(kind, func(b *testing.B) {
			bb := pgBench
			if kind == "sqlite" {
				bb = sqliteBench
			}
			be := bb(b)
			be.prog = tenProgram(b)
			be.claimed = make(chan string, 1024)
			st := be.open()
			defer st.Close()
			eng := be.engine(b, st, "enqueuer", nil)
			stop := be.startWorkers(b, 2, 50*time.Millisecond)
			defer stop()
			time.Sleep(200 * time.Millisecond) // the workers listen
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				id := be.enqueue(b, eng, 1)[0]
				for got := <-be.claimed; got != id; got = <-be.claimed {
				}
				lat = append(lat, time.Since(start))
				waitFinished(b, st, []string{id}) // the workers are idle again
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}
