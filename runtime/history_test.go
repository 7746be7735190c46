package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

// historyProgram is a loop of n iterations whose body reads the current
// iteration (a), its own previous iteration (b, c), the last iteration
// of a nested loop (m) and, in iteration gate, a step that fails until
// ok.txt exists; the step after the loop reads the last iteration.
func historyProgram(n, gate int) *ir.Program {
	return program("history", nil,
		loop("L", fmt.Sprintf("iteration >= %d", n-1), n+1, "fail",
			value("a", "iteration * 2"),
			value("b", "(b ?? 0) + a"),
			branch("g", []*ir.Arm{arm(fmt.Sprintf("iteration == %d", gate), sh("gate", tmpl("cat ok.txt")))}, nil),
			loop("M", "iteration >= 2", 5, "fail", value("m", "(m ?? 0) + a")),
			value("c", "(c ?? 0) + m"),
		),
		value("out", "[a, b, c]"))
}

// TestLoopHistoryAfterResume: a loop that ran 40 iterations, failed and
// was resumed goes on reading the right values: its own previous
// iteration, the last iteration of a nested loop, and after the loop the
// last iteration, although older iterations are no longer in memory.
func TestLoopHistoryAfterResume(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	const n, gate = 60, 40
	prog := historyProgram(n, gate)
	res := start(t, b, prog, nil)
	if res.Status != store.RunFailed {
		t.Fatalf("first session: %+v", res)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "ok.txt"), []byte("ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := b.engine.Resume(ctx, res.RunID, runtime.ResumeParams{Program: prog})
	if err != nil || res.Status != store.RunFinished {
		t.Fatalf("resume: %+v %v", res, err)
	}
	var sumA int64
	for i := int64(0); i < n; i++ {
		sumA += 2 * i
	}
	want := []any{int64(2 * (n - 1)), sumA, 3 * sumA}
	got, _ := res.Output.([]any)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("output %v, want %v", res.Output, want)
	}
	// Every iteration's rows stay in the store.
	states := b.nodeStates(t, res.RunID)
	for _, k := range []string{"b[L#0]", "b[L#39]", "m[L#0/M#2]", "c[L#59]"} {
		if states[k] != "finished" {
			t.Errorf("%s is %q in the store, want finished", k, states[k])
		}
	}
}

