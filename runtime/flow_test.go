package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

func start(t *testing.T, b *bundle, prog *ir.Program, input map[string]any) *runtime.Result {
	t.Helper()
	res, err := b.engine.Start(context.Background(), runtime.StartParams{Program: prog, Input: input})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return res
}

func TestSequenceReadsOutputs(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	in := schema.ObjectOf(&schema.Field{Name: "name", Type: schema.StringType},
		&schema.Field{Name: "n", Type: schema.IntType, HasDefault: true, Default: int64(2)})
	prog := program("seq", in,
		value("greet", `"hello " + input.name`, withOutput(schema.StringType)),
		value("count", `{ text: greet, n: input.n * 10, id: run.id }`),
	)
	res := start(t, b, prog, map[string]any{"name": "ann"})
	want := map[string]any{"text": "hello ann", "n": int64(20), "id": res.RunID}
	if res.Status != store.RunFinished || res.Error != "" {
		t.Fatalf("status %s, error %q", res.Status, res.Error)
	}
	if diff := cmp.Diff(want, res.Output); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	wantKinds := []string{"RunStarted", "NodeStarted greet", "AttemptStarted greet", "NodeFinished greet",
		"NodeStarted count", "AttemptStarted count", "NodeFinished count", "RunFinished"}
	if diff := cmp.Diff(wantKinds, b.kinds(res.RunID)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// The stored run has the result and no owner.
	run, err := b.store.RunGetByID(context.Background(), &store.RunGetByIDParams{ID: res.RunID})
	if err != nil {
		t.Fatal(err)
	}
	if run.Owner != "" || string(run.Input) != `{"n":2,"name":"ann"}` || run.FinishedAt.IsZero() {
		t.Errorf("stored run: owner %q input %s finished %v", run.Owner, run.Input, run.FinishedAt)
	}
}

func TestInputValidation(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	in := schema.ObjectOf(&schema.Field{Name: "repo", Type: schema.StringType},
		&schema.Field{Name: "max", Type: schema.IntType})
	prog := program("in", in, value("a", "1"))
	tests := []struct {
		input map[string]any
		want  string
	}{
		{map[string]any{"max": 1}, "input.repo: missing required field of type string"},
		{map[string]any{"repo": "x", "max": "many"}, `input.max: expected int, got string "many"`},
	}
	for _, tt := range tests {
		_, err := b.engine.Start(context.Background(), runtime.StartParams{Program: prog, Input: tt.input})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Start(%v) error = %v, want it to contain %q", tt.input, err, tt.want)
		}
	}
	runs, _ := b.store.RunList(context.Background(), &store.RunListParams{})
	if len(runs) != 0 {
		t.Errorf("an invalid input created %d runs", len(runs))
	}
}

func TestParallelHonoursMaxConcurrency(t *testing.T) {
	t.Parallel()
	var cur, peak atomic.Int32
	slow := runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(30 * time.Millisecond)
		cur.Add(-1)
		return a.NodeID, nil
	})
	b := setup(t, runtime.Actions{"slow": slow})
	var kids []*ir.Node
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		kids = append(kids, step(id, "slow", nil))
	}
	kids = append(kids, value("g", `a + b`, withNeeds("a", "b")))
	prog := program("par", nil, par("p", 2, kids...), value("after", `[a, f, g]`))
	res := start(t, b, prog, nil)
	if res.Status != store.RunFinished {
		t.Fatalf("status %s: %s", res.Status, res.Error)
	}
	if diff := cmp.Diff([]any{"a", "f", "ab"}, res.Output); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if p := peak.Load(); p != 2 {
		t.Errorf("peak concurrency %d, want 2", p)
	}
}

