package cli_test

import (
	"strings"
	"testing"
)

// TestPauseFromAnotherProcess: `smithc pause` from another process stops
// the scheduling of new attempts; the running step finishes and its
// output is kept; the run ends paused (exit 3), why says so, and resume
// continues it to the end without re-running the step.
func TestPauseFromAnotherProcess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("two.smw", `workflow two {
  input { dir: string }
  step first { run = "echo x >> ${input.dir}/first_count; while [ ! -f ${input.dir}/go ]; do sleep 0.05; done; echo one" }
  step second { run = "echo x >> ${input.dir}/second_count; echo two" }
  step last { value = trim(first.stdout) + trim(second.stdout) }
  output = last
}
`)
	p := e.start("run", f, "--run-id", "pz1", "--input", "dir="+e.dir, "--format", "json")
	e.waitNode("pz1", "first", "running")
	r := e.cli("pause", "pz1")
	mustCode(t, r, 0)
	mustContain(t, "pause", r.stdout, "pause requested for run pz1")
	eventually(t, "the owner to see the pause", func() bool {
		return strings.Contains(e.cli("logs", "pz1").stdout, "PauseRequested")
	})
	e.write("go", "")
	res := p.wait(t)
	mustCode(t, res, 3)
	if out := decodeRun(t, res); out.Status != "paused" {
		t.Errorf("result %+v, want paused", out)
	}
	in := e.inspect("pz1")
	if st, _ := in.node("first"); st != "finished" || in.Status != "paused" {
		t.Errorf("after the pause: run %s, first %s; want paused, finished", in.Status, st)
	}
	if st, _ := in.node("second"); st == "finished" || e.lines("second_count") != 0 {
		t.Errorf("second started after the pause (state %q)", st)
	}
	w := e.why("pz1")
	if w.Status != "paused" || len(w.Waiting) != 1 || w.Waiting[0].Kind != "paused" || w.Waiting[0].Command != "smithc resume pz1" {
		t.Errorf("why of a paused run: %+v", w)
	}
	mustContain(t, "ps --status paused", e.cli("ps", "--status", "paused").stdout, "pz1")
	r = e.cli("resume", "pz1", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "finished" || string(out.Output) != `"onetwo"` {
		t.Errorf("resume after the pause: %+v", out)
	}
	if n := e.lines("first_count"); n != 1 {
		t.Errorf("first ran %d times, want 1", n)
	}
}

// TestPauseAWaitingRun: a run nobody executes is paused at once, and a
// paused run's resume goes back to its wait.
func TestPauseAWaitingRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("gate.smw", gateFail)
	mustCode(t, e.cli("run", f, "--run-id", "pw1"), 3)
	r := e.cli("pause", "pw1")
	mustCode(t, r, 0)
	mustContain(t, "pause", r.stdout, "run pw1 paused", "smithc resume pw1")
	r = e.cli("resume", "pw1")
	mustCode(t, r, 3)
	mustContain(t, "resume", r.stdout, "waiting-approval", "smithc approve pw1 ok_to_go")
	mustCode(t, e.cli("approve", "pw1", "ok_to_go"), 0)
	r = e.cli("pause", "pw1", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "finished" {
		t.Errorf("pausing a finished run changed it: %+v", out)
	}
}
