package cli_test

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// crashSMW counts its first step in a file and sleeps in its second on
// the first attempt only, recording the pid of each attempt's shell.
const crashSMW = `workflow crash {
  input { dir: string }
  step count { run = "echo ran >> ${input.dir}/counter" }
  step slow {
    run = "echo $$ >> ${input.dir}/slow_pids; test ${run.attempt} -ge 2 || sleep 30; echo done"
  }
  output = slow
}
`

// pids reads the pids a workflow wrote, one a line.
func (e *env) pids(name string) []int {
	e.t.Helper()
	var out []int
	for _, f := range strings.Fields(e.read(name)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			e.t.Fatalf("%s: %v", name, err)
		}
		out = append(out, pid)
	}
	return out
}

// killPidsOnCleanup kills, when the test ends, the processes (and their
// groups) whose pids the workflow wrote to name: a step's shell survives
// a SIGKILL of smithc, since it runs in its own process group.
func (e *env) killPidsOnCleanup(name string) {
	e.t.Cleanup(func() {
		for _, f := range strings.Fields(e.read(name)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
				_ = syscall.Kill(-pid, syscall.SIGKILL) // best effort: usually already gone
				_ = syscall.Kill(pid, syscall.SIGKILL)  // best effort: usually already gone
			}
		}
	})
}

// gone reports whether no process has pid (zombies count as gone).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// procStat returns the state and process group of pid from
// /proc/PID/stat; ok is false when there is no such process.
func procStat(pid int) (state byte, pgrp int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 3 {
		return 0, 0, false
	}
	pgrp, err = strconv.Atoi(f[2])
	return f[0][0], pgrp, err == nil
}

// groupGone reports whether no live (non-zombie) process is in the
// process group pgrp.
func groupGone(pgrp int) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, g, ok := procStat(pid); ok && g == pgrp && st != 'Z' {
			return false
		}
	}
	return true
}

// waitNode waits until inspect shows node in state.
func (e *env) waitNode(runID, node, state string) {
	e.t.Helper()
	eventually(e.t, node+" "+state, func() bool {
		r := e.cli("inspect", runID, "--format", "json")
		if r.code != 0 {
			return false
		}
		st, _ := parseInspection(e.t, r.stdout).node(node)
		return st == state
	})
}

func TestSIGKILLThenResume(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("crash.smw", crashSMW)
	e.killPidsOnCleanup("slow_pids")
	p := e.start("run", f, "--input", "dir="+e.dir, "--run-id", "k1")
	e.waitNode("k1", "slow", "running")
	eventually(t, "the step's shell to start", func() bool { return len(e.pids("slow_pids")) == 1 })
	if st, _ := e.inspect("k1").node("count"); st != "finished" {
		t.Fatalf("count is %q while slow runs", st)
	}
	p.signal(t, syscall.SIGKILL)
	if r := p.wait(t); r.code != -1 {
		t.Fatalf("smithc survived SIGKILL: %s", r)
	}
	if in := e.inspect("k1"); in.Status != "running" {
		t.Fatalf("status %q after a crash, want running (nobody marked it)", in.Status)
	}
	r := e.bin("resume", "k1", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "finished" || !strings.Contains(string(out.Output), "done") {
		t.Errorf("resume: %+v", out)
	}
	if n := e.lines("counter"); n != 1 {
		t.Errorf("the first step ran %d times, want exactly 1", n)
	}
	in := e.inspect("k1")
	if st, n := in.node("slow"); st != "finished" || n != 2 {
		t.Errorf("slow is %s after %d attempts, want finished after 2 (the abandoned one retried)", st, n)
	}
	if n := len(e.pids("slow_pids")); n != 2 {
		t.Errorf("slow started %d times, want 2", n)
	}
	logs := e.cli("logs", "k1")
	mustContain(t, "logs", logs.stdout, "AttemptAbandoned", "RunResumed")
}

func TestSignalCancelsThenResume(t *testing.T) {
	t.Parallel()
	for name, sig := range map[string]syscall.Signal{"SIGINT": syscall.SIGINT, "SIGTERM": syscall.SIGTERM} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			f := e.write("crash.smw", crashSMW)
			e.killPidsOnCleanup("slow_pids")
			p := e.start("run", f, "--input", "dir="+e.dir, "--run-id", "i1")
			e.waitNode("i1", "slow", "running")
			eventually(t, "the step's pid", func() bool { return len(e.pids("slow_pids")) == 1 })
			// The step runs in its own process group, which smithc must kill.
			var stepGroup int
			eventually(t, "the step's sleep", func() bool {
				_, g, ok := procStat(e.pids("slow_pids")[0])
				stepGroup = g
				return ok && g != 0 && !groupGone(g)
			})
			if _, smithcGroup, _ := procStat(p.cmd.Process.Pid); stepGroup == smithcGroup {
				t.Fatalf("the step shares smithc's process group %d", stepGroup)
			}
			// Only smithc gets the signal, not the step: smithc must stop it.
			if err := syscall.Kill(p.cmd.Process.Pid, sig); err != nil {
				t.Fatal(err)
			}
			r := p.wait(t)
			mustCode(t, r, 130)
			mustContain(t, "stdout", r.stdout, "cancelled", "smithc resume i1")
			shell := e.pids("slow_pids")[0]
			eventually(t, "the step's shell to be killed", func() bool { return gone(shell) })
			eventually(t, "the step's process group (the sleep) to be killed", func() bool { return groupGone(stepGroup) })
			in := e.inspect("i1")
			if in.Status != "cancelled" {
				t.Errorf("status %q, want cancelled", in.Status)
			}
			if st, _ := in.node("slow"); st != "cancelled" {
				t.Errorf("slow is %q, want cancelled", st)
			}
			r = e.bin("resume", "i1", "--format", "json")
			mustCode(t, r, 0)
			if out := decodeRun(t, r); out.Status != "finished" {
				t.Errorf("resume after %s: %+v", name, out)
			}
			if n := e.lines("counter"); n != 1 {
				t.Errorf("the first step ran %d times, want 1", n)
			}
		})
	}
}

