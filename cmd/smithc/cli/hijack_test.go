package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// standInSession writes a stand-in `claude` that keeps a session: in
// print mode (-p) it records its arguments, directory and prompt in
// claude.log, reports session sess-standin-1 at once, then works (sleeps)
// until it is stopped, unless it was given --resume, when it answers
// {"fixed": true} in that session. Run interactively (no -p) it records
// its arguments and directory, says SESSION OPEN and reads one line from
// the terminal.
func (e *env) standInSession() string {
	e.t.Helper()
	if err := os.MkdirAll(e.path("bin"), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.MkdirAll(e.path("work"), 0o755); err != nil {
		e.t.Fatal(err)
	}
	log := e.path("claude.log")
	p := e.write("bin/claude", fmt.Sprintf(`#!/bin/sh
LOG=%s
if [ "$1" = "-p" ]; then
  n=$(cat "$LOG.n" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$LOG.n"
  echo "print $n cwd=$(pwd) args=$*" >> "$LOG"
  cat > "$LOG.prompt$n"
  printf '{"type":"system","subtype":"init","session_id":"sess-standin-1"}\n'
  case " $* " in
  *" --resume "*) ;;
  *) sleep 60 & wait ;;
  esac
  printf '{"type":"result","subtype":"success","is_error":false,"result":"{\\"fixed\\": true}","session_id":"sess-standin-1"}\n'
  exit 0
fi
echo "interactive cwd=$(pwd) args=$*" >> "$LOG"
echo "SESSION OPEN"
read line
echo "typed=$line" >> "$LOG"
`, log))
	if err := os.Chmod(p, 0o755); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// sessionSMW is a workflow whose one agent step works until stopped.
func (e *env) sessionSMW() string {
	return e.write("fix.smw", fmt.Sprintf(`agent coder {
  cli = %q
  cwd = %q
}
workflow fix {
  step fix {
    output { fixed: bool }
    agent  = coder
    prompt = "Fix the bug."
  }
  output = fix
}
`, e.standInSession(), e.path("work")))
}

// waitEvent waits until the run's log has an event of kind.
func (e *env) waitEvent(runID, kind string) {
	e.t.Helper()
	eventually(e.t, kind+" in the log of "+runID, func() bool {
		r := e.cli("logs", runID, "--format", "json")
		return r.code == 0 && strings.Contains(r.stdout, `"kind":"`+kind+`"`)
	})
}

// startOnCtty starts the smithc binary in a session of its own whose
// controlling terminal is p (so that it and what it starts are the
// terminal's foreground process group, as in a shell).
func (e *env) startOnCtty(p *pty, args ...string) <-chan int {
	e.t.Helper()
	c := exec.Command(smithcBin, e.withDB(args)...)
	c.Dir = e.dir
	c.Env = append(os.Environ(), "TERM=dumb")
	c.Stdin, c.Stdout, c.Stderr = p.tty, p.tty, p.tty
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := c.Start(); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan int, 1)
	exited := make(chan struct{})
	go func() {
		_ = c.Wait() // the exit code is what matters
		done <- c.ProcessState.ExitCode()
		close(exited)
	}()
	e.t.Cleanup(func() {
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL) // best effort: it may have exited
		<-exited
	})
	return done
}

// nodeJSON is a node of inspect --format json, with its session and
// handoff.
type nodeJSON struct {
	NodeID   string `json:"node_id"`
	State    string `json:"state"`
	Attempts int    `json:"attempts"`
	Session  *struct {
		ID      string `json:"session_id"`
		Kind    string `json:"kind"`
		Dir     string `json:"dir"`
		Attempt int    `json:"attempt"`
	} `json:"session"`
	Handoff *struct {
		Attempt int       `json:"attempt"`
		ID      string    `json:"session_id"`
		Kind    string    `json:"kind"`
		Dir     string    `json:"dir"`
		By      string    `json:"by"`
		Time    time.Time `json:"time"`
	} `json:"handoff"`
}