func TestBranchChoosesOneArm(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	in := schema.ObjectOf(&schema.Field{Name: "n", Type: schema.IntType})
	prog := program("br", in,
		branch("br", []*ir.Arm{
			arm("input.n > 10", value("big", `"big"`)),
			arm("input.n > 5", value("medium", `"medium"`)),
		}, seq("", value("small", `"small"`))),
		value("out", `big ?? medium ?? small`),
	)
	tests := []struct {
		n      int
		want   string
		states map[string]string
	}{
		{20, "big", map[string]string{"br": "finished", "big": "finished", "medium": "skipped", "small": "skipped", "out": "finished"}},
		{7, "medium", map[string]string{"br": "finished", "big": "skipped", "medium": "finished", "small": "skipped", "out": "finished"}},
		{1, "small", map[string]string{"br": "finished", "big": "skipped", "medium": "skipped", "small": "finished", "out": "finished"}},
	}
	for _, tt := range tests {
		res := start(t, b, prog, map[string]any{"n": tt.n})
		if res.Output != tt.want {
			t.Errorf("n=%d: output %v (%s %s), want %s", tt.n, res.Output, res.Status, res.Error, tt.want)
		}
		if diff := cmp.Diff(tt.states, b.nodeStates(t, res.RunID)); diff != "" {
			t.Errorf("n=%d: states (-want +got):\n%s", tt.n, diff)
		}
	}
}

func TestLoop(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	// gen reads the previous iteration's score (null at first); score
	// comes later in the body.
	body := []*ir.Node{
		value("gen", `(score ?? 0) + 1`),
		value("score", `gen * 2 + iteration`),
	}
	tests := []struct {
		name, until, onMax string
		max                int
		status             store.RunStatus
		out                any
		err                string
	}{
		// iteration 0: gen 1, score 2; it 1: gen 3, score 7; it 2: gen 8, score 18
		{"until holds", "score > 5", "", 10, store.RunFinished, int64(7), ""},
		{"return-last", "false", "return-last", 3, store.RunFinished, int64(18), ""},
		{"max reached", "false", "", 3, store.RunFailed, nil, "loop L failed: reached max_iterations = 3 before its until condition held; `smithc retry "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog := program("loop", nil, loop("L", tt.until, tt.max, tt.onMax, body...), value("after", "score"))
			res := start(t, b, prog, nil)
			if res.Status != tt.status || !strings.Contains(res.Error, tt.err) {
				t.Fatalf("status %s error %q, want %s %q", res.Status, res.Error, tt.status, tt.err)
			}
			if diff := cmp.Diff(tt.out, res.Output); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			if tt.status != store.RunFailed {
				return
			}
			// The loop's own failure is recorded once, with a kind of its
			// own that catch and retry predicates can read.
			n := 0
			for _, k := range b.kinds(res.RunID) {
				if k == "NodeFailed L" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("NodeFailed L recorded %d times, want 1: %v", n, b.kinds(res.RunID))
			}
			if got := b.nodeErrorKind(t, res.RunID, "L"); got != runtime.ErrKindMaxIterations {
				t.Errorf("loop error kind %q, want %q", got, runtime.ErrKindMaxIterations)
			}
		})
	}
	// Instances are keyed by iteration.
	prog := program("loop", nil, loop("L", "iteration >= 1", 5, "", body...))
	res := start(t, b, prog, nil)
	want := map[string]string{"L": "finished", "gen[L#0]": "finished", "score[L#0]": "finished", "gen[L#1]": "finished", "score[L#1]": "finished"}
	if diff := cmp.Diff(want, b.nodeStates(t, res.RunID)); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
}

func TestForFansOut(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	in := schema.ObjectOf(&schema.Field{Name: "xs", Type: schema.ListOf(schema.IntType)})
	prog := program("for", in,
		forEach("F", "x", "input.xs", 2,
			value("sq", "x * x"),
			value("tag", `string(index) + ":" + string(sq)`),
		),
		value("all", `{ squares: sq, tags: tag }`),
	)
	res := start(t, b, prog, map[string]any{"xs": []any{3, 1, 2}})
	want := map[string]any{"squares": []any{int64(9), int64(1), int64(4)}, "tags": []any{"0:9", "1:1", "2:4"}}
	if res.Status != store.RunFinished {
		t.Fatalf("status %s: %s", res.Status, res.Error)
	}
	if diff := cmp.Diff(want, res.Output); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	states := b.nodeStates(t, res.RunID)
	if states["sq[F[2]]"] != "finished" || states["tag[F[0]]"] != "finished" {
		t.Errorf("states: %v", states)
	}
	// An empty list finishes at once.
	res = start(t, b, prog, map[string]any{"xs": []any{}})
	if res.Status != store.RunFinished {
		t.Errorf("empty for: %s %s", res.Status, res.Error)
	}
}

