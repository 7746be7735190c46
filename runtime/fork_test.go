package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

// TestForkKeepsWhatCameBefore: a fork from a node keeps what the original
// finished that does not depend on it (its outputs, its approval's
// decision), runs that node and what depends on it again, and leaves the
// original as it was; its log starts with RunForked naming where it came
// from. A fork from an unknown node, into a taken id, or of a child run is
// refused, and creates nothing.
func TestForkKeepsWhatCameBefore(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := map[string]int{}
	count := runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		mu.Lock()
		calls[a.NodeID]++
		n := calls[a.NodeID]
		mu.Unlock()
		return int64(n), nil
	})
	b := setup(t, runtime.Actions{"count": count})
	prog := program("fk", nil,
		step("a", "count", nil),
		approval("gate", "fail"),
		loop("L", "iteration + 1 >= 3", 3, "", value("s", "iteration")),
		step("b", "count", nil),
		value("c", `{a: a, b: b, s: s, ok: gate.approved}`, withNeeds("b")),
	)
	ctx := context.Background()
	res, err := b.engine.Start(ctx, runtime.StartParams{Program: prog, RunID: "o1"})
	if err != nil || res.Status != store.RunWaitingApproval {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err = b.engine.Approve(ctx, "o1", "gate", runtime.Decision{By: "ann", Note: "ok"}, false); err != nil {
		t.Fatalf("approve: %v", err)
	}
	if res, err = b.engine.Resume(ctx, "o1", runtime.ResumeParams{Program: prog}); err != nil || res.Status != store.RunFinished {
		t.Fatalf("resume: %+v %v", res, err)
	}
	before := b.nodeStates(t, "o1")

	f, err := b.engine.Fork(ctx, "o1", runtime.ForkParams{From: "b", RunID: "f1", Program: prog})
	if err != nil || f.Status != store.RunFinished {
		t.Fatalf("fork: %+v %v", f, err)
	}
	want := map[string]any{"a": int64(1), "b": int64(2), "s": int64(2), "ok": true}
	if diff := cmp.Diff(want, f.Output); diff != "" {
		t.Errorf("fork's output (-want +got):\n%s", diff)
	}
	mu.Lock()
	if calls["a"] != 1 || calls["b"] != 2 {
		t.Errorf("calls %v: want a once (kept), b twice (run again)", calls)
	}
	mu.Unlock()
	if diff := cmp.Diff(before, b.nodeStates(t, "f1")); diff != "" {
		t.Errorf("the fork's nodes (-original +fork):\n%s", diff)
	}
	if diff := cmp.Diff(before, b.nodeStates(t, "o1")); diff != "" {
		t.Errorf("the original changed (-before +after):\n%s", diff)
	}
	aps, err := b.engine.Approvals(ctx, "f1")
	if err != nil || len(aps) != 1 || !aps[0].Decided || !aps[0].Approved || aps[0].By != "ann" || aps[0].Note != "ok" {
		t.Errorf("the fork's approvals: %+v %v", aps, err)
	}
	evs, err := b.store.EventList(ctx, &store.EventListParams{RunID: "f1"})
	if err != nil || len(evs) == 0 || evs[0].Kind != runtime.EventRunForked {
		t.Fatalf("the fork's log: %v %v", evs, err)
	}
	var data map[string]any
	json.Unmarshal(evs[0].Data, &data)
	if data["from_run"] != "o1" || data["from_node"] != "b" {
		t.Errorf("RunForked data %v", data)
	}
	for _, e := range evs {
		if e.NodeID == "a" || e.NodeID == "gate" || e.NodeID == "s" {
			t.Errorf("the fork ran kept node %s again: %s", e.NodeID, e.Kind)
		}
	}

	// From the loop: it and what comes after it (b, c) run again; a and
	// the approval before it are kept.
	f, err = b.engine.Fork(ctx, "o1", runtime.ForkParams{From: "L", RunID: "f2", Program: prog})
	if err != nil || f.Status != store.RunFinished {
		t.Fatalf("fork from the loop: %+v %v", f, err)
	}
	mu.Lock()
	if calls["a"] != 1 || calls["b"] != 3 {
		t.Errorf("calls %v after the fork from L: want a kept and b run again", calls)
	}
	mu.Unlock()
	if diff := cmp.Diff(map[string]any{"a": int64(1), "b": int64(3), "s": int64(2), "ok": true}, f.Output); diff != "" {
		t.Errorf("output of the fork from L (-want +got):\n%s", diff)
	}

	for _, c := range []struct {
		name string
		p    runtime.ForkParams
	}{
		{"an unknown node", runtime.ForkParams{From: "nope", RunID: "f3", Program: prog}},
		{"no node", runtime.ForkParams{RunID: "f3", Program: prog}},
		{"a taken id", runtime.ForkParams{From: "b", RunID: "f1", Program: prog}},
	} {
		if _, err := b.engine.Fork(ctx, "o1", c.p); err == nil {
			t.Errorf("fork from %s: no error", c.name)
		}
	}
	if runs, _, _ := b.engine.RunList(ctx, runtime.RunListParams{}); len(runs) != 3 {
		t.Errorf("%d runs after the refused forks, want 3", len(runs))
	}

	// A continue_on_fail step's failure stands in a fork, as in a resume.
	boom := runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		mu.Lock()
		calls[a.NodeID]++
		mu.Unlock()
		return nil, errors.New("boom")
	})
	b2 := setup(t, runtime.Actions{"boom": boom, "count": count})
	prog2 := program("cof", nil, step("x", "boom", nil, continueOnFail()), step("y", "count", nil))
	if res, err := b2.engine.Start(ctx, runtime.StartParams{Program: prog2, RunID: "c1"}); err != nil || res.Status != store.RunFinished {
		t.Fatalf("%+v %v", res, err)
	}
	if f, err := b2.engine.Fork(ctx, "c1", runtime.ForkParams{From: "y", RunID: "c2", Program: prog2}); err != nil || f.Status != store.RunFinished {
		t.Fatalf("fork: %+v %v", f, err)
	}
	mu.Lock()
	if calls["x"] != 1 {
		t.Errorf("the continue_on_fail step ran %d times, want once (its failure kept)", calls["x"])
	}
	mu.Unlock()
	if st := b2.nodeStates(t, "c2")["x"]; st != string(store.NodeFailed) {
		t.Errorf("x in the fork is %q, want failed", st)
	}
}
