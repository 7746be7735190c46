package runtime_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

// TestResumeFromHint checks ResumeParams.Run: a fresh read of a detached
// run is claimed without reading the run again, and a stale one (the run
// finished since) is noticed at the claim: the claim is released and the
// run's result returned, nothing run twice.
func TestResumeFromHint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var c counter
	var prog *ir.Program
	b := setup(t, runtime.Actions{"count": c.action(nil)}, func(cfg *runtime.Config) {
		cfg.CompileFunc = func(context.Context, []runtime.Source) (*ir.Program, error) { return prog, nil }
	})
	prog = program("hint", nil, step("a", "count", nil), step("b", "count", nil))
	started, err := b.engine.Start(ctx, runtime.StartParams{Program: prog, Detach: true})
	if err != nil {
		t.Fatal(err)
	}
	hint, err := b.store.RunGetByID(ctx, &store.RunGetByIDParams{ID: started.RunID})
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.engine.Resume(ctx, started.RunID, runtime.ResumeParams{Run: hint})
	if err != nil || res.Status != store.RunFinished {
		t.Fatalf("resume from a fresh read: %+v %v", res, err)
	}
	stale := *hint // still says running, unowned
	again, err := b.engine.Resume(ctx, started.RunID, runtime.ResumeParams{Run: &stale})
	if err != nil || again.Status != store.RunFinished {
		t.Fatalf("resume from a stale read: %+v %v", again, err)
	}
	if diff := cmp.Diff(map[string]int{"a": 1, "b": 1}, c.counts()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	// One session: the stale read started none.
	resumed := 0
	b.mu.Lock()
	for _, e := range b.events {
		if e.Kind == runtime.EventRunResumed && e.NodeID == "" {
			resumed++
		}
	}
	b.mu.Unlock()
	if resumed != 1 {
		t.Errorf("%d sessions (RunResumed events), want 1", resumed)
	}
	run, err := b.store.RunGetByID(ctx, &store.RunGetByIDParams{ID: started.RunID})
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != store.RunFinished || run.Owner != "" {
		t.Errorf("after the stale read: status %s, owner %q; want finished, no owner", run.Status, run.Owner)
	}
}
