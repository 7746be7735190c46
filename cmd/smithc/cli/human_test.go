package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

const gateFail = `workflow gate {
  step before { value = 1 }
  approval ok_to_go {
    title   = "Go?"
    on_deny = "fail"
  }
  step after { value = "done" }
  output = after
}
`

const gateContinue = `workflow cont {
  approval ask {
    title   = "Go?"
    on_deny = "continue"
  }
  step after { value = ask.approved ? "yes: " + ask.note : "no: " + ask.note }
  output = after
}
`

// earlySignal waits at an approval, so that a signal can be sent before
// its event node starts waiting.
const earlySignal = `workflow early {
  approval first { title = "first" }
  event ready {
    name = "ready"
    output { value: int }
  }
  step after { value = ready.value + 1 }
  output = after
}
`

func TestApprovalWithoutTerminalWaitsThenApprove(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("gate.smw", gateFail)
	r := e.cli("run", f, "--run-id", "g1")
	mustCode(t, r, 3)
	mustContain(t, "stdout", r.stdout, "waiting-approval", "smithc approve g1 ok_to_go", "smithc deny g1 ok_to_go")

	r = e.cli("approve", "g1", "ok_to_go", "--note", "ok", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "finished" || string(out.Output) != `"done"` {
		t.Errorf("after approve: %+v", out)
	}
	in := e.inspect("g1")
	if len(in.Approvals) != 1 || !in.Approvals[0].Decided || !in.Approvals[0].Approved || in.Approvals[0].Note != "ok" {
		t.Errorf("approval not recorded: %+v", in.Approvals)
	}
	// Deciding twice is refused and says how to re-open.
	r = e.cli("deny", "g1", "ok_to_go")
	mustCode(t, r, 2)
	mustContain(t, "stderr", r.stderr, "already decided", "smithc retry g1 ok_to_go")
	// No such approval.
	r = e.cli("approve", "g1", "nope")
	mustCode(t, r, 2)
	mustContain(t, "stderr", r.stderr, `"nope"`)
}

func TestDenyFailFailsTheRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCode(t, e.cli("run", e.write("gate.smw", gateFail), "--run-id", "g1"), 3)
	r := e.cli("deny", "g1", "ok_to_go", "--note", "too risky", "--by", "alice")
	mustCode(t, r, 1)
	mustContain(t, "stdout", r.stdout, "failed", "ok_to_go", "too risky", "smithc retry g1 ok_to_go")
	if st, _ := e.inspect("g1").node("after"); st == "finished" {
		t.Errorf("the step after a denied approval ran")
	}
	// A denial stands: resume does not re-open it.
	mustCode(t, e.cli("resume", "g1"), 1)
	// retry re-opens it; approving then finishes the run.
	mustCode(t, e.cli("retry", "g1", "ok_to_go"), 3)
	mustCode(t, e.cli("approve", "g1", "ok_to_go"), 0)
}

func TestDenySkipGoesOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCode(t, e.cli("run", filepath.Join(examplesDir(t), "approval.smw"), "--run-id", "s1"), 3)
	r := e.cli("deny", "s1", "approve", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "finished" || string(out.Output) != `"not applied"` {
		t.Errorf("after deny with on_deny skip: %+v", out)
	}
	if st, _ := e.inspect("s1").node("apply"); st != "skipped" {
		t.Errorf("apply is %q, want skipped", st)
	}
}

func TestDenyContinueReadsApproved(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("cont.smw", gateContinue)
	mustCode(t, e.cli("run", f, "--run-id", "c1"), 3)
	r := e.cli("deny", "c1", "ask", "--note", "nope", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); string(out.Output) != `"no: nope"` {
		t.Errorf("output %s, want \"no: nope\"", out.Output)
	}
	mustCode(t, e.cli("run", f, "--run-id", "c2"), 3)
	r = e.cli("approve", "c2", "ask", "--note", "fine", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); string(out.Output) != `"yes: fine"` {
		t.Errorf("output %s, want \"yes: fine\"", out.Output)
	}
}

func TestApproveNoContinueOnlyRecords(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCode(t, e.cli("run", e.write("gate.smw", gateFail), "--run-id", "g1"), 3)
	r := e.cli("approve", "g1", "ok_to_go", "--no-continue")
	mustCode(t, r, 0)
	mustContain(t, "stdout", r.stdout, "recorded", "smithc resume g1")
	in := e.inspect("g1")
	if in.Status != "waiting-approval" {
		t.Errorf("status %q after --no-continue, want waiting-approval (nothing ran)", in.Status)
	}
	if st, _ := in.node("after"); st == "finished" {
		t.Errorf("--no-continue ran the next step")
	}
	if len(in.Approvals) != 1 || !in.Approvals[0].Approved {
		t.Errorf("decision not recorded: %+v", in.Approvals)
	}
	r = e.cli("resume", "g1", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); string(out.Output) != `"done"` {
		t.Errorf("resume after the recorded approval: %+v", out)
	}
}