func (e *env) nodeOf(runID, node string) (status string, n nodeJSON) {
	e.t.Helper()
	r := e.cli("inspect", runID, "--format", "json")
	mustCode(e.t, r, 0)
	var in struct {
		Status string     `json:"status"`
		Nodes  []nodeJSON `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &in); err != nil {
		e.t.Fatalf("inspect: %v\n%s", err, r.stdout)
	}
	for _, x := range in.Nodes {
		if x.NodeID == node {
			return in.Status, x
		}
	}
	e.t.Fatalf("inspect shows no node %s: %s", node, r.stdout)
	return "", nodeJSON{}
}

// smithc hijack, at a terminal, against a run another process executes:
// that process ends the attempt cancelled and records the handoff; the
// agent's session opens interactively with --resume in the step's
// directory, on the terminal; smithc resume then finishes the step in the
// same session.
func TestHijackOpensTheSessionThenResumeContinuesIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src := e.sessionSMW()
	owner := e.start("run", src, "--run-id", "h1", "--format", "json")
	e.waitEvent("h1", "AgentSession")

	p := openPTY(t)
	done := e.startOnCtty(p, "hijack", "h1")
	p.waitOutput(t, "SESSION OPEN")
	if _, err := p.master.Write([]byte("all yours\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("smithc hijack exited %d:\n%s", code, p.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("smithc hijack did not exit:\n%s", p.String())
	}
	p.waitOutput(t, "continues step fix in it") // what smithc wrote last may still be on its way from the terminal
	mustContain(t, "the terminal", p.String(), "step fix (attempt 1) handed over", "smithc resume h1")

	r := owner.wait(t)
	if out := decodeRun(t, r); out.Status != "cancelled" || out.Error == nil || !strings.Contains(*out.Error, "hijacked") {
		t.Fatalf("the run's process ended %+v, want cancelled by the hijack\n%s", out, r)
	}
	status, n := e.nodeOf("h1", "fix")
	if status != "cancelled" || n.Handoff == nil || n.Handoff.ID != "sess-standin-1" || n.Handoff.Attempt != 1 ||
		n.Handoff.Kind != "claude" || n.Handoff.Dir != e.path("work") || n.Handoff.By == "" || n.Handoff.Time.IsZero() {
		t.Fatalf("run %s, node %+v: want a handoff of attempt 1's session", status, n)
	}
	logs := e.cli("logs", "h1", "--format", "json").stdout
	mustContain(t, "logs", logs, `"kind":"HijackRequested"`, `"kind":"AttemptHijacked"`)
	att := e.cli("inspect", "h1")
	mustContain(t, "inspect", att.stdout, "hijacked fix: attempt 1's claude session sess-standin-1")

	log := e.read("claude.log")
	mustContain(t, "claude.log", log, "interactive cwd="+e.path("work")+" args=--resume sess-standin-1", "typed=all yours")

	res := e.bin("resume", "h1", "--format", "json")
	mustCode(t, res, 0)
	if out := decodeRun(t, res); out.Status != "finished" || strings.Join(strings.Fields(string(out.Output)), "") != `{"fixed":true}` {
		t.Fatalf("resume: %+v", out)
	}
	log = e.read("claude.log")
	lines := strings.Split(strings.TrimSpace(log), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "print 2 cwd="+e.path("work")) || !strings.Contains(last, "--resume sess-standin-1") {
		t.Errorf("the resumed attempt did not continue the session: %s", last)
	}
	mustContain(t, "the resumed attempt's prompt", e.read("claude.log.prompt2"), "handed over to a person", "Fix the bug.")
	if _, n := e.nodeOf("h1", "fix"); n.State != "finished" || n.Attempts != 2 {
		t.Errorf("fix is %s after %d attempts, want finished after 2", n.State, n.Attempts)
	}
}

// An agent attempt whose smithc process is killed (SIGKILL) left its
// session on record: the attempt after resume continues it (--resume)
// instead of starting a new one.
func TestSIGKILLThenResumeContinuesTheAgentSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src := e.sessionSMW()
	owner := e.start("run", src, "--run-id", "k2")
	e.waitEvent("k2", "AgentSession")
	owner.signal(t, syscall.SIGKILL)
	if r := owner.wait(t); r.code != -1 {
		t.Fatalf("smithc survived SIGKILL: %s", r)
	}
	if _, n := e.nodeOf("k2", "fix"); n.Session == nil || n.Session.ID != "sess-standin-1" || n.Session.Attempt != 1 {
		t.Fatalf("the session of attempt 1 is not on record: %+v", n)
	}
	res := e.bin("resume", "k2", "--format", "json")
	mustCode(t, res, 0)
	if out := decodeRun(t, res); out.Status != "finished" {
		t.Fatalf("resume: %+v", out)
	}
	log := e.read("claude.log")
	mustContain(t, "claude.log", log, "print 2 ")
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(l, "print 1 ") && strings.Contains(l, "--resume") {
			t.Errorf("the first attempt resumed a session: %s", l)
		}
		if strings.HasPrefix(l, "print 2 ") && !strings.Contains(l, "--resume sess-standin-1") {
			t.Errorf("the attempt after the crash started a new session: %s", l)
		}
	}
	mustContain(t, "the resumed attempt's prompt", e.read("claude.log.prompt2"), "interrupted", "Fix the bug.")
}

// smithc hijack of a run whose process died hands the session its step
// reported over without any owner; of a finished run, or naming a step
// that is not an agent's, it says why not.
func TestHijackWithoutOwnerAndRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src := e.sessionSMW()
	owner := e.start("run", src, "--run-id", "d1")
	e.waitEvent("d1", "AgentSession")
	owner.signal(t, syscall.SIGKILL)
	owner.wait(t)

	r := e.cli("hijack", "d1", "nosuch")
	mustCode(t, r, 2)
	mustContain(t, "hijack of an unknown node", r.stderr, "nosuch")

	// Not at a terminal: the command line is printed, not run.
	r = e.cli("hijack", "d1", "--format", "json")
	mustCode(t, r, 0)
	var h struct {
		Session string   `json:"session_id"`
		Command []string `json:"command"`
		Dir     string   `json:"dir"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &h); err != nil {
		t.Fatalf("hijack --format json: %v\n%s", err, r.stdout)
	}
	if h.Session != "sess-standin-1" || len(h.Command) != 3 || h.Command[1] != "--resume" || h.Command[2] != "sess-standin-1" || h.Dir != e.path("work") {
		t.Errorf("hijack --format json = %+v", h)
	}
	if status, n := e.nodeOf("d1", "fix"); status != "cancelled" || n.Handoff == nil || n.Handoff.Attempt != 1 {
		t.Errorf("run %s, node %+v: want cancelled with a handoff of attempt 1", status, n)
	}
	// Again, in text: a hijacked run's session is re-opened; the command
	// line to paste is printed.
	r = e.cli("hijack", "d1")
	mustCode(t, r, 0)
	mustContain(t, "hijack in text", r.stdout, "open the session with:", "cd "+e.path("work")+" && claude --resume sess-standin-1",
		"smithc resume d1")
	mustCode(t, e.bin("resume", "d1"), 0)
	if n := strings.Count(e.read("claude.log"), "--resume sess-standin-1"); n != 1 {
		t.Errorf("%d attempts resumed the session, want 1:\n%s", n, e.read("claude.log"))
	}
	r = e.cli("hijack", "d1")
	mustCode(t, r, 2)
	mustContain(t, "hijack of a finished run", r.stderr, "finished")
}

