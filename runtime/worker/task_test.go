package worker_test

import (
	"context"
	"fmt"
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

func buildSMW(tb testing.TB, src string) *ir.Program {
	tb.Helper()
	file := filepath.Join(tb.TempDir(), "w.smw")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
	res := compiler.Build(file, &compiler.Config{Checker: checker.Config{Actions: stdlib.Specs()}})
	if res.Program == nil {
		tb.Fatalf("%s", res.Diagnostics.Error())
	}
	return res.Program
}

// taskWorkers starts n workers in this process, each with its own pool,
// engine and owner ("tw0", "tw1", …) and 16 task slots (as many as a
// run's MaxConcurrency), sharing steps when distribute is
// set; it returns their stop function.
func taskWorkers(tb testing.TB, url string, prog *ir.Program, n int, distribute bool) func() {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var stores []store.Store
	for i := 0; i < n; i++ {
		st, err := pgstore.Open(context.Background(), url, pgstore.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		stores = append(stores, st)
		eng, err := runtime.New(runtime.Config{Store: st, Actions: stdlib.Actions(stdlib.Config{}),
			Owner:       runtime.Owner{PID: os.Getpid(), Host: fmt.Sprintf("test/tw%d", i), Start: "0"},
			CompileFunc: func(context.Context, []runtime.Source) (*ir.Program, error) { return prog, nil },
			Distribute:  distribute, MaxConcurrency: 16})
		if err != nil {
			tb.Fatal(err)
		}
		w, err := worker.New(worker.Config{Engine: eng, Concurrency: 4, Tasks: 16, PollInterval: 50 * time.Millisecond})
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

// TestTaskRetriesAndValidation: steps executed as tasks by other workers
// fail, are retried under their retry policy (the attempt number and the
// error kind reach the holder), a task whose output does not fit its
// type is a validation failure of that attempt, as in-process, and a
// step executed elsewhere reads the outputs of a whole for (handed over
// with its task).
func TestTaskRetriesAndValidation(t *testing.T) {
	url := pgtest.NewDatabase(t)
	prog := buildSMW(t, `workflow flaky {
  for i in 1..6 {
    max_concurrency = 6
    step try {
      run = "if [ ${run.attempt} -lt 2 ]; then echo no >&2; exit 3; fi; echo ${i}"
      retry { attempts = 3, when = error.kind == "exit" }
    }
  }
  step typed {
    output { n: int }
    run = "if [ ${run.attempt} -lt 2 ]; then echo '{\"n\": \"five\"}'; else echo '{\"n\": 5}'; fi"
    retry { attempts = 2 }
  }
  step echoed { run = "echo ${sum(map(try, int(trim(.stdout))))}" }
  step total { value = int(trim(echoed.stdout)) + typed.n }
  output = total
}
`)
	st, err := pgstore.Open(context.Background(), url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	enq, err := runtime.New(runtime.Config{Store: st, Actions: stdlib.Actions(stdlib.Config{})})
	if err != nil {
		t.Fatal(err)
	}
	res, err := enq.Start(context.Background(), runtime.StartParams{Program: prog, Detach: true})
	if err != nil {
		t.Fatal(err)
	}
	stop := taskWorkers(t, url, prog, 2, true)
	defer stop()
	waitFinished(t, st, []string{res.RunID})
	r, err := st.RunGetByID(context.Background(), &store.RunGetByIDParams{ID: res.RunID})
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Output) != "26" {
		t.Errorf("run %s output %s %s, want 26", r.Status, r.Output, r.Error)
	}
	atts, err := st.AttemptList(context.Background(), &store.AttemptListParams{RunID: res.RunID})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	owners := map[string]bool{}
	for _, a := range atts {
		if a.NodeID == "typed" {
			got[fmt.Sprintf("typed %d:%s:%s", a.Number, a.State, a.ErrorKind)]++
		}
		if a.NodeID != "try" {
			continue
		}
		got[fmt.Sprintf("%d:%s:%s", a.Number, a.State, a.ErrorKind)]++
		owners[a.Owner] = true
	}
	if got["1:failed:exit"] != 6 || got["2:finished:"] != 6 || got["typed 1:failed:validation"] != 1 || got["typed 2:finished:"] != 1 || len(got) != 4 {
		t.Errorf("attempts (number:state:kind → count) = %v, want 6 of try failed with exit then finished, typed failed with validation then finished", got)
	}
	for o := range owners {
		if o == "" {
			t.Errorf("an attempt has no owner: %v", owners)
		}
	}
	tasks, err := st.TaskList(context.Background(), &store.TaskListParams{RunID: res.RunID})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range tasks {
		if k.NodeID != "try" {
			continue
		}
		if k.State != store.TaskFinished || k.Number != 2 || k.Token != 2 {
			t.Errorf("task %s [%s] = %s attempt %d token %d, want finished attempt 2 with token 2", k.NodeID, k.Scope, k.State, k.Number, k.Token)
		}
	}
}

// BenchmarkFanOut measures steps per second of runs of a for of 200
// shell steps (`true`; b.N counts steps), one run at a time, held by one
// of n workers in this process: with the steps shared as tasks, and
// executed by the holder itself.
func BenchmarkFanOut(b *testing.B) {
	prog := buildSMW(b, `workflow fan {
  for i in 1..200 {
    max_concurrency = 16
    step s { run = "true" }
  }
}
`)
	for _, mode := range []string{"tasks", "local"} {
		for _, n := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", mode, n), func(b *testing.B) {
				url := pgtest.NewDatabase(b)
				st, err := pgstore.Open(context.Background(), url, pgstore.Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				enq, err := runtime.New(runtime.Config{Store: st, Actions: stdlib.Actions(stdlib.Config{})})
				if err != nil {
					b.Fatal(err)
				}
				stop := taskWorkers(b, url, prog, n, mode == "tasks")
				defer stop()
				runs := (b.N + 199) / 200 // b.N counts steps
				b.ResetTimer()
				for i := 0; i < runs; i++ {
					res, err := enq.Start(context.Background(), runtime.StartParams{Program: prog, Detach: true})
					if err != nil {
						b.Fatal(err)
					}
					waitFinished(b, st, []string{res.RunID})
				}
				b.StopTimer()
				b.ReportMetric(float64(200*runs)/b.Elapsed().Seconds(), "steps/s")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// waitFinished polls the store until every run of ids finished.
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
