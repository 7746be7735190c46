package runtime_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

func TestApproval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mk := func(onDeny string) *ir.Program {
		return program("appr", nil,
			value("before", `"b"`),
			seq("gated", approval("gate", onDeny), value("deploy", `"deployed"`)),
			value("after", `{ approved: gate?.approved, by: gate?.by, deploy: deploy ?? "no" }`),
		)
	}
	tests := []struct {
		name, onDeny string
		approve      bool
		status       store.RunStatus
		out          any
		err          string
	}{
		{"approved", "fail", true, store.RunFinished, map[string]any{"approved": true, "by": "ann", "deploy": "deployed"}, ""},
		{"denied fails", "fail", false, store.RunFailed, nil, "approval gate failed: denied by ann: not now"},
		{"denied skips the block", "skip", false, store.RunFinished, map[string]any{"approved": false, "by": "ann", "deploy": "no"}, ""},
		{"denied continues", "continue", false, store.RunFinished, map[string]any{"approved": false, "by": "ann", "deploy": "deployed"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			prog := mk(tt.onDeny)
			res := start(t, b, prog, nil)
			if res.Status != store.RunWaitingApproval {
				t.Fatalf("status %s (%s), want waiting-approval", res.Status, res.Error)
			}
			aps, _ := b.store.ApprovalList(ctx, &store.ApprovalListParams{RunID: res.RunID})
			if len(aps) != 1 || aps[0].Title != "approve "+res.RunID {
				t.Fatalf("approvals %+v", aps)
			}
			// A second engine (another CLI process) decides and continues.
			other := setupAt(t, b.path, nil, func(c *runtime.Config) {
				c.CompileFunc = func(context.Context, []runtime.Source) (*ir.Program, error) { return prog, nil }
			})
			decide := other.engine.Deny
			if tt.approve {
				decide = other.engine.Approve
			}
			got, err := decide(ctx, res.RunID, "gate", runtime.Decision{By: "ann", Note: "not now"}, true)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.status || got.Error != tt.err {
				t.Fatalf("after decision: %s %q, want %s %q", got.Status, got.Error, tt.status, tt.err)
			}
			if diff := cmp.Diff(tt.out, got.Output); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			// A second decision is refused.
			if _, err := other.engine.Approve(ctx, res.RunID, "gate", runtime.Decision{By: "bob"}, false); !errors.Is(err, store.ErrConflict) {
				t.Errorf("second decision: %v", err)
			}
		})
	}
}