func TestTryCatchFinally(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	prog := program("try", nil,
		try("T",
			[]*ir.Node{sh("boom", tmpl("exit 3")), value("never", "1")},
			[]*ir.Node{value("handled", `error.kind + " " + string(error.exit_code)`)},
			[]*ir.Node{value("cleanup", `"done"`)},
		),
		value("after", `[handled, cleanup, never]`),
	)
	res := start(t, b, prog, nil)
	if res.Status != store.RunFinished {
		t.Fatalf("status %s: %s", res.Status, res.Error)
	}
	if diff := cmp.Diff([]any{"exit 3", "done", nil}, res.Output); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	// Without catch the failure propagates after finally.
	prog = program("try2", nil,
		try("T", []*ir.Node{sh("boom", tmpl("exit 4"))}, nil, []*ir.Node{value("cleanup", `"done"`)}),
		value("after", "1"),
	)
	res = start(t, b, prog, nil)
	if res.Status != store.RunFailed || !strings.Contains(res.Error, "step boom failed") {
		t.Errorf("status %s error %q", res.Status, res.Error)
	}
	if st := b.nodeStates(t, res.RunID); st["cleanup"] != "finished" || st["after"] != "" {
		t.Errorf("states %v", st)
	}
}

// TestLoopWithoutUntil: a loop with no until runs max_iterations times
// and finishes (it has no condition to miss).
func TestLoopWithoutUntil(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	l := loop("L", "", 3, "", value("s", "iteration * 10"))
	l.Loop.Until = nil
	prog := program("loop", nil, l, value("after", "s"))
	res := start(t, b, prog, nil)
	if res.Status != store.RunFinished {
		t.Fatalf("status %s error %q, want finished", res.Status, res.Error)
	}
	if diff := cmp.Diff(int64(20), res.Output); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

// TestFanOutElementEventsInOrder: in a for whose elements wait for a slot,
// each element's events are in its own order (NodeStarted, then its
// attempt, then NodeFinished) although the start is queued once the
// element has a slot; elements still waiting when the run is cancelled
// are on record as started before they are cancelled.
func TestFanOutElementEventsInOrder(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gate := runtime.ActionFunc(func(c context.Context, a *runtime.Attempt) (any, error) {
		if calls.Add(1) == 150 {
			cancel() // the other elements are then running or waiting for a slot
		}
		return a.NodeID, nil
	})
	b := setup(t, runtime.Actions{"gate": gate}, func(c *runtime.Config) { c.MaxConcurrency = 2 })
	prog := program("fan", nil, forEach("F", "v", "0..199", 0, step("w", "gate", nil)))
	res, err := b.engine.Start(ctx, runtime.StartParams{Program: prog})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != store.RunCancelled {
		t.Fatalf("status %s, want cancelled", res.Status)
	}
	evs, err := b.store.EventList(context.Background(), &store.EventListParams{RunID: res.RunID})
	if err != nil {
		t.Fatal(err)
	}
	order := map[string]string{"NodeStarted": "", "AttemptStarted": "NodeStarted", "NodeFinished": "AttemptStarted", "NodeCancelled": "NodeStarted AttemptStarted"}
	last := map[string]string{}
	finished, cancelled := 0, 0
	for _, e := range evs {
		if e.NodeID != "w" {
			continue
		}
		want, ok := order[e.Kind]
		if !ok {
			continue
		}
		prev := last[e.Scope]
		if (want == "" && prev != "") || (want != "" && !strings.Contains(want, prev)) || (want != "" && prev == "") {
			t.Fatalf("element %s: %s after %q", e.Scope, e.Kind, prev)
		}
		last[e.Scope] = e.Kind
		switch e.Kind {
		case "NodeFinished":
			finished++
		case "NodeCancelled":
			cancelled++
		}
	}
	if finished < 150 || cancelled == 0 {
		t.Fatalf("%d elements finished and %d cancelled, want at least 150 and some", finished, cancelled)
	}
}

// TestStartOfATakenIDCreatesNothing: a Start whose run cannot be created
// (its id is taken) is runtime.ErrNotCreated as well as the store's
// error, and leaves the existing run as it was; a Start that created its
// run and failed later is not ErrNotCreated.
func TestStartOfATakenIDCreatesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	prog := program("seq", nil, value("a", `1`))
	res, err := b.engine.Start(ctx, runtime.StartParams{Program: prog, RunID: "taken-1"})
	if err != nil || res.Status != store.RunFinished {
		t.Fatalf("first Start: %+v, %v", res, err)
	}
	_, err = b.engine.Start(ctx, runtime.StartParams{Program: program("seq", nil, value("a", `2`)), RunID: "taken-1"})
	if !errors.Is(err, runtime.ErrNotCreated) || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second Start with the same id: %v (want ErrNotCreated and ErrConflict)", err)
	}
	if strings.Contains(err.Error(), runtime.ErrNotCreated.Error()) {
		t.Errorf("the message repeats the marker: %v", err)
	}
	n, err := b.store.NodeGet(ctx, &store.NodeGetParams{RunID: "taken-1", NodeID: "a"})
	if err != nil || string(n.Output) != "1" {
		t.Fatalf("the existing run's node: %+v, %v", n, err)
	}
	failed, err := b.engine.Start(ctx, runtime.StartParams{Program: program("seq", nil, value("a", `1 / 0`))})
	if errors.Is(err, runtime.ErrNotCreated) {
		t.Fatalf("a run that failed after it was created: %v", err)
	}
	if err == nil && failed.Status != store.RunFailed {
		t.Fatalf("1 / 0: %+v", failed)
	}
}