func TestCancelFromAnotherProcess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("crash.smw", crashSMW)
	e.killPidsOnCleanup("slow_pids")
	p := e.start("run", f, "--input", "dir="+e.dir, "--run-id", "c1", "--format", "json")
	e.waitNode("c1", "slow", "running")
	eventually(t, "the step's shell to start", func() bool { return len(e.pids("slow_pids")) == 1 })
	r := e.cli("cancel", "c1")
	mustCode(t, r, 0)
	mustContain(t, "cancel's stdout", r.stdout, "c1")
	r = p.wait(t)
	mustCode(t, r, 130)
	if out := decodeRun(t, r); out.Status != "cancelled" {
		t.Errorf("the running process reported %+v", out)
	}
	shell := e.pids("slow_pids")[0] // it leads the step's process group
	eventually(t, "the step's process group to be killed", func() bool { return gone(shell) && groupGone(shell) })
	// Cancelling a cancelled run is harmless.
	mustCode(t, e.cli("cancel", "c1"), 0)
	mustCode(t, e.cli("cancel", "nope"), 2)
}

func TestFourConcurrentRunsOnOneStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("chain.smw", `workflow chain {
  input { n: int }
  step a { run = "echo a${input.n}" }
  step b { value = trim(a.stdout) + "b" }
  step c { run = "echo ${b}c" }
  output = c
}
`)
	var ps []*process
	for i := range 4 {
		ps = append(ps, e.start("run", f, "--input", "n="+strconv.Itoa(i), "--run-id", "r"+strconv.Itoa(i), "--format", "json"))
	}
	for i, p := range ps {
		r := p.wait(t)
		mustCode(t, r, 0)
		if out := decodeRun(t, r); !strings.Contains(string(out.Output), "a"+strconv.Itoa(i)+"bc") {
			t.Errorf("run %d: %+v", i, out)
		}
	}
	r := e.cli("ps", "--status", "finished")
	mustCode(t, r, 0)
	for i := range 4 {
		mustContain(t, "ps", r.stdout, "r"+strconv.Itoa(i))
	}
}

func TestDecisionReachesAWaitAlwaysProcess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("gate.smw", gateFail)
	p := e.start("run", f, "--run-id", "w1", "--wait", "always", "--format", "json")
	e.waitNode("w1", "ok_to_go", "waiting")
	// The live process owns the run: resume is refused, naming it.
	r := e.cli("resume", "w1")
	if r.code == 0 {
		t.Fatalf("resume of a run live in another process succeeded: %s", r)
	}
	mustContain(t, "stderr", r.stderr, "process "+strconv.Itoa(p.cmd.Process.Pid))
	// approve records the decision and leaves the run to that process.
	r = e.cli("approve", "w1", "ok_to_go", "--note", "go")
	mustCode(t, r, 0)
	// Usually the waiting process is still on it; if it was quicker, the
	// run has finished already.
	if !strings.Contains(r.stdout, "process "+strconv.Itoa(p.cmd.Process.Pid)) && !strings.Contains(r.stdout, "run w1 finished") {
		t.Errorf("approve neither names the process that continues the run nor reports it finished:\n%s", r)
	}
	r = p.wait(t)
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "finished" || string(out.Output) != `"done"` {
		t.Errorf("the waiting process reported %+v", out)
	}
}

// TestResumeAfterOwnerDeathKillsTheLeftoverGroup: SIGKILL of smithc
// alone (not its group) leaves the step's process group running (the
// shell's sleep at least: Pdeathsig reaches only the shell); resume kills
// that group (recorded with the attempt) before it runs the step again,
// so no second copy runs beside the first.
func TestResumeAfterOwnerDeathKillsTheLeftoverGroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("crash.smw", crashSMW)
	e.killPidsOnCleanup("slow_pids")
	p := e.start("run", f, "--input", "dir="+e.dir, "--run-id", "lg1")
	e.waitNode("lg1", "slow", "running")
	eventually(t, "the step's shell to start", func() bool { return len(e.pids("slow_pids")) == 1 })
	first := e.pids("slow_pids")[0]
	// The group is recorded before the shell does anything else.
	if err := syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if r := p.wait(t); r.code != -1 {
		t.Fatalf("smithc survived SIGKILL: %s", r)
	}
	eventually(t, "the step's sleep to be in its group", func() bool { return !groupGone(first) })
	r := e.bin("resume", "lg1", "--format", "json")
	mustCode(t, r, 0)
	if !groupGone(first) {
		t.Errorf("the dead owner's process group %d is still running after resume", first)
	}
	if n := len(e.pids("slow_pids")); n != 2 {
		t.Errorf("slow started %d times, want 2", n)
	}
	logs := e.cli("logs", "lg1")
	mustContain(t, "logs", logs.stdout, "ProcessGroupKilled", "AttemptAbandoned")
}