func TestApprovalPickedUpByLiveOwner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	prog := program("live", nil, approval("gate", ""), value("after", "gate.by"))
	type result struct {
		res *runtime.Result
		err error
	}
	ch := make(chan result, 1)
	go func() {
		res, err := b.engine.Start(ctx, runtime.StartParams{Program: prog, RunID: "live-1", Wait: runtime.WaitAlways})
		ch <- result{res, err}
	}()
	// Wait for the request, then decide from another engine without
	// continuing: the live owner must pick it up.
	other := setupAt(t, b.path, nil)
	for i := 0; ; i++ {
		res, err := other.engine.Approve(ctx, "live-1", "gate", runtime.Decision{By: "zoe"}, true)
		if err == nil {
			// The live owner may have picked the decision up and finished
			// the run before Approve read it back: then no process owns
			// it any more, and the result says it finished.
			finished := res.LiveOwner == "" && res.Status == store.RunFinished
			if res.LiveOwner != runtime.CurrentOwner().String() && !finished {
				t.Errorf("LiveOwner %q, status %s", res.LiveOwner, res.Status)
			}
			// The owner may already have finished the run meanwhile.
			if o, err := other.engine.LiveOwner(ctx, "live-1"); err != nil || o != res.LiveOwner && o != "" {
				t.Errorf("Engine.LiveOwner = %q, %v", o, err)
			}
			break
		}
		if !errors.Is(err, store.ErrNotFound) || i > 500 {
			t.Fatalf("approve: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case r := <-ch:
		if r.err != nil || r.res.Status != store.RunFinished || r.res.Output != "zoe" {
			t.Fatalf("live run ended %+v, %v", r.res, r.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the live owner did not pick the decision up")
	}
}

func TestSignal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prog := program("sig", nil, value("a", "1"), event("ev", "deploy.done", 0, ""), value("after", "ev.version"))
	t.Run("sent while waiting", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		res := start(t, b, prog, nil)
		if res.Status != store.RunWaitingEvent {
			t.Fatalf("status %s", res.Status)
		}
		res, err := b.engine.Signal(ctx, res.RunID, "deploy.done", map[string]any{"version": "v2"}, false)
		if err != nil || res.Status != store.RunWaitingEvent {
			t.Fatalf("signal without continue: %+v %v", res, err)
		}
		res, err = b.engine.Resume(ctx, res.RunID, runtime.ResumeParams{Program: prog})
		if err != nil || res.Status != store.RunFinished || res.Output != "v2" {
			t.Fatalf("resume: %+v %v", res, err)
		}
	})
	t.Run("sent before the wait", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		// The run waits on an approval first; the signal arrives then.
		prog := program("sig2", nil, approval("gate", ""), event("ev", "go", 0, ""), value("after", "ev"))
		res := start(t, b, prog, nil)
		if _, err := b.engine.Signal(ctx, res.RunID, "go", "early", false); err != nil {
			t.Fatal(err)
		}
		res, err := b.engine.Approve(ctx, res.RunID, "gate", runtime.Decision{By: "x"}, false)
		if err != nil {
			t.Fatal(err)
		}
		res, err = b.engine.Resume(ctx, res.RunID, runtime.ResumeParams{Program: prog})
		if err != nil || res.Status != store.RunFinished || res.Output != "early" {
			t.Fatalf("resume: %+v %v", res, err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		for _, onTimeout := range []string{"fail", "skip", "continue"} {
			b := setup(t, nil)
			prog := program("sig3", nil, event("ev", "never", 50*time.Millisecond, onTimeout), value("after", `ev ?? "none"`))
			res, err := b.engine.Start(ctx, runtime.StartParams{Program: prog, Wait: runtime.WaitAlways})
			if err != nil {
				t.Fatal(err)
			}
			want := store.RunFinished
			if onTimeout == "fail" {
				want = store.RunFailed
			}
			if res.Status != want {
				t.Errorf("on_timeout=%s: %s %s", onTimeout, res.Status, res.Error)
			}
		}
	})
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestTimerAfterRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	b := setup(t, nil, func(c *runtime.Config) { c.Clock = clock.Now })
	prog := program("timer", nil, value("a", "1"), timer("nap", time.Hour), value("after", "a + 1"))
	res, err := b.engine.Start(ctx, runtime.StartParams{Program: prog, Wait: runtime.WaitNever})
	if err != nil || res.Status != store.RunWaitingTimer {
		t.Fatalf("start: %+v %v", res, err)
	}
	// A new engine (a restarted process) before the due time: still waiting.
	clock.Add(30 * time.Minute)
	again := setupAt(t, b.path, nil, func(c *runtime.Config) { c.Clock = clock.Now })
	res, err = again.engine.Resume(ctx, res.RunID, runtime.ResumeParams{Program: prog, Wait: runtime.WaitNever})
	if err != nil || res.Status != store.RunWaitingTimer {
		t.Fatalf("early resume: %+v %v", res, err)
	}
	clock.Add(31 * time.Minute)
	res, err = again.engine.Resume(ctx, res.RunID, runtime.ResumeParams{Program: prog, Wait: runtime.WaitNever})
	if err != nil || res.Status != store.RunFinished || res.Output != int64(2) {
		t.Fatalf("late resume: %+v %v", res, err)
	}
	evs, _ := b.store.EventList(ctx, &store.EventListParams{RunID: res.RunID})
	var due, fired int
	for _, e := range evs {
		switch e.Kind {
		case runtime.EventTimerScheduled:
			due++
			if !strings.Contains(string(e.Data), "2026-05-01T13:00:00Z") {
				t.Errorf("due time %s", e.Data)
			}
		case runtime.EventTimerFired:
			fired++
		}
	}
	if due != 1 || fired != 1 {
		t.Errorf("TimerScheduled %d, TimerFired %d; want 1 and 1", due, fired)
	}
}

func TestTimerWaitedInProcess(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	prog := program("timer2", nil, timer("nap", 50*time.Millisecond), value("after", "1"))
	res := start(t, b, prog, nil) // auto waits for timers
	if res.Status != store.RunFinished {
		t.Fatalf("%s %s", res.Status, res.Error)
	}
}

func TestApprovalTimeoutThenResume(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	b := setup(t, nil, func(c *runtime.Config) { c.Clock = clock.Now })
	gate := approval("gate", "")
	gate.Approval.Timeout = time.Minute
	prog := program("at", nil, gate, value("after", "gate.by"))
	res := start(t, b, prog, nil)
	if res.Status != store.RunWaitingApproval {
		t.Fatalf("%+v", res)
	}
	clock.Add(2 * time.Minute)
	res, err := b.engine.Resume(ctx, res.RunID, runtime.ResumeParams{Program: prog})
	if err != nil || res.Status != store.RunFailed || res.Error != "approval gate failed: approval gate was not decided within 1m0s" {
		t.Fatalf("after the timeout: %+v %v", res, err)
	}
	// Resuming the failed run re-opens the approval with a new timeout.
	res, err = b.engine.Resume(ctx, res.RunID, runtime.ResumeParams{Program: prog})
	if err != nil || res.Status != store.RunWaitingApproval {
		t.Fatalf("resume: %+v %v", res, err)
	}
	res, err = b.engine.Approve(ctx, res.RunID, "gate", runtime.Decision{By: "ann"}, false)
	if err != nil {
		t.Fatal(err)
	}
	res, err = b.engine.Resume(ctx, res.RunID, runtime.ResumeParams{Program: prog})
	if err != nil || res.Status != store.RunFinished || res.Output != "ann" {
		t.Fatalf("after approval: %+v %v", res, err)
	}
}

func TestApprovalDataValidated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gate := approval("gate", "")
	gate.Output.Fields = append(gate.Output.Fields, &schema.Field{Name: "reason", Type: schema.StringType})
	prog := program("ad", nil, gate, value("after", "gate.reason"))
	b := setup(t, nil, func(c *runtime.Config) {
		c.CompileFunc = func(context.Context, []runtime.Source) (*ir.Program, error) { return prog, nil }
	})
	res := start(t, b, prog, nil)
	_, err := b.engine.Approve(ctx, res.RunID, "gate", runtime.Decision{By: "ann"}, true)
	if !errors.Is(err, runtime.ErrInvalidDecision) || !strings.Contains(err.Error(), "gate.reason: missing required field of type string") {
		t.Fatalf("approve without reason: %v", err)
	}
	// Nothing was recorded: a valid decision is still accepted.
	res, err = b.engine.Approve(ctx, res.RunID, "gate", runtime.Decision{By: "ann", Data: map[string]any{"reason": "fine"}}, true)
	if err != nil || res.Status != store.RunFinished || res.Output != "fine" {
		t.Fatalf("valid approve: %+v %v", res, err)
	}
}