// TestLoopHistoryUninterrupted: the same loop run in one session.
func TestLoopHistoryUninterrupted(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	if err := os.WriteFile(filepath.Join(b.dir, "ok.txt"), []byte("ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	const n = 30
	res := start(t, b, historyProgram(n, 7), nil)
	var sumA int64
	for i := int64(0); i < n; i++ {
		sumA += 2 * i
	}
	if got := fmt.Sprint(res.Output); res.Status != store.RunFinished || got != fmt.Sprint([]any{int64(2 * (n - 1)), sumA, 3 * sumA}) {
		t.Errorf("%+v", res)
	}
}

// BenchmarkLoopMemory measures the live heap at the end of a loop of N
// one-step iterations (after a GC, while the session still holds its
// state): with bounded history it does not grow with N. live-B/iter is
// the growth from N=1,000 to N=10,000 per added iteration.
func BenchmarkLoopMemory(b *testing.B) {
	live := func(n int) uint64 {
		prog := program("loopy", nil, loop("L", fmt.Sprintf("iteration >= %d", n-1), n+1, "fail", value("s", "iteration")), value("out", "s"))
		var heap uint64
		bd := setup(b, nil, func(c *runtime.Config) {
			c.ObserveFunc = func(e store.Event) {
				if e.Kind == runtime.EventRunFinished {
					goruntime.GC()
					var ms goruntime.MemStats
					goruntime.ReadMemStats(&ms)
					heap = ms.HeapAlloc
				}
			}
		})
		res, err := bd.engine.Start(context.Background(), runtime.StartParams{Program: prog})
		if err != nil || res.Status != store.RunFinished || res.Output != int64(n-1) {
			b.Fatalf("%+v %v", res, err)
		}
		return heap
	}
	for i := 0; i < b.N; i++ {
		small, large := live(1000), live(10000)
		b.ReportMetric(float64(small)/1e6, "live-MB@1000")
		b.ReportMetric(float64(large)/1e6, "live-MB@10000")
		b.ReportMetric((float64(large)-float64(small))/9000, "live-B/iter")
	}
	b.ReportMetric(0, "ns/op")
}

// TestInspectPage: the node table of a long loop is paged, in iteration
// order (L#9 before L#10), with the count of what was left out.
func TestInspectPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	const n = 50
	prog := program("paged", nil, loop("L", fmt.Sprintf("iteration >= %d", n-1), n+1, "fail", value("s", "iteration")), value("out", "s"))
	res := start(t, b, prog, nil)
	if res.Status != store.RunFinished {
		t.Fatalf("%+v", res)
	}
	in, err := b.engine.InspectPage(ctx, res.RunID, runtime.InspectParams{Head: 12, Tail: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range in.Nodes {
		got = append(got, v.NodeID+"["+v.Scope+"]")
	}
	// A program built in the test has no stored source to give the tree
	// order: nodes come by id, each node's instances in iteration order.
	want := []string{"L[]", "out[]", "s[L#0]", "s[L#1]", "s[L#2]", "s[L#3]", "s[L#4]", "s[L#5]", "s[L#6]", "s[L#7]", "s[L#8]", "s[L#9]",
		"s[L#48]", "s[L#49]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("paged nodes %v, want %v", got, want)
	}
	// Listed without outputs, the nodes shown have theirs read.
	for _, v := range in.Nodes {
		if v.NodeID == "s" && string(v.Output) != fmt.Sprint(v.Iteration) {
			t.Errorf("%s[%s]: output %s, want %d", v.NodeID, v.Scope, v.Output, v.Iteration)
		}
	}
	if in.NodeCount != n+2 || in.NodesOmitted != n+2-14 {
		t.Errorf("count %d, omitted %d; want %d, %d", in.NodeCount, in.NodesOmitted, n+2, n+2-14)
	}
	all, err := b.engine.Inspect(ctx, res.RunID)
	if err != nil || len(all.Nodes) != n+2 || all.NodesOmitted != 0 {
		t.Errorf("unpaged: %d nodes, %d omitted, %v", len(all.Nodes), all.NodesOmitted, err)
	}
	// One node's instances, paged among themselves; the state counts
	// still cover every node of the run.
	one, err := b.engine.InspectPage(ctx, res.RunID, runtime.InspectParams{Head: 3, Tail: 1, Node: "s"})
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, v := range one.Nodes {
		got = append(got, v.NodeID+"["+v.Scope+"]")
	}
	if want := "[s[L#0] s[L#1] s[L#2] s[L#49]]"; fmt.Sprint(got) != want {
		t.Errorf("node s paged %v, want %s", got, want)
	}
	if one.NodeCount != n || one.NodesOmitted != n-4 {
		t.Errorf("node s: count %d, omitted %d; want %d, %d", one.NodeCount, one.NodesOmitted, n, n-4)
	}
	wantStates := map[string]map[store.NodeState]int{
		"L": {store.NodeFinished: 1}, "out": {store.NodeFinished: 1}, "s": {store.NodeFinished: n},
	}
	if diff := cmp.Diff(wantStates, one.NodeStates); diff != "" {
		t.Errorf("node states (-want +got):\n%s", diff)
	}
}

// TestInspectLongPageHasOutputs: a page longer than the outputs read
// node by node has them all too (from one full listing).
func TestInspectLongPageHasOutputs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	const n = 700
	prog := program("long", nil, loop("L", fmt.Sprintf("iteration >= %d", n-1), n+1, "fail", value("s", "iteration")), value("out", "s"))
	res := start(t, b, prog, nil)
	if res.Status != store.RunFinished {
		t.Fatalf("%+v", res)
	}
	in, err := b.engine.InspectPage(ctx, res.RunID, runtime.InspectParams{Head: 650, Tail: 10, Node: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Nodes) != 660 || in.NodesOmitted != n-660 {
		t.Fatalf("%d nodes shown, %d omitted", len(in.Nodes), in.NodesOmitted)
	}
	for _, v := range in.Nodes {
		if string(v.Output) != fmt.Sprint(v.Iteration) {
			t.Fatalf("%s[%s]: output %s, want %d", v.NodeID, v.Scope, v.Output, v.Iteration)
		}
	}
}

// TestWorktreeWaitsForQueuedResults: a worktree is an effect outside
// the run, so the compute results before it (queued, not awaited, with
// durability normal) are committed before it is created, and those of
// the compute steps in it before it is removed.
func TestWorktreeWaitsForQueuedResults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var b *bundle
	var atAdd, atRemove store.NodeState
	state := func(id string) store.NodeState {
		runs, err := b.store.RunList(ctx, &store.RunListParams{})
		if err != nil || len(runs) != 1 {
			t.Errorf("runs %v %v", runs, err)
			return ""
		}
		n, err := b.store.NodeGet(ctx, &store.NodeGetParams{RunID: runs[0].ID, NodeID: id})
		if err != nil {
			return ""
		}
		return n.State
	}
	b = setup(t, nil, func(c *runtime.Config) {
		c.WorktreeAddFunc = func(ctx context.Context, repoDir, path, branch, owner string, reuse bool) (string, bool, error) {
			atAdd = state("name")
			dir := filepath.Join(repoDir, path+"-"+branch)
			return dir, true, os.MkdirAll(dir, 0o755)
		}
		c.WorktreeRemoveFunc = func(ctx context.Context, dir, owner string) error {
			atRemove = state("inside")
			return os.RemoveAll(dir)
		}
	})
	wt := &ir.Node{ID: "wt", Kind: ir.KindWorktree, Worktree: &ir.Worktree{Path: "tree", Branch: tmpl("b-", x("name"))},
		Children: []*ir.Node{value("inside", "name + 1")}}
	res := start(t, b, program("wtq", nil, value("name", "41"), wt, value("out", "inside")), nil)
	if res.Status != store.RunFinished || res.Output != int64(42) {
		t.Fatalf("%+v", res)
	}
	if atAdd != store.NodeFinished || atRemove != store.NodeFinished {
		t.Errorf("committed state of the compute step when the worktree was added: %q, of the one in it when it was removed: %q; want finished",
			atAdd, atRemove)
	}
}
