package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// whyJSON is the --format json form of why.
type whyJSON struct {
	RunID   string `json:"run_id"`
	Status  string `json:"status"`
	Owner   string `json:"owner"`
	Next    string `json:"next"`
	Waiting []struct {
		RunID    string  `json:"run_id"`
		Via      string  `json:"via"`
		Node     string  `json:"node"`
		Kind     string  `json:"kind"`
		Signal   string  `json:"signal"`
		Since    string  `json:"since"`
		Deadline *string `json:"deadline"`
		Command  string  `json:"command"`
	} `json:"waiting"`
}

func (e *env) why(runID string) whyJSON {
	e.t.Helper()
	r := e.cli("why", runID, "--format", "json")
	mustCode(e.t, r, 0)
	var w whyJSON
	if err := json.Unmarshal([]byte(r.stdout), &w); err != nil {
		e.t.Fatalf("why: %v\n%s", err, r.stdout)
	}
	return w
}

const whyKinds = `workflow approval {
  approval gate {
    title   = "Ship?"
    timeout = "1h"
  }
}

workflow event {
  event ready {
    name    = "ready"
    timeout = "2h"
  }
}

workflow timer {
  timer nap { duration = "3h" }
}

workflow child {
  step child { call inner { } }
}

workflow inner {
  approval inner_gate { title = "Inner?" }
}
`

// TestWhyOnEveryWaitingKind: why names the wait, since when, its
// deadline and the command that moves the run on, for approvals, events,
// timers and a child run's approval; and says what to do with a run that
// does not wait.
func TestWhyOnEveryWaitingKind(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("kinds.smw", whyKinds)
	cases := []struct {
		kind, node, status, command, text string
	}{
		{"approval", "gate", "waiting-approval", "smithc approve w-approval gate", "times out at"},
		{"event", "ready", "waiting-event", "smithc signal w-event ready --data '{...}'", "times out at"},
		{"timer", "nap", "waiting-timer", "smithc resume w-timer", "due at"},
		{"child", "inner_gate", "waiting-approval", "smithc approve w-child.child inner_gate", "of child run w-child.child (called by step child)"},
	}
	for _, c := range cases {
		id := "w-" + c.kind
		mustCode(t, e.cli("run", f, "--run-id", id, "--workflow", c.kind, "--wait", "never"), 3)
		w := e.why(id)
		if w.Status != c.status || len(w.Waiting) != 1 {
			t.Fatalf("why %s: %+v", id, w)
		}
		got := w.Waiting[0]
		if got.Node != c.node || got.Kind != strings.TrimPrefix(c.status, "waiting-") || got.Command != c.command || got.Since == "" {
			t.Errorf("why %s: wait %+v", id, got)
		}
		if c.kind != "child" && got.Deadline == nil {
			t.Errorf("why %s: no deadline in %+v", id, got)
		}
		if c.kind == "child" && (got.RunID != id+".child" || got.Via != "child") {
			t.Errorf("why %s: the child's wait is %+v", id, got)
		}
		r := e.cli("why", id)
		mustCode(t, r, 0)
		mustContain(t, "why "+id, r.stdout, "run "+id+" is "+c.status+" since ", c.node, c.text, c.command)
	}
	// The parent's inspect shows the child run; approving the child's
	// approval through the parent decides it in the child and continues
	// both.
	r := e.cli("inspect", "w-child")
	mustContain(t, "inspect w-child", r.stdout, "child run w-child.child")
	r = e.cli("run", f, "--run-id", "w-child2", "--workflow", "child", "--wait", "never")
	mustCode(t, r, 3)
	mustContain(t, "run w-child2", r.stdout, "waiting for approval inner_gate of child run w-child2.child (called by step child)",
		"smithc approve w-child2.child inner_gate")
	mustCode(t, e.cli("approve", "w-child", "inner_gate"), 0)
	w := e.why("w-child")
	if w.Status != "finished" || len(w.Waiting) != 0 || !strings.Contains(w.Next, "finished") {
		t.Errorf("why after the child was approved: %+v", w)
	}
	// A run left by a process that stopped says how to continue it.
	r = e.cli("why", "nope")
	mustCode(t, r, 2)
	mustContain(t, "why nope", r.stderr, `no run "nope"`)
}

// TestLiveWaitingRunShowsWaiting: a run held by a live `--wait always`
// process reads waiting-approval in ps, inspect and why (not running),
// and a decision from another shell is picked up by that process.
func TestLiveWaitingRunShowsWaiting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("gate.smw", gateFail)
	p := e.start("run", f, "--run-id", "live1", "--wait", "always", "--format", "json")
	e.waitNode("live1", "ok_to_go", "waiting")
	eventually(t, "ps to show waiting-approval", func() bool {
		r := e.cli("ps", "--format", "json")
		return strings.Contains(r.stdout, `"status": "waiting-approval"`)
	})
	if in := e.inspect("live1"); in.Status != "waiting-approval" {
		t.Errorf("inspect status %q, want waiting-approval", in.Status)
	}
	w := e.why("live1")
	if w.Status != "waiting-approval" || w.Owner == "" || len(w.Waiting) != 1 || !strings.Contains(w.Next, "picks up") {
		t.Errorf("why of a live waiting run: %+v", w)
	}
	r := e.cli("ps", "--status", "waiting-approval")
	mustContain(t, "ps --status waiting-approval", r.stdout, "live1")
	r = e.cli("approve", "live1", "ok_to_go", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "waiting-approval" && out.Status != "running" && out.Status != "finished" {
		t.Errorf("approve handed to the live owner: %+v", out)
	}
	res := p.wait(t)
	mustCode(t, res, 0)
	if out := decodeRun(t, res); out.Status != "finished" {
		t.Errorf("the live owner's result: %+v", out)
	}
}

// TestWhyOnAQueuedRun: a run created with --detach that no worker has
// claimed yet is queued, not left by a process that stopped; why says who
// picks it up.
func TestWhyOnAQueuedRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCode(t, e.cli("run", e.write("gate.smw", gateFail), "--run-id", "q1", "--detach"), 0)
	w := e.why("q1")
	if w.Status != "running" || w.Owner != "" || !strings.Contains(w.Next, "queued") || !strings.Contains(w.Next, "smithc worker") {
		t.Errorf("why of a queued run: %+v", w)
	}
	r := e.cli("why", "q1")
	mustContain(t, "why q1", r.stdout, "it is queued: no process has claimed it yet", "smithc resume q1")
	noneOf(t, "why q1", r.stdout, "left by one that stopped")
}
