package runtime_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

// counter counts calls per node.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) action(fail map[string]bool) runtime.Action {
	return runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		c.mu.Lock()
		if c.n == nil {
			c.n = map[string]int{}
		}
		c.n[a.NodeID]++
		n := c.n[a.NodeID]
		f := fail[a.NodeID]
		c.mu.Unlock()
		if f {
			return nil, &runtime.StepError{Kind: runtime.ErrKindExit, Message: "fails", ExitCode: 1, Retry: true}
		}
		return int64(n), nil
	})
}

func (c *counter) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

func TestCancelThenResume(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	// The first run of slow sleeps; once resumed it returns at once.
	prog := program("cancel", nil,
		value("a", "1"),
		sh("slow", tmpl("if [ -f marker ]; then echo again; else touch marker; sleep 30; fi")),
		value("after", "slow.stdout"),
	)
	ch := make(chan *runtime.Result, 1)
	go func() {
		res, err := b.engine.Start(ctx, runtime.StartParams{Program: prog, RunID: "c1"})
		if err != nil {
			t.Error(err)
		}
		ch <- res
	}()
	waitFor(t, func() bool {
		_, err := os.Stat(filepath.Join(b.dir, "marker"))
		return err == nil
	})
	// Cancel through the store from another engine, as `smithc cancel`
	// in another process does.
	other := setupAt(t, b.path, nil)
	if _, err := other.engine.Cancel(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	var res *runtime.Result
	select {
	case res = <-ch:
	case <-time.After(20 * time.Second):
		t.Fatal("cancel was not picked up")
	}
	if res.Status != store.RunCancelled {
		t.Fatalf("status %s %s", res.Status, res.Error)
	}
	if !contains(b.kinds("c1"), "NodeCancelled slow") || !contains(b.kinds("c1"), "RunCancelled") {
		t.Errorf("events %v", b.kinds("c1"))
	}
	res, err := other.engine.Resume(ctx, "c1", runtime.ResumeParams{Program: prog})
	if err != nil || res.Status != store.RunFinished || res.Output != "again\n" {
		t.Fatalf("resume: %+v %v", res, err)
	}
}

func TestCancelWaitingRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	prog := program("cw", nil, approval("gate", ""))
	res := start(t, b, prog, nil)
	res, err := b.engine.Cancel(ctx, res.RunID)
	if err != nil || res.Status != store.RunCancelled {
		t.Fatalf("cancel: %+v %v", res, err)
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 2000; i++ {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("condition not reached in 10s")
}

func TestResumeFinishedAndFailed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var c counter
	fail := map[string]bool{"b": true}
	b := setup(t, runtime.Actions{"count": c.action(fail)})
	prog := program("rf", nil,
		step("a", "count", nil),
		step("b", "count", nil, withRetry(&ir.Retry{Attempts: 2})),
		step("c", "count", nil),
	)
	res := start(t, b, prog, nil)
	if res.Status != store.RunFailed {
		t.Fatalf("status %s", res.Status)
	}
	// Resuming the failed run re-runs b with a fresh budget; a stays.
	res, err := b.engine.Resume(ctx, res.RunID, runtime.ResumeParams{Program: prog})
	if err != nil || res.Status != store.RunFailed {
		t.Fatalf("resume: %+v %v", res, err)
	}
	if diff := cmp.Diff(map[string]int{"a": 1, "b": 4}, c.counts()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	fail["b"] = false
	res, err = b.engine.Resume(ctx, res.RunID, runtime.ResumeParams{Program: prog})
	if err != nil || res.Status != store.RunFinished || res.Output != int64(1) {
		t.Fatalf("resume after fix: %+v %v", res, err)
	}
	// A finished run returns its result, running nothing.
	again, err := b.engine.Resume(ctx, res.RunID, runtime.ResumeParams{Program: prog})
	if err != nil || again.Status != store.RunFinished || again.Output != int64(1) {
		t.Fatalf("resume finished: %+v %v", again, err)
	}
	if diff := cmp.Diff(map[string]int{"a": 1, "b": 5, "c": 1}, c.counts()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	// Another program is refused unless the run adopts it with its
	// sources: then the removed node b is dropped, c re-runs (retry),
	// and the run's stored sources are the new ones.
	changed := program("rf", nil, step("a", "count", nil), step("c", "count", nil))
	changed.SourceHash = "edited"
	if _, err := b.engine.Retry(ctx, res.RunID, "c", runtime.ResumeParams{Program: changed}); err == nil ||
		!strings.Contains(err.Error(), "is not the run's stored one") || !strings.Contains(err.Error(), "--source") {
		t.Errorf("retry with changed source: %v", err)
	}
	srcs := []runtime.Source{{Path: "rf.smw", Content: []byte("edited")}}
	res, err = b.engine.Retry(ctx, res.RunID, "c", runtime.ResumeParams{Program: changed, Sources: srcs})
	if err != nil || res.Status != store.RunFinished {
		t.Fatalf("retry adopting the changed source: %+v %v", res, err)
	}
	if diff := cmp.Diff(map[string]int{"a": 1, "b": 5, "c": 2}, c.counts()); diff != "" {
		t.Errorf("counts after adopting (-want +got):\n%s", diff)
	}
	got, err := b.engine.Sources(ctx, res.RunID)
	if err != nil || len(got) != 1 || string(got[0].Content) != "edited" {
		t.Errorf("stored sources after adopting: %+v %v", got, err)
	}
	nodes, err := b.store.NodeList(ctx, &store.NodeListParams{RunID: res.RunID})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if n.NodeID == "b" {
			t.Errorf("the removed node b was kept: %+v", n)
		}
	}
}

func TestRetryFromNode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var c counter
	b := setup(t, runtime.Actions{"count": c.action(nil)})
	prog := program("retry", nil,
		step("a", "count", nil),
		par("p", 0, step("b", "count", nil), step("x", "count", nil), step("c", "count", nil, withNeeds("b"))),
		step("d", "count", nil),
	)
	res := start(t, b, prog, nil)
	if res.Status != store.RunFinished {
		t.Fatalf("%s %s", res.Status, res.Error)
	}
	res, err := b.engine.Retry(ctx, res.RunID, "b", runtime.ResumeParams{Program: prog})
	if err != nil || res.Status != store.RunFinished {
		t.Fatalf("retry: %+v %v", res, err)
	}
	// b, c (needs b), p (encloses them) and d (after p) re-run; a and x stay.
	if diff := cmp.Diff(map[string]int{"a": 1, "b": 2, "x": 1, "c": 2, "d": 2}, c.counts()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if _, err := b.engine.Retry(ctx, res.RunID, "nope", runtime.ResumeParams{Program: prog}); err == nil {
		t.Error("retry of an unknown node succeeded")
	}
}

func TestResumeRefusedWhileLive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	prog := program("live", nil, sh("slow", tmpl("sleep 30")))
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.engine.Start(ctx, runtime.StartParams{Program: prog, RunID: "l1"}) //nolint:errcheck // cancelled below
	}()
	waitFor(t, func() bool { return b.nodeStates(t, "l1")["slow"] == "running" })
	_, err := b.engine.Resume(ctx, "l1", runtime.ResumeParams{Program: prog})
	if !errors.Is(err, runtime.ErrRunLive) {
		t.Errorf("resume of a live run: %v", err)
	}
	other := setupAt(t, b.path, nil)
	_, err = other.engine.Resume(ctx, "l1", runtime.ResumeParams{Program: prog})
	if !errors.Is(err, runtime.ErrRunLive) || !strings.Contains(err.Error(), runtime.CurrentOwner().String()) {
		t.Errorf("resume from another engine: %v", err)
	}
	if _, err := b.engine.Cancel(ctx, "l1"); err != nil {
		t.Fatal(err)
	}
	<-done
}

var _ = atomic.Int32{}