// TestFailureStopsStepsWaitingForASlot: a step that is waiting for a slot
// of the run's max concurrency when another step fails does not start
// after the failure, and is not left on record as running: it is not
// reached, and a resume starts it. The children of the parallel take the
// one slot in an order of the scheduler's choosing, so the run is made a
// few times; in each, no attempt may begin after the failing one ended.
func TestFailureStopsStepsWaitingForASlot(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var calls []string
	rec := runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		mu.Lock()
		calls = append(calls, a.NodeID)
		mu.Unlock()
		if a.NodeID == "bad" {
			time.Sleep(5 * time.Millisecond)
			return nil, errors.New("boom")
		}
		return a.NodeID, nil
	})
	b := setup(t, runtime.Actions{"rec": rec}, func(c *runtime.Config) { c.MaxConcurrency = 1 })
	kids := []*ir.Node{step("bad", "rec", nil)}
	for i := range 12 {
		kids = append(kids, step(fmt.Sprintf("s%d", i), "rec", nil))
	}
	prog := program("slots", nil, par("p", 0, kids...))
	unrun := 0
	for range 6 {
		mu.Lock()
		calls = nil
		mu.Unlock()
		res := start(t, b, prog, nil)
		if res.Status != store.RunFailed {
			t.Fatalf("status %s, want failed", res.Status)
		}
		mu.Lock()
		got := slices.Clone(calls)
		mu.Unlock()
		if got[len(got)-1] != "bad" {
			t.Fatalf("attempts began after the failing step's: %v", got)
		}
		unrun += len(kids) - len(got)
		for k, st := range b.nodeStates(t, res.RunID) {
			if st == string(store.NodeRunning) {
				t.Errorf("run %s: %s is %s after the run failed", res.RunID, k, st)
			}
		}
		for _, e := range b.kinds(res.RunID) {
			if id, ok := strings.CutPrefix(e, "NodeStarted "); ok && !slices.Contains(got, id) && id != "p" {
				t.Errorf("run %s: %s is on record as started but never ran", res.RunID, id)
			}
		}
	}
	if unrun == 0 {
		t.Fatal("in every run the failing step had the slot last; the test proved nothing")
	}
}
