package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

func TestHeartbeatTimeout(t *testing.T) {
	t.Parallel()
	// beats heartbeats while it works when asked to, else goes silent.
	beats := runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		n := 10
		if a.NodeID == "silent" {
			n = 1500 // 30s, far past the heartbeat timeout
		}
		for i := 0; i < n; i++ {
			if a.NodeID == "alive" {
				a.Heartbeat("working")
			}
			select {
			case <-time.After(20 * time.Millisecond):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return "ok", nil
	})
	b := setup(t, runtime.Actions{"beats": beats})
	hb := func(n *ir.Node) { n.Step.HeartbeatTimeout = 1500 * time.Millisecond }
	prog := program("hb", nil, step("alive", "beats", nil, hb), step("silent", "beats", nil, hb))
	res := start(t, b, prog, nil)
	if res.Status != store.RunFailed || res.Error != "step silent failed: no heartbeat within 1.5s" {
		t.Errorf("%s %q", res.Status, res.Error)
	}
	if st := b.nodeStates(t, res.RunID); st["alive"] != "finished" {
		t.Errorf("states %v", st)
	}
}

func TestRunTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, onTimeout := range []string{"fail", "cancel"} {
		b := setup(t, nil)
		prog := program("rt", nil, sh("slow", tmpl("sleep 20")))
		prog.Workflows[0].Timeout, prog.Workflows[0].OnTimeout = time.Hour, onTimeout
		res, err := b.engine.Start(ctx, runtime.StartParams{Program: prog, Timeout: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		want := store.RunFailed
		if onTimeout == "cancel" {
			want = store.RunCancelled
		}
		if res.Status != want || res.Error != "the run timed out after 100ms" {
			t.Errorf("on_timeout=%s: %s %q", onTimeout, res.Status, res.Error)
		}
	}
}

func TestWorktree(t *testing.T) {
	t.Parallel()
	var removed []string
	b := setup(t, nil, func(c *runtime.Config) {
		c.WorktreeAddFunc = func(ctx context.Context, repoDir, path, branch, owner string, reuse bool) (string, bool, error) {
			dir := filepath.Join(repoDir, path+"-"+branch)
			return dir, true, os.MkdirAll(dir, 0o755)
		}
		c.WorktreeRemoveFunc = func(ctx context.Context, dir, owner string) error {
			removed = append(removed, filepath.Base(dir))
			return nil
		}
	})
	wt := &ir.Node{ID: "wt", Kind: ir.KindWorktree, Worktree: &ir.Worktree{Path: "tree", Branch: tmpl("b-", x("input.n"))},
		Children: []*ir.Node{sh("where", tmpl("basename $(pwd)"))}}
	in := schema.ObjectOf(&schema.Field{Name: "n", Type: schema.IntType})
	prog := program("wt", in, wt, value("out", "trim(where.stdout)"))
	res := start(t, b, prog, map[string]any{"n": 7})
	if res.Status != store.RunFinished || res.Output != "tree-b-7" {
		t.Fatalf("%+v", res)
	}
	if diff := cmp.Diff([]string{"tree-b-7"}, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
}

func TestCallChildRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	call := runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		in, err := a.Eval(a.Step.Args["input"])
		if err != nil {
			return nil, err
		}
		return a.CallFunc(ctx, a.Step.Call, in)
	})
	b := setup(t, runtime.Actions{"call": call})
	child := program("child", schema.ObjectOf(&schema.Field{Name: "n", Type: schema.IntType}), value("double", "input.n * 2"))
	parent := program("parent", nil,
		step("c", "call", map[string]*ir.Expr{"input": x(`{ n: 21 }`)}, func(n *ir.Node) { n.Step.Call = "child" }),
		value("out", "c"))
	prog := &ir.Program{Workflows: []*ir.Workflow{parent.Workflows[0], child.Workflows[0]}, SourceHash: "h"}
	res, err := b.engine.Start(ctx, runtime.StartParams{Program: prog, Workflow: "parent", RunID: "p1"})
	if err != nil || res.Status != store.RunFinished || res.Output != int64(42) {
		t.Fatalf("%+v %v", res, err)
	}
	kid, err := b.store.RunGetByID(ctx, &store.RunGetByIDParams{ID: "p1.c"})
	if err != nil || kid.ParentRunID != "p1" || kid.Status != store.RunFinished {
		t.Errorf("child run %+v %v", kid, err)
	}
	if _, err := b.engine.Start(ctx, runtime.StartParams{Program: prog}); err == nil || !strings.Contains(err.Error(), "several workflows (parent, child)") {
		t.Errorf("start without a workflow name: %v", err)
	}
}