func TestSignalBeforeEventWaitsIsKept(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCode(t, e.cli("run", e.write("early.smw", earlySignal), "--run-id", "e1"), 3)
	r := e.cli("signal", "e1", "ready", "--data", `{"value": 41}`, "--no-continue")
	mustCode(t, r, 0)
	if st, _ := e.inspect("e1").node("ready"); st == "finished" {
		t.Fatalf("the event finished before it started waiting")
	}
	r = e.cli("approve", "e1", "first", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "finished" || string(out.Output) != "42" {
		t.Errorf("the kept signal was not consumed: %+v", out)
	}
}

func TestSignalAfterWaitContinues(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.cli("run", filepath.Join(examplesDir(t), "event.smw"), "--run-id", "ev1")
	mustCode(t, r, 3)
	mustContain(t, "stdout", r.stdout, "waiting-event", "smithc signal ev1 deploy.finished")
	r = e.cli("signal", "ev1", "deploy.finished", "--data", `{"ok": true, "url": "https://example.com"}`, "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "finished" || !strings.Contains(string(out.Output), "deployed at https://example.com") {
		t.Errorf("after the signal: %+v", out)
	}
	r = e.cli("signal", "ev1", "x", "--data", "{not json")
	mustCode(t, r, 2)
	mustContain(t, "stderr", r.stderr, "--data")
}

func TestApproveHonoursWaitMode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("later.smw", `workflow later {
  approval go { title = "go?" }
  timer pause { duration = "1h" }
  step done { value = "done" }
}
`)
	mustCode(t, e.cli("run", f, "--run-id", "l1"), 3)
	r := e.cli("approve", "l1", "go", "--wait", "never", "--format", "json")
	mustCode(t, r, 3)
	if out := decodeRun(t, r); out.Status != "waiting-timer" {
		t.Errorf("approve --wait never: %+v, want waiting-timer", out)
	}
}

func TestApproveInputFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := filepath.Join(examplesDir(t), "approval.smw")
	mustCode(t, e.cli("run", f, "--run-id", "a1"), 3)
	r := e.cli("approve", "a1", "approve", "--input", "n=3")
	mustCode(t, r, 2)
	mustContain(t, "stderr", r.stderr, `"n"`, "reason")
	r = e.cli("approve", "a1", "approve", "--input", "reason=because", "--format", "json")
	mustCode(t, r, 0)
	raw := e.cli("inspect", "a1", "--format", "json").stdout
	mustContain(t, "inspect", raw, `"reason": "because"`)
}

func TestCancelAWaitingRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCode(t, e.cli("run", e.write("gate.smw", gateFail), "--run-id", "g1"), 3)
	r := e.cli("cancel", "g1", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "cancelled" {
		t.Errorf("cancel of a waiting run nobody executes: %+v", out)
	}
	if in := e.inspect("g1"); in.Status != "cancelled" {
		t.Errorf("status %q, want cancelled", in.Status)
	}
	// Resuming it brings it back to the approval.
	r = e.cli("resume", "g1")
	mustCode(t, r, 3)
	mustContain(t, "stdout", r.stdout, "smithc approve g1 ok_to_go")
	mustCode(t, e.cli("approve", "g1", "ok_to_go"), 0)
}

// TestDecisionOnAnEndedRunIsRecordedForItsResume: an approval that still
// waits in a cancelled (or failed) run can be decided; nothing continues
// the run then, so the command says what it recorded and how the run goes
// on, and exits 0 instead of reporting the old end as its own failure.
// The resume takes the decision.
func TestDecisionOnAnEndedRunIsRecordedForItsResume(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCode(t, e.cli("run", e.write("gate.smw", gateFail), "--run-id", "g1"), 3)
	mustCode(t, e.cli("cancel", "g1"), 0)
	r := e.cli("approve", "g1", "ok_to_go")
	mustCode(t, r, 0)
	mustContain(t, "stdout", r.stdout, "recorded the approval of ok_to_go for run g1 (cancelled)", "smithc resume g1")
	if in := e.inspect("g1"); in.Status != "cancelled" || len(in.Approvals) != 1 || !in.Approvals[0].Approved {
		t.Fatalf("after the approval: status %s, approvals %+v", in.Status, in.Approvals)
	}
	r = e.cli("resume", "g1", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "finished" || string(out.Output) != `"done"` {
		t.Errorf("resume after the recorded approval: %+v", out)
	}
}

// TestSignalToAFinishedRunIsRefused: no node of a finished run runs
// again, so a signal to it is refused (exit 2) and not kept.
func TestSignalToAFinishedRunIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCode(t, e.cli("run", e.write("early.smw", earlySignal), "--run-id", "e1"), 3)
	mustCode(t, e.cli("signal", "e1", "ready", "--data", `{"value": 1}`, "--no-continue"), 0)
	mustCode(t, e.cli("approve", "e1", "first"), 0)
	r := e.cli("signal", "e1", "ready", "--data", `{"value": 2}`)
	mustCode(t, r, 2)
	mustContain(t, "stderr", r.stderr, `signal "ready" for run e1: the run has finished`, "nothing was recorded")
	r = e.cli("logs", "e1")
	mustCode(t, r, 0)
	if n := strings.Count(r.stdout, "SignalSent"); n != 1 {
		t.Errorf("%d SignalSent events, want the first one only:\n%s", n, r.stdout)
	}
}
