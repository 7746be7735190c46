package runtime_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

// sessionAgent is an agent stand-in: it reports session "s-" + node id
// and works until stopped, unless it continues an interrupted session,
// when it answers at once.
type sessionAgent struct {
	mu    sync.Mutex
	conts []*runtime.ContinuedSession
}

func (g *sessionAgent) action() runtime.Action {
	return runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		g.mu.Lock()
		g.conts = append(g.conts, a.Continue)
		g.mu.Unlock()
		if a.Continue != nil {
			return "done in " + a.Continue.ID, nil
		}
		a.ReportSession(runtime.AgentSession{Agent: "coder", Kind: "claude", ID: "s-" + a.NodeID, Dir: a.Dir})
		<-ctx.Done()
		return nil, ctx.Err()
	})
}

func TestHijackThenResumeContinuesTheSession(t *testing.T) {
	g := &sessionAgent{}
	b := setup(t, runtime.Actions{"agent": g.action()})
	prog := program("h", nil, step("fix", "agent", nil))
	ctx := context.Background()
	type res struct {
		r   *runtime.Result
		err error
	}
	done := make(chan res, 1)
	go func() {
		r, err := b.engine.Start(ctx, runtime.StartParams{Program: prog, RunID: "h1"})
		done <- res{r, err}
	}()
	waitRun(t, b, "h1")
	h, err := b.engine.Hijack(ctx, "h1", runtime.HijackParams{Wait: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if h.NodeID != "fix" || h.Attempt != 1 || h.Session.ID != "s-fix" || h.Session.Attempt != 1 || h.By == "" || h.Request == "" {
		t.Errorf("handoff = %+v", h)
	}
	r := <-done
	if r.err != nil || r.r.Status != store.RunCancelled || !strings.Contains(r.r.Error, "hijacked") {
		t.Fatalf("the hijacked run ended %+v, %v; want cancelled (hijacked)", r.r, r.err)
	}
	nodes, err := b.engine.NodeTable(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 1 || nodes[0].Handoff == nil || nodes[0].Handoff.Request != h.Request || nodes[0].Session == nil {
		t.Fatalf("node table: %+v", nodes[0])
	}
	atts, err := b.engine.Attempts(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != 1 || atts[0].State != store.AttemptCancelled || !strings.Contains(atts[0].Error, "hijacked") {
		t.Errorf("attempts: %+v", atts[0])
	}
	rr, err := b.engine.Resume(ctx, "h1", runtime.ResumeParams{Program: prog})
	if err != nil || rr.Status != store.RunFinished || rr.Output != "done in s-fix" {
		t.Fatalf("resume: %+v, %v", rr, err)
	}
	if len(g.conts) != 2 || g.conts[0] != nil || g.conts[1] == nil || !g.conts[1].Hijacked || g.conts[1].Attempt != 1 {
		t.Errorf("continued sessions: %+v", g.conts)
	}
	if _, err := b.engine.Hijack(ctx, "h1", runtime.HijackParams{}); !errors.Is(err, runtime.ErrNoSession) {
		t.Errorf("hijack of a finished run: %v, want ErrNoSession", err)
	}
}

func TestHijackNamesTheStepAmongSeveral(t *testing.T) {
	g := &sessionAgent{}
	b := setup(t, runtime.Actions{"agent": g.action()})
	prog := program("h", nil, par("both", 0, step("a", "agent", nil), step("b", "agent", nil)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = b.engine.Start(ctx, runtime.StartParams{Program: prog, RunID: "p1"}) // ends when ctx is cancelled
	}()
	waitRun(t, b, "p1")
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := b.engine.Hijack(ctx, "p1", runtime.HijackParams{Wait: 50 * time.Millisecond})
		if errors.Is(err, runtime.ErrAmbiguous) {
			if !strings.Contains(err.Error(), "a, b") {
				t.Errorf("the error does not name both steps: %v", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hijack without a node: %v, want ErrAmbiguous", err)
		}
	}
	h, err := b.engine.Hijack(ctx, "p1", runtime.HijackParams{NodeID: "b"})
	if err != nil || h.Session.ID != "s-b" {
		t.Fatalf("hijack b: %+v, %v", h, err)
	}
	cancel()
	<-done
}

// waitRun waits until the run exists.
func waitRun(t *testing.T, b *bundle, runID string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := b.engine.RunSummary(context.Background(), runID); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s was not created", runID)
		}
	}
}