func TestFailureEndsWaits(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	prog := program("fw", nil, par("p", 0, approval("gate", ""), sh("bad", tmpl("sleep 0.05; exit 1"))))
	res, err := b.engine.Start(context.Background(), runtime.StartParams{Program: prog, Wait: runtime.WaitAlways})
	if err != nil || res.Status != store.RunFailed || !strings.HasPrefix(res.Error, "step bad failed") {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestInvalidGraphIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tests := []struct {
		name  string
		nodes func() []*ir.Node
		want  string
	}{
		{"unknown dep", func() []*ir.Node { return []*ir.Node{value("a", "1", withNeeds("ghost"))} },
			`a depends on "ghost", which does not exist`},
		{"later in a sequence", func() []*ir.Node { return []*ir.Node{value("a", "1", withNeeds("b")), value("b", "2")} },
			"a depends on b, which runs after it"},
		{"cycle", func() []*ir.Node {
			return []*ir.Node{par("p", 0, value("a", "1", withNeeds("b")), value("b", "1", withNeeds("a")))}
		}, "dependency cycle: a → b → a"},
	}
	for _, tt := range tests {
		prog := program("bad", nil, tt.nodes()...)
		_, err := b.engine.Start(context.Background(), runtime.StartParams{Program: prog})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestSkippedArmWithLoop(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	prog := program("sk", nil,
		branch("br", []*ir.Arm{arm("false", loop("L", "true", 3, "", value("inner", "1")))}, nil),
		value("after", `inner ?? "none"`))
	res := start(t, b, prog, nil)
	if res.Status != store.RunFinished || res.Output != "none" {
		t.Fatalf("%+v", res)
	}
	want := map[string]string{"br": "finished", "L": "skipped", "after": "finished"}
	if diff := cmp.Diff(want, b.nodeStates(t, res.RunID)); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
}

func TestLoopStepReadsItself(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	prog := program("self", nil, loop("acc", "total >= 6", 5, "", value("total", "(total ?? 0) + iteration + 1")), value("after", "total"))
	res := start(t, b, prog, nil)
	if res.Status != store.RunFinished || res.Output != int64(6) {
		t.Errorf("%+v", res)
	}
}

func TestCatchFailureRunsFinally(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	prog := program("tcf", nil,
		try("T", []*ir.Node{sh("boom", tmpl("exit 3"))}, []*ir.Node{sh("handle", tmpl("exit 9"))},
			[]*ir.Node{value("cleanup", `"ran"`)}),
		value("after", "1"))
	res := start(t, b, prog, nil)
	if res.Status != store.RunFailed || res.Error != "step handle failed: command failed (exit code 9)" {
		t.Fatalf("%s %q", res.Status, res.Error)
	}
	want := map[string]string{"T": "failed", "boom": "failed", "handle": "failed", "cleanup": "finished"}
	if diff := cmp.Diff(want, b.nodeStates(t, res.RunID)); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
}

func TestResumeClearsControlError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	prog := program("rce", nil, loop("again", "iteration >= 1", 2, "", sh("work", tmpl("test ", x("iteration"), " -eq 0 || cat ok.txt"))))
	res := start(t, b, prog, nil)
	if res.Status != store.RunFailed {
		t.Fatalf("%+v", res)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "ok.txt"), []byte("ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := b.engine.Resume(ctx, res.RunID, runtime.ResumeParams{Program: prog})
	if err != nil || res.Status != store.RunFinished {
		t.Fatalf("%+v %v", res, err)
	}
	n, err := b.store.NodeGet(ctx, &store.NodeGetParams{RunID: res.RunID, NodeID: "again"})
	if err != nil || n.State != store.NodeFinished || n.Error != "" {
		t.Errorf("loop row after resume: %+v %v", n, err)
	}
}

func TestNestedForAndLoop(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	prog := program("nest", nil,
		forEach("outer", "a", "[1, 2]", 0,
			forEach("inner", "c", "[10, 20]", 1, value("v", "a * c + index")),
			loop("L", "acc >= a * 2", 5, "", value("acc", "(acc ?? 0) + a")),
		),
		value("out", "{ v: v, acc: acc }"))
	res := start(t, b, prog, nil)
	want := map[string]any{
		"v":   []any{[]any{int64(10), int64(21)}, []any{int64(20), int64(41)}},
		"acc": []any{int64(2), int64(4)},
	}
	if res.Status != store.RunFinished {
		t.Fatalf("%+v", res)
	}
	if diff := cmp.Diff(want, res.Output); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	st := b.nodeStates(t, res.RunID)
	if st["v[outer[1]/inner[0]]"] != "finished" || st["acc[outer[1]/L#1]"] != "finished" {
		t.Errorf("states %v", st)
	}
}

func TestCatchSkippedWhenNothingFails(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	prog := program("tok", nil,
		try("T", []*ir.Node{value("ok", "1")}, []*ir.Node{value("handled", "2")}, nil),
		value("after", `handled ?? "none"`, withNeeds("handled")))
	res := start(t, b, prog, nil)
	if res.Status != store.RunFinished || res.Output != "none" {
		t.Fatalf("%+v", res)
	}
	if st := b.nodeStates(t, res.RunID); st["handled"] != "skipped" {
		t.Errorf("states %v", st)
	}
}

func TestMatchOnSource(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	in := schema.ObjectOf(&schema.Field{Name: "risk", Type: schema.StringType})
	m := &ir.Node{ID: "m", Kind: ir.KindMatch, Match: &ir.Match{Source: "classify", Arms: []*ir.Arm{
		arm(`classify.risk == "high"`, approval("gate", "")),
		arm(`classify.risk == "low"`, value("auto", `"auto-approved"`)),
	}}}
	prog := program("match", in, value("classify", `{ risk: input.risk }`), m, value("out", `auto ?? gate?.by ?? "none"`))
	res := start(t, b, prog, map[string]any{"risk": "low"})
	if res.Status != store.RunFinished || res.Output != "auto-approved" {
		t.Errorf("low: %+v", res)
	}
	res = start(t, b, prog, map[string]any{"risk": "high"})
	if res.Status != store.RunWaitingApproval {
		t.Fatalf("high: %+v", res)
	}
	res, err := b.engine.Approve(context.Background(), res.RunID, "gate", runtime.Decision{By: "ann"}, false)
	if err != nil {
		t.Fatal(err)
	}
	res, err = b.engine.Resume(context.Background(), res.RunID, runtime.ResumeParams{Program: prog})
	if err != nil || res.Output != "ann" {
		t.Errorf("after approval: %+v %v", res, err)
	}
	// The arm choice was recorded once: the evaluated arm stands on resume.
	evs, _ := b.store.EventList(context.Background(), &store.EventListParams{RunID: res.RunID})
	chosen := 0
	for _, e := range evs {
		if e.Kind == runtime.EventArmChosen {
			chosen++
		}
	}
	if chosen != 1 {
		t.Errorf("ArmChosen %d times", chosen)
	}
	res = start(t, b, prog, map[string]any{"risk": "medium"})
	if res.Status != store.RunFinished || res.Output != "none" {
		t.Errorf("medium: %+v", res)
	}
}

func TestParentWaitsForChild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	call := runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		return a.CallFunc(ctx, a.Step.Call, map[string]any{})
	})
	child := program("child", nil, approval("gate", ""), value("s", `"child done"`))
	parent := program("parent", nil,
		step("c", "call", nil, func(n *ir.Node) { n.Step.Call = "child" }),
		value("after", `c + "!"`))
	prog := &ir.Program{Workflows: []*ir.Workflow{parent.Workflows[0], child.Workflows[0]}, SourceHash: "h"}
	b := setup(t, runtime.Actions{"call": call}, func(c *runtime.Config) {
		c.CompileFunc = func(context.Context, []runtime.Source) (*ir.Program, error) { return prog, nil }
	})
	res, err := b.engine.Start(ctx, runtime.StartParams{Program: prog, Workflow: "parent", RunID: "pw"})
	if err != nil || res.Status != store.RunWaitingApproval {
		t.Fatalf("start: %+v %v", res, err)
	}
	if st := b.nodeStates(t, "pw")["c"]; st != "waiting" {
		t.Errorf("call step %s, want waiting", st)
	}
	// Approving the child continues it, then the parent.
	res, err = b.engine.Approve(ctx, "pw.c", "gate", runtime.Decision{By: "ann"}, true)
	if err != nil || res.RunID != "pw" || res.Status != store.RunFinished || res.Output != "child done!" {
		t.Fatalf("approve: %+v %v", res, err)
	}
	if diff := cmp.Diff([]string{"c#1 cancelled internal", "c#2 finished ", "after#1 finished "}, attempts(t, b, "pw"),
		cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}
