package agentreal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var (
	buildOnce sync.Once
	binDir    string
	smithcBin string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// smithc builds the smithc binary once, for the tests that need a real
// process (SIGKILL, a terminal).
func smithc(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "smithc-agentreal-bin-"); buildErr != nil {
			return
		}
		smithcBin = filepath.Join(binDir, "smithc")
		out, err := exec.Command("go", "build", "-o", smithcBin, "github.com/smithc/smithc/cmd/smithc").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build smithc: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return smithcBin
}

// proc is a smithc process of a test.
type proc struct {
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan struct{}
}

// startSmithc starts smithc in its own process group with the store db;
// the test's cleanup kills the group if it still runs.
func startSmithc(t *testing.T, db string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(smithc(t), append(args, "--db", db)...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }() // the exit status is read from ProcessState
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) // best effort: the test failed or is done
			<-p.done
		}
	})
	return p
}

// runSmithc runs smithc to the end and returns its exit code and output.
func runSmithc(t *testing.T, db string, args ...string) (int, string) {
	t.Helper()
	c := exec.Command(smithc(t), append(args, "--db", db)...)
	out, err := c.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// waitFor polls cond every 100ms for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sessionOf reads the agent session of node in inspect --format json.
func sessionOf(t *testing.T, db, runID, node string) (id string, attempt int, handoff bool) {
	t.Helper()
	code, out := runSmithc(t, db, "inspect", runID, "--format", "json")
	if code != 0 {
		return "", 0, false
	}
	var in struct {
		Nodes []struct {
			NodeID  string `json:"node_id"`
			Session *struct {
				ID      string `json:"session_id"`
				Attempt int    `json:"attempt"`
			} `json:"session"`
			Handoff *struct {
				ID string `json:"session_id"`
			} `json:"handoff"`
		} `json:"nodes"`
	}
	if json.Unmarshal([]byte(out), &in) != nil {
		return "", 0, false
	}
	for _, n := range in.Nodes {
		if n.NodeID == node && n.Session != nil {
			return n.Session.ID, n.Session.Attempt, n.Handoff != nil
		}
	}
	return "", 0, false
}

// TestRealClaudeSessionAfterSIGKILL: smithc is killed (SIGKILL) while
// the real claude works on a step; claude had reported its session, so
// the attempt after `smithc resume` continues it (claude --resume ID):
// the stub gets the first prompt back as part of the conversation.
func TestRealClaudeSessionAfterSIGKILL(t *testing.T) {
	t.Parallel()
	first := make(chan struct{})
	var once sync.Once
	s := newSetup(t, "claude", func(n int, r request) turn {
		if strings.Contains(r.Body, "was interrupted") {
			return turn{text: `{"fixed": true}`}
		}
		once.Do(func() { close(first) })
		return turn{delay: 5 * time.Minute} // works until smithc dies
	})
	dir := t.TempDir()
	file := filepath.Join(dir, "w.smw")
	write(t, file, s.agent("a", extraArgs["claude"])+`
workflow w {
  step fix {
    output { fixed: bool }
    agent  = a
    prompt = "Fix the off-by-one bug in calc.go."
  }
  output = fix
}
`)
	db := filepath.Join(dir, "runs.db")
	owner := startSmithc(t, db, "run", file, "--run-id", "crash1")
	select {
	case <-first:
	case <-time.After(2 * time.Minute):
		t.Fatalf("claude asked the stub nothing:\n%s", owner.out.String())
	}
	var sid string
	waitFor(t, "the session on record", func() bool {
		id, att, _ := sessionOf(t, db, "crash1", "fix")
		sid = id
		return id != "" && att == 1
	})
	// claude reports its session before its transcript is on disk; killed
	// in between, it has nothing to resume (smithc then starts a new
	// session: TestAgentSessionMissingStartsANewOne). This test is about
	// continuing, so it kills once the transcript holds the task.
	waitFor(t, "claude's transcript of the session", func() bool {
		files, _ := filepath.Glob(filepath.Join(s.home, ".claude", "projects", "*", sid+".jsonl"))
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), "off-by-one") {
				return true
			}
		}
		return false
	})
	if err := syscall.Kill(-owner.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-owner.done

	runID := "crash1"
	code, out := runSmithc(t, db, "resume", runID, "--format", "json")
	if code != 0 || !strings.Contains(out, `"fixed": true`) {
		_, logs := runSmithc(t, db, "logs", runID)
		t.Fatalf("resume exited %d:\n%s\n--- logs\n%s", code, out, logs)
	}
	reqs := s.stub.modelRequests()
	last := reqs[len(reqs)-1]
	if !strings.Contains(last.Body, "was interrupted") || last.Messages < 2 ||
		strings.Count(last.Body, "Fix the off-by-one bug") < 2 {
		t.Errorf("the resumed attempt's request does not continue the conversation (%d messages): %.600s", last.Messages, last.Body)
	}
	_, logs := runSmithc(t, db, "logs", "crash1", "--format", "json")
	if !strings.Contains(logs, `"resume":"`+sid+`"`) {
		t.Errorf("the resumed attempt's AgentPrompt does not resume session %s:\n%s", sid, logs)
	}
}