// A detached run executed by a worker: the hijack request reaches the
// worker through the store; the worker ends the attempt and records the
// handoff; the run is resumed in the same session.
func TestHijackARunAWorkerExecutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src := e.sessionSMW()
	mustCode(t, e.cli("run", src, "--run-id", "w1", "--detach"), 0)
	w := startWorker(t, e.dir, e.db, 1, "--local-steps")
	e.waitEvent("w1", "AgentSession")
	r := e.cli("hijack", "w1", "fix", "--format", "json")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, `"session_id": "sess-standin-1"`) {
		t.Fatalf("hijack: %s", r.stdout)
	}
	status, n := e.nodeOf("w1", "fix")
	if status != "cancelled" || n.Handoff == nil || !strings.Contains(n.Handoff.By, "@") {
		t.Fatalf("run %s, node %+v: want cancelled with a handoff", status, n)
	}
	w.stop(t)
	res := e.bin("resume", "w1", "--format", "json")
	mustCode(t, res, 0)
	if n := strings.Count(e.read("claude.log"), "--resume sess-standin-1"); n != 1 {
		t.Errorf("%d attempts resumed the session, want 1:\n%s", n, e.read("claude.log"))
	}
}

// On PostgreSQL the workers share the steps: the agent attempt runs as a
// task in a worker (not the run's holder), which records the session in
// the log; hijack finds it there, the holder hands it over, and the
// attempt after resume continues it.
func TestHijackADistributedStep(t *testing.T) {
	e := newPgEnv(t)
	src := e.sessionSMW()
	mustCode(t, e.cli("run", src, "--run-id", "t1", "--detach"), 0)
	w := startWorker(t, e.dir, e.db, 1)
	e.waitEvent("t1", "AgentSession")
	if logs := e.cli("logs", "t1", "--format", "json").stdout; !strings.Contains(logs, `"queued":true`) {
		t.Fatalf("the attempt was not queued as a task:\n%s", logs)
	}
	r := e.cli("hijack", "t1", "--format", "json")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, `"session_id": "sess-standin-1"`) {
		t.Fatalf("hijack: %s", r.stdout)
	}
	status, n := e.nodeOf("t1", "fix")
	if status != "cancelled" || n.Handoff == nil || n.Session == nil || n.Session.ID != "sess-standin-1" {
		t.Fatalf("run %s, node %+v: want cancelled with a handoff", status, n)
	}
	res := e.cli("resume", "t1", "--format", "json")
	mustCode(t, res, 0)
	w.stop(t)
	if n := strings.Count(e.read("claude.log"), "--resume sess-standin-1"); n != 1 {
		t.Errorf("%d attempts resumed the session, want 1:\n%s", n, e.read("claude.log"))
	}
}
