package worker_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

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
	open       func() store.Store
	dataDir    string // the PostgreSQL server's, for its CPU time
	prog       *ir.Program
	durability runtime.Durability
	claimed    chan string  // the runs claimed (their RunResumed events)
	ended      chan string  // the runs ended (RunFinished, RunFailed events)
	overflow   atomic.Int64 // ends that found ended full (a run ended twice)
}

func (bb *bench) engine(tb testing.TB, st store.Store, name string, observe func(store.Event)) *runtime.Engine {
	tb.Helper()
	eng, err := runtime.New(runtime.Config{
		Store: st, Actions: stdlib.Actions(stdlib.Config{}),
		Owner:       runtime.Owner{PID: os.Getpid(), Host: "bench/" + name, Start: "0"},
		ObserveFunc: observe,
		Durability:  bb.durability,
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
			if e.NodeID == "" && (e.Kind == runtime.EventRunFinished || e.Kind == runtime.EventRunFailed) && bb.ended != nil {
				// Never blocks the committer: the buffer holds one end
				// per run, so only a run that ends twice overflows it.
				select {
				case bb.ended <- e.RunID:
				default:
					bb.overflow.Add(1)
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

// waitEnded waits for the end events of ids (seen by the workers'
// ObserveFunc, so that waiting does not load the store), then checks in
// the store that every run finished.
func (bb *bench) waitEnded(tb testing.TB, st store.Store, ids []string) {
	tb.Helper()
	want := make(map[string]bool, len(ids)) // id: its end was seen
	for _, id := range ids {
		want[id] = false
	}
	timeout := time.After(10 * time.Minute)
	for n := 0; n < len(ids); {
		select {
		case id := <-bb.ended:
			switch ended, ok := want[id]; {
			case ok && !ended:
				want[id] = true
				n++
			case ok:
				tb.Fatalf("run %s ended twice (two workers ran it)", id)
			}
		case <-timeout:
			tb.Fatalf("%d of %d runs ended in 10 minutes", n, len(ids))
		}
	}
	// The end event is observed after its commit: a read shows it.
	for _, id := range ids {
		r, err := st.RunGetByID(context.Background(), &store.RunGetByIDParams{ID: id})
		if err != nil {
			tb.Fatal(err)
		}
		if r.Status != store.RunFinished {
			tb.Fatalf("run %s: %s %s", id, r.Status, r.Error)
		}
	}
}

// pgServer returns the URL of a fresh database on the benchmarks'
// cluster (fsync on, synchronous_commit on: every commit is flushed to
// disk before it returns), or on the server SMITHC_BENCH_PG names (for
// profiling with pg_stat_statements).
func pgServer(b *testing.B) (url, dataDir string) {
	if ext := os.Getenv("SMITHC_BENCH_PG"); ext != "" {
		return benchDatabase(b, ext), os.Getenv("SMITHC_BENCH_PG_DATA")
	}
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
	return url, filepath.Join(durable.Dir, "data")
}

// benchDatabase creates a fresh database on the server at url and
// returns its URL.
func benchDatabase(b *testing.B, url string) string {
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	name := fmt.Sprintf("bench_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := conn.Exec(context.Background(), "CREATE DATABASE "+name); err != nil {
		b.Fatal(err)
	}
	cfg := conn.Config()
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
}

func pgBench(b *testing.B, d runtime.Durability) *bench {
	url, dataDir := pgServer(b)
	conns, _ := strconv.Atoi(os.Getenv("SMITHC_BENCH_COMMIT_CONNS"))
	return &bench{durability: d, dataDir: dataDir, open: func() store.Store {
		st, err := pgstore.Open(context.Background(), url, pgstore.Options{CommitConns: conns})
		if err != nil {
			b.Fatal(err)
		}
		return st
	}}
}

// sqliteBench is a SQLite file with the synchronous setting the CLI uses
// for the durability: NORMAL (a commit survives a process crash) or FULL
// (every commit fsynced).
func sqliteBench(b *testing.B, d runtime.Durability) *bench {
	path := filepath.Join(b.TempDir(), "bench.db")
	sync := "NORMAL"
	if d == runtime.DurabilityFull {
		sync = "FULL"
	}
	return &bench{durability: d, open: func() store.Store {
		st, err := sqlitestore.Open(context.Background(), path, sqlitestore.Options{Synchronous: sync})
		if err != nil {
			b.Fatal(err)
		}
		return st
	}}
}

var durabilities = []runtime.Durability{runtime.DurabilityNormal, runtime.DurabilityFull}

// BenchmarkWorkers measures steps per second of no-op steps (ten-step
// sequential runs, enqueued detached) executed by 1, 2 and 4 workers on
// PostgreSQL and on a SQLite file, with the runtime's durability normal
// (a chain of compute steps shares commits) and full (one commit per
// step). Each worker runs 4 runs at once.
func BenchmarkWorkers(b *testing.B) {
	for _, kind := range []string{"postgres", "sqlite"} {
		for _, d := range durabilities {
			for _, n := range []int{1, 2, 4} {
				b.Run(fmt.Sprintf("%s/%s/workers=%d", kind, d, n), func(b *testing.B) {
					// PostgreSQL's workers poll at the default interval
					// (NOTIFY wakes them), SQLite's every 50ms.
					be, poll := pgBench(b, d), worker.DefaultPollInterval
					if kind == "sqlite" {
						be, poll = sqliteBench(b, d), 50*time.Millisecond
					}
					be.prog = tenProgram(b)
					runs := (b.N + stepsPerRun - 1) / stepsPerRun
					be.ended = make(chan string, runs)
					st := be.open()
					defer st.Close()
					eng := be.engine(b, st, "enqueuer", nil)
					ids := be.enqueue(b, eng, runs)
					cpu := startCPU(be.dataDir)
					b.ResetTimer()
					stop := be.startWorkers(b, n, poll)
					be.waitEnded(b, st, ids)
					b.StopTimer()
					stop()
					if n := be.overflow.Load(); n > 0 {
						b.Fatalf("%d end events more than runs: runs ended twice", n)
					}
					cpu.report(b, runs*stepsPerRun)
					b.ReportMetric(float64(runs*stepsPerRun)/b.Elapsed().Seconds(), "steps/s")
					b.ReportMetric(0, "ns/op")
				})
			}
		}
	}
}

// BenchmarkWorkerFloor is BenchmarkWorkers' baseline: the same number of
// step commits made directly with pgx, with the same concurrency (per
// worker a pool and 4 goroutines, one per run), each step one pipelined
// transaction of 3 single-row statements (upsert a node row, insert an
// attempt row, insert an event row) in pgstore's schema: the floor of a
// runtime that commits each step on its own. On SQLite, the same
// transactions in sequence (SQLite has one writer) with synchronous=FULL,
// the setting of durability full.
func BenchmarkWorkerFloor(b *testing.B) {
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("postgres/workers=%d", n), func(b *testing.B) {
			url, dataDir := pgServer(b)
			st, err := pgstore.Open(context.Background(), url, pgstore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			st.Close()
			const perWorker = 4
			writers := n * perWorker
			each := (b.N + writers - 1) / writers
			pools := make([]*pgxpool.Pool, n)
			for i := range pools {
				if pools[i], err = pgxpool.New(context.Background(), url); err != nil {
					b.Fatal(err)
				}
				defer pools[i].Close()
			}
			now := time.Now().UTC()
			for w := 0; w < writers; w++ {
				if _, err := pools[0].Exec(context.Background(), `INSERT INTO run (id, workflow, status, created_at, updated_at) VALUES ($1, 'floor', 'running', $2, $2)`,
					fmt.Sprintf("floor-%d", w), now); err != nil {
					b.Fatal(err)
				}
			}
			cpu := startCPU(dataDir)
			b.ResetTimer()
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func(pool *pgxpool.Pool, run string) {
					defer wg.Done()
					for i := 0; i < each; i++ {
						errs <- floorStep(pool, run, i)
					}
				}(pools[w%n], fmt.Sprintf("floor-%d", w))
			}
			go func() { wg.Wait(); close(errs) }()
			for err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			for _, p := range pools {
				p.Close() // its backends exit: their CPU time is counted
			}
			cpu.report(b, each*writers)
			b.ReportMetric(float64(each*writers)/b.Elapsed().Seconds(), "steps/s")
			b.ReportMetric(0, "ns/op")
		})
	}
	b.Run("sqlite/full", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "floor.db")
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		ctx := context.Background()
		for _, q := range []string{
			`CREATE TABLE node (run TEXT NOT NULL, id TEXT NOT NULL, state TEXT NOT NULL, output TEXT, updated_at TEXT NOT NULL, PRIMARY KEY (run, id))`,
			`CREATE TABLE attempt (run TEXT NOT NULL, id TEXT NOT NULL, number INTEGER NOT NULL, state TEXT NOT NULL, started_at TEXT NOT NULL, PRIMARY KEY (run, id, number))`,
			`CREATE TABLE event (seq INTEGER PRIMARY KEY, run TEXT NOT NULL, node TEXT NOT NULL, kind TEXT NOT NULL, time TEXT NOT NULL, data TEXT)`,
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
		cpu := startCPU("")
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			now := time.Now().UTC().Format(time.RFC3339Nano)
			id := "s" + strconv.Itoa(i)
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{`INSERT INTO node (run, id, state, output, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (run, id) DO UPDATE SET state = excluded.state, output = excluded.output, updated_at = excluded.updated_at`,
					[]any{"run-1", id, "finished", strconv.Itoa(i), now}},
				{`INSERT INTO attempt (run, id, number, state, started_at) VALUES (?, ?, ?, ?, ?)`, []any{"run-1", id, 1, "finished", now}},
				{`INSERT INTO event (run, node, kind, time, data) VALUES (?, ?, ?, ?, ?)`, []any{"run-1", id, "NodeFinished", now, `{}`}},
			} {
				if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		cpu.report(b, b.N)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
		b.ReportMetric(0, "ns/op")
	})
}

// floorStep is one step commit of BenchmarkWorkerFloor: one round trip.
func floorStep(pool *pgxpool.Pool, run string, i int) error {
	now := time.Now().UTC()
	node := "s" + strconv.Itoa(i)
	var pb pgx.Batch
	pb.Queue(`BEGIN`)
	pb.Queue(`INSERT INTO node (run_id, node_id, scope, kind, state, attempts, output, updated_at) VALUES ($1, $2, '', 'value', 'finished', 1, $3, $4)
		ON CONFLICT (run_id, node_id, scope) DO UPDATE SET state = EXCLUDED.state, output = EXCLUDED.output, updated_at = EXCLUDED.updated_at`,
		run, node, strconv.Itoa(i), now)
	pb.Queue(`INSERT INTO attempt (run_id, node_id, scope, number, state, started_at, finished_at) VALUES ($1, $2, '', 1, 'finished', $3, $3)`, run, node, now)
	pb.Queue(`INSERT INTO event (run_id, node_id, kind, time, data) VALUES ($1, $2, 'NodeFinished', $3, '{}')`, run, node, now)
	pb.Queue(`COMMIT`)
	return pool.SendBatch(context.Background(), &pb).Close()
}

// BenchmarkClaimLatency measures the time from a detached run's creation
// (its commit returned) to a worker's claim (its RunResumed event,
// observed once committed), one run at a time (the next
// is enqueued once the previous one finished), with two idle workers:
// woken by NOTIFY on PostgreSQL, by polling every 50ms on SQLite. It
// reports the p50 and p99.
func BenchmarkClaimLatency(b *testing.B) {
	for _, kind := range []string{"postgres", "sqlite"} {
		b.Run(kind, func(b *testing.B) {
			be, poll := pgBench(b, runtime.DurabilityNormal), worker.DefaultPollInterval
			if kind == "sqlite" {
				be, poll = sqliteBench(b, runtime.DurabilityNormal), 50*time.Millisecond
			}
			be.prog = tenProgram(b)
			be.claimed = make(chan string, 1024)
			be.ended = make(chan string, 1024)
			st := be.open()
			defer st.Close()
			eng := be.engine(b, st, "enqueuer", nil)
			stop := be.startWorkers(b, 2, poll)
			defer stop()
			time.Sleep(200 * time.Millisecond) // the workers listen
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				id := be.enqueue(b, eng, 1)[0]
				start := time.Now() // the run is committed: claimable
				for got := <-be.claimed; got != id; got = <-be.claimed {
				}
				lat = append(lat, time.Since(start))
				be.waitEnded(b, st, []string{id}) // the workers are idle again
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}
