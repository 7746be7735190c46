package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const needsFile = `workflow needs_file {
  input { dir: string }
  step first { run = "echo x >> ${input.dir}/first_count" }
  step read {
    run = "echo x >> ${input.dir}/read_count; cat ${input.dir}/data.txt"
  }
  step after { value = trim(read.stdout) + "!" }
  output = after
}
`

func TestFailedStepThenResumeRerunsOnlyIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("needs.smw", needsFile)
	r := e.cli("run", f, "--input", "dir="+e.dir, "--run-id", "f1")
	mustCode(t, r, 1)
	mustContain(t, "stdout", r.stdout, "f1 failed", "step read", "data.txt", "No such file", "smithc resume f1")
	in := e.inspect("f1")
	if in.Status != "failed" || !strings.Contains(in.Error, "read") {
		t.Errorf("run %s: %q", in.Status, in.Error)
	}
	if st, _ := in.node("after"); st == "finished" {
		t.Errorf("a step after the failure ran")
	}

	e.write("data.txt", "hello\n")
	// run --run-id ID --resume is the same as resume ID.
	r = e.cli("run", f, "--run-id", "f1", "--resume", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); string(out.Output) != `"hello!"` {
		t.Errorf("output %s", out.Output)
	}
	if n := e.lines("first_count"); n != 1 {
		t.Errorf("first ran %d times, want 1", n)
	}
	if n := e.lines("read_count"); n != 2 {
		t.Errorf("read ran %d times, want 2", n)
	}
}

const retryChain = `workflow chain {
  input { dir: string }
  parallel {
    step a { run = "echo a >> ${input.dir}/a" }
    step b { run = "echo b >> ${input.dir}/b" }
  }
  step c { run = "echo c >> ${input.dir}/c" }
}
`

func TestRetryResetsNodeAndDependents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("chain.smw", retryChain)
	mustCode(t, e.cli("run", f, "--input", "dir="+e.dir, "--run-id", "r1"), 0)
	r := e.cli("retry", "r1", "b", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "finished" {
		t.Errorf("after retry: %+v", out)
	}
	for file, want := range map[string]int{"a": 1, "b": 2, "c": 2} {
		if n := e.lines(file); n != want {
			t.Errorf("step %s ran %d times, want %d", file, n, want)
		}
	}
	r = e.cli("retry", "r1", "nope")
	if r.code == 0 {
		t.Fatalf("retry of an unknown node succeeded: %s", r)
	}
	mustContain(t, "stderr", r.stderr, `"nope"`)
}

func TestRetryAttemptsVisibleInInspect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("flaky.smw", `workflow flaky {
  step try_it {
    run = "test ${run.attempt} -ge 3 || exit 1; echo ok"
    retry { attempts = 3, delay = "10ms" }
  }
}
`)
	mustCode(t, e.cli("run", f, "--run-id", "r3"), 0)
	if st, n := e.inspect("r3").node("try_it"); st != "finished" || n != 3 {
		t.Errorf("try_it %s after %d attempts, want finished after 3", st, n)
	}
	logs := e.cli("logs", "r3")
	if n := strings.Count(logs.stdout, "AttemptFailed"); n != 2 {
		t.Errorf("%d failed attempts in the log, want 2:\n%s", n, logs.stdout)
	}
	// One attempt fewer and the step fails, naming the step.
	f = e.write("flaky2.smw", strings.Replace(e.read("flaky.smw"), "attempts = 3", "attempts = 2", 1))
	r := e.cli("run", f, "--run-id", "r2")
	mustCode(t, r, 1)
	mustContain(t, "stdout", r.stdout, "try_it")
	if st, n := e.inspect("r2").node("try_it"); st != "failed" || n != 2 {
		t.Errorf("try_it %s after %d attempts, want failed after 2", st, n)
	}
}

func TestStepTimeoutKillsTheProcess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("slow.smw", `workflow slowpoke {
  input { dir: string }
  step wait {
    run     = "echo $$ > ${input.dir}/pid; sleep 30"
    timeout = "1s"
  }
}
`)
	e.killPidsOnCleanup("pid")
	r := e.cli("run", f, "--input", "dir="+e.dir, "--run-id", "t1")
	mustCode(t, r, 1)
	mustContain(t, "stdout", r.stdout, "step wait", "timed out")
	pids := e.pids("pid")
	if len(pids) != 1 {
		t.Fatalf("the step's shell did not record its pid (%v)", pids)
	}
	// The shell leads the step's process group: the sleep in it dies too.
	eventually(t, "the timed-out step's process group to be killed", func() bool { return gone(pids[0]) && groupGone(pids[0]) })
}

func TestTimerFiresAfterRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("timer.smw", `workflow cool_down {
  input { dir: string }
  step start { run = "echo s >> ${input.dir}/starts" }
  timer pause { duration = "2s" }
  step finish { value = "finished" }
  output = finish
}
`)
	r := e.cli("run", f, "--input", "dir="+e.dir, "--run-id", "t1", "--wait", "never")
	mustCode(t, r, 3)
	mustContain(t, "stdout", r.stdout, "waiting-timer", "pause", "smithc resume t1")
	var due time.Time
	raw := e.cli("inspect", "t1", "--format", "json").stdout
	var in struct {
		Status string `json:"status"`
		Nodes  []struct {
			NodeID string `json:"node_id"`
			State  string `json:"state"`
			Data   struct {
				Due time.Time `json:"due"`
			} `json:"data"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		t.Fatal(err)
	}
	for _, n := range in.Nodes {
		if n.NodeID == "pause" {
			due = n.Data.Due
			if n.State != "waiting" {
				t.Errorf("pause is %s, want waiting", n.State)
			}
		}
	}
	if in.Status != "waiting-timer" || due.IsZero() {
		t.Fatalf("status %s, due %v\n%s", in.Status, due, raw)
	}
	// Before it is due, --wait never still waits.
	if time.Now().Before(due.Add(-time.Second)) {
		mustCode(t, e.cli("resume", "t1", "--wait", "never"), 3)
	}
	time.Sleep(time.Until(due) + 50*time.Millisecond)
	r = e.cli("resume", "t1", "--wait", "never", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); string(out.Output) != `"finished"` {
		t.Errorf("output %s", out.Output)
	}
	if n := e.lines("starts"); n != 1 {
		t.Errorf("start ran %d times, want 1", n)
	}
	mustContain(t, "logs", e.cli("logs", "t1").stdout, "TimerScheduled", "TimerFired")
}

func TestTimerWaitAutoStaysThrough(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("timer.smw", `workflow short {
  timer pause { duration = "200ms" }
  step finish { value = "finished" }
  output = finish
}
`)
	r := e.cli("run", f, "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "finished" {
		t.Errorf("wait auto did not wait through the timer: %+v", out)
	}
}

func TestRunTimeoutFlag(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("slow.smw", `workflow slow {
  input { dir: string }
  step nap { run = "echo $$ > ${input.dir}/pid; sleep 30" }
}
`)
	e.killPidsOnCleanup("pid")
	r := e.cli("run", f, "--input", "dir="+e.dir, "--timeout", "1s", "--run-id", "t1")
	mustCode(t, r, 1)
	mustContain(t, "stdout", r.stdout, "t1", "timed out")
	if pids := e.pids("pid"); len(pids) == 1 {
		eventually(t, "the step to be killed at the deadline", func() bool { return gone(pids[0]) && groupGone(pids[0]) })
	}
}

// TestRunThatHitItsDeadlineCanBeContinued: a run failed at its deadline
// says how to continue it, and `resume --timeout` (or retry --timeout)
// gives the session a new deadline from now.
func TestRunThatHitItsDeadlineCanBeContinued(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("slow.smw", `workflow slow {
  input { dir: string }
  timeout = "1s"
  step first { run = "echo x >> ${input.dir}/first_count" }
  step nap { run = "test -f ${input.dir}/go || sleep 30; echo woke" }
  step last { value = trim(nap.stdout) }
  output = last
}
`)
	r := e.cli("run", f, "--input", "dir="+e.dir, "--run-id", "dl1")
	mustCode(t, r, 1)
	mustContain(t, "stdout", r.stdout, "timed out", "smithc resume dl1 --timeout DURATION")
	e.write("go", "")
	// Without a new timeout the old deadline stands: the same hint.
	r = e.cli("resume", "dl1")
	mustCode(t, r, 1)
	mustContain(t, "stdout", r.stdout, "timed out", "smithc resume dl1 --timeout DURATION")
	r = e.cli("resume", "dl1", "--timeout", "1m", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "finished" || string(out.Output) != `"woke"` {
		t.Errorf("resume --timeout: %+v", out)
	}
	if n := e.lines("first_count"); n != 1 {
		t.Errorf("first ran %d times, want 1", n)
	}
	r = e.cli("retry", "dl1", "nap", "--timeout", "1m", "--format", "json")
	mustCode(t, r, 0)
}