// openPTY opens a pseudo-terminal: the test reads and writes master; the
// processes get tty. It skips where pseudo-terminals are missing.
func openPTY(t *testing.T) (master, tty *os.File, screen func() string) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here (/dev/ptmx: %v)", err)
	}
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock the pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open the pty: %v", err)
	}
	_ = unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120})
	var mu sync.Mutex
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		tty.Close()
		master.Close()
		<-done
	})
	return master, tty, func() string {
		mu.Lock()
		defer mu.Unlock()
		return out.String()
	}
}

// TestRealClaudeHijack: smithc hijack, at a terminal, on a run another
// smithc process executes: the attempt ends cancelled with a handoff, the
// real claude opens the session interactively (claude --resume ID in the
// step's directory) and the person's turn goes to the stub in that
// conversation; smithc resume then finishes the step in the same session,
// the person's turn included.
func TestRealClaudeHijack(t *testing.T) {
	t.Parallel()
	first := make(chan struct{})
	var once sync.Once
	s := newSetup(t, "claude", func(n int, r request) turn {
		switch {
		case strings.Contains(r.Body, "handed over to a person"):
			return turn{text: `{"fixed": true}`}
		case strings.Contains(r.Body, "Where are you with the fix"):
			return turn{text: "Halfway through: the bug is on line 3."}
		case strings.Contains(r.Body, "Fix the off-by-one bug"):
			once.Do(func() { close(first) })
			return turn{delay: 5 * time.Minute} // works until hijacked
		}
		return turn{text: "ok"} // titles, summaries and the like
	})
	// Claude's own first-run questions answered: onboarding done, the
	// directory trusted, the stub's key approved.
	write(t, filepath.Join(s.home, ".claude.json"), js(map[string]any{
		"hasCompletedOnboarding": true, "theme": "dark", "numStartups": 5,
		"customApiKeyResponses": map[string]any{"approved": []string{"sk-stub-key"}, "rejected": []string{}},
		"projects":              map[string]any{s.work: map[string]any{"hasTrustDialogAccepted": true, "hasCompletedProjectOnboarding": true}},
	}))
	dir := t.TempDir()
	file := filepath.Join(dir, "w.smw")
	write(t, file, s.agent("a", extraArgs["claude"])+`
workflow w {
  step fix {
    output { fixed: bool }
    agent  = a
    prompt = "Fix the off-by-one bug in calc.go."
  }
  output = fix
}
`)
	db := filepath.Join(dir, "runs.db")
	owner := startSmithc(t, db, "run", file, "--run-id", "hj1", "--format", "json")
	select {
	case <-first:
	case <-time.After(2 * time.Minute):
		t.Fatalf("claude asked the stub nothing:\n%s", owner.out.String())
	}
	var sid string
	waitFor(t, "the session on record", func() bool {
		sid, _, _ = sessionOf(t, db, "hj1", "fix")
		return sid != ""
	})

	master, tty, screen := openPTY(t)
	h := exec.Command(smithc(t), "hijack", "hj1", "--db", db)
	h.Env = append(os.Environ(), "TERM=xterm-256color")
	h.Stdin, h.Stdout, h.Stderr = tty, tty, tty
	h.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	hdone := make(chan struct{})
	go func() { _ = h.Wait(); close(hdone) }() // the exit status is read from ProcessState
	t.Cleanup(func() {
		_ = syscall.Kill(-h.Process.Pid, syscall.SIGKILL) // best effort: it may have exited
		<-hdone
	})
	waitFor(t, "claude's prompt on the terminal", func() bool { return strings.Contains(screen(), "handed over") && strings.Count(screen(), "─") > 10 })
	time.Sleep(2 * time.Second) // let the input box settle
	type_ := func(s string) {
		for _, c := range s {
			if _, err := master.Write([]byte(string(c))); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	type_("Where are you with the fix?")
	time.Sleep(500 * time.Millisecond)
	type_("\r")
	waitFor(t, "the person's turn at the stub", func() bool {
		for _, r := range s.stub.modelRequests() {
			if strings.Contains(r.Body, "Where are you with the fix") {
				return true
			}
		}
		return false
	})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(plain(screen()), "Halfway") {
		if time.Now().After(deadline) {
			t.Fatalf("claude's answer is not on the terminal:\n%s", plain(screen()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	type_("\x03")
	time.Sleep(300 * time.Millisecond)
	type_("\x03")
	select {
	case <-hdone:
	case <-time.After(time.Minute):
		t.Fatalf("smithc hijack did not end after claude was left:\n%s", screen())
	}
	if c := h.ProcessState.ExitCode(); c != 0 {
		t.Fatalf("smithc hijack exited %d:\n%s", c, screen())
	}
	<-owner.done
	if !strings.Contains(owner.out.String(), `"status": "cancelled"`) {
		t.Errorf("the run's process did not end cancelled:\n%s", owner.out.String())
	}
	if _, _, handoff := sessionOf(t, db, "hj1", "fix"); !handoff {
		t.Errorf("no handoff on record")
	}
	var personal request
	for _, r := range s.stub.modelRequests() {
		if strings.Contains(r.Body, "Where are you with the fix") {
			personal = r
			break
		}
	}
	if !strings.Contains(personal.Body, "Fix the off-by-one bug") {
		t.Errorf("the interactive claude did not open the step's session: its request lacks the step's prompt (%d messages)", personal.Messages)
	}

	runID := "hj1"
	code, out := runSmithc(t, db, "resume", runID, "--format", "json")
	if code != 0 || !strings.Contains(out, `"fixed": true`) {
		_, logs := runSmithc(t, db, "logs", runID)
		t.Fatalf("resume exited %d:\n%s\n--- logs\n%s", code, out, logs)
	}
	reqs := s.stub.modelRequests()
	last := reqs[len(reqs)-1]
	if !strings.Contains(last.Body, "handed over to a person") || !strings.Contains(last.Body, "Where are you with the fix") {
		t.Errorf("the resumed attempt did not continue the session the person used: %.800s", last.Body)
	}
	_, logs := runSmithc(t, db, "logs", "hj1", "--format", "json")
	if !strings.Contains(logs, `"resume":"`+sid+`"`) {
		t.Errorf("the resumed attempt's AgentPrompt does not resume session %s", sid)
	}
}

var ansi = regexp.MustCompile(`\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-B]|[=>78])`)

// plain is terminal output without escape sequences.
func plain(s string) string { return ansi.ReplaceAllString(s, "") }
