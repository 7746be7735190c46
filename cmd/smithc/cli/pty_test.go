package cli_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pty is a pseudo-terminal: the test reads and writes the master side;
// smithc gets the terminal side.
type pty struct {
	master, tty *os.File
	mu          sync.Mutex
	out         bytes.Buffer // everything read from the master
	done        chan struct{}
}

// openPTY opens a pseudo-terminal and starts copying what is written to
// it into a buffer. It skips the test where pseudo-terminals are missing.
func openPTY(t *testing.T) *pty {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here (/dev/ptmx: %v); the live view is covered by the renderer tests", err)
	}
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		t.Fatalf("unlock the pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		master.Close()
		t.Fatalf("pty number: %v", err)
	}
	tty, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		t.Fatalf("open the pty: %v", err)
	}
	p := &pty{master: master, tty: tty, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return // EIO once the terminal side is closed everywhere
			}
		}
	}()
	t.Cleanup(func() {
		tty.Close()
		master.Close()
		<-p.done
	})
	return p
}

func (p *pty) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// runOnPTY runs the smithc binary with stderr (and, if interactive, stdin
// and stdout) on the terminal; stdout otherwise goes to a buffer.
func (e *env) runOnPTY(p *pty, interactive bool, args ...string) (code int, stdout string) {
	e.t.Helper()
	return e.runOnPTYEnv(p, nil, interactive, args...)
}

// runOnPTYEnv is runOnPTY with extra environment variables; by default
// the terminal is a colour one (TERM=xterm, NO_COLOR empty).
func (e *env) runOnPTYEnv(p *pty, extra []string, interactive bool, args ...string) (code int, stdout string) {
	e.t.Helper()
	c := exec.Command(smithcBin, args...)
	c.Dir = e.dir
	c.Env = append(os.Environ(), "SMITHC_DB="+e.db, "TERM=xterm", "NO_COLOR=")
	c.Env = append(c.Env, extra...)
	var out bytes.Buffer
	c.Stdin, c.Stdout, c.Stderr = strings.NewReader(""), &out, p.tty
	if interactive {
		c.Stdin, c.Stdout = p.tty, p.tty
	}
	err := c.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return 0, out.String()
}

// startOnPTY starts the smithc binary interactively on the terminal and
// returns a channel that gets its exit code; the test's cleanup kills it
// if it is still running (before the terminal is closed).
func (e *env) startOnPTY(p *pty, args ...string) <-chan int {
	e.t.Helper()
	c := exec.Command(smithcBin, args...)
	c.Dir = e.dir
	c.Env = append(os.Environ(), "SMITHC_DB="+e.db)
	c.Stdin, c.Stdout, c.Stderr = p.tty, p.tty, p.tty
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
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

// waitOutput waits until the terminal shows want.
func (p *pty) waitOutput(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for the terminal to show %q; it shows:\n%q", want, p.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLiveViewOnATerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := openPTY(t)
	f := e.write("hello.smw", helloSMW)
	code, stdout := e.runOnPTY(p, false, "run", f, "--run-id", "h1")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, p)
	}
	// The result stays plain on stdout.
	if !strings.HasPrefix(stdout, "run h1 finished\n") || strings.Contains(stdout, "\x1b") {
		t.Errorf("stdout: %q", stdout)
	}
	p.waitOutput(t, "run h1 finished after")
	term := p.String()
	for _, want := range []string{"\x1b[J", "greet", "count", "finished", "✓", "#1", "2 finished"} {
		if !strings.Contains(term, want) {
			t.Errorf("the terminal does not show %q:\n%q", want, term)
		}
	}
	// No plain event lines on a terminal.
	if strings.Contains(term, "NodeFinished") {
		t.Errorf("plain progress lines on a terminal:\n%q", term)
	}
}

func TestApprovalAskedInlineAtATerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := openPTY(t)
	f := e.write("gate.smw", gateFail)
	type exit struct {
		code int
		out  string
	}
	done := make(chan exit, 1)
	go func() {
		code, out := e.runOnPTY(p, true, "run", f, "--run-id", "g1")
		done <- exit{code, out}
	}()
	p.waitOutput(t, "approve? [y/n]")
	// Anything but yes or no is asked again, never taken as a denial.
	if _, err := io.WriteString(p.master, "maybe\n"); err != nil {
		t.Fatal(err)
	}
	p.waitOutput(t, "please answer y or n")
	if _, err := io.WriteString(p.master, "y\n"); err != nil {
		t.Fatal(err)
	}
	p.waitOutput(t, "note (optional)")
	if _, err := io.WriteString(p.master, "from the terminal\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.code != 0 {
			t.Fatalf("exit %d\n%q", r.code, p)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("smithc did not finish after the answer:\n%q", p)
	}
	p.waitOutput(t, "run g1 finished")
	in := e.inspect("g1")
	if len(in.Approvals) != 1 || !in.Approvals[0].Approved || in.Approvals[0].Note != "from the terminal" {
		t.Errorf("the inline answer was not recorded: %+v", in.Approvals)
	}
}

// TestEventAwaitedAtATerminal: at a terminal, wait mode auto stays with a
// run waiting for an event, showing how to signal it, and goes on when
// the signal comes (recorded only, or continued by the signal command).
func TestEventAwaitedAtATerminal(t *testing.T) {
	t.Parallel()
	for name, extra := range map[string][]string{"recorded": {"--no-continue"}, "continued": nil} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			p := openPTY(t)
			f := filepath.Join(examplesDir(t), "event.smw")
			done := make(chan int, 1)
			go func() {
				code, _ := e.runOnPTY(p, true, "run", f, "--run-id", "ev1")
				done <- code
			}()
			p.waitOutput(t, "smithc signal ev1 deploy.finished")
			r := e.cli(append([]string{"signal", "ev1", "deploy.finished", "--data", `{"ok": true, "url": "https://x.example"}`}, extra...)...)
			mustCode(t, r, 0)
			select {
			case code := <-done:
				if code != 0 {
					t.Fatalf("exit %d\n%q", code, p)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("smithc kept waiting after the signal:\n%q", p)
			}
			if in := e.inspect("ev1"); in.Status != "finished" {
				t.Errorf("status %q, want finished", in.Status)
			}
		})
	}
}

func TestCtrlCWhileWaitingForAPersonLeavesTheRunWaiting(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		file           func(e *env) string
		prompt, status string
	}{
		"approval": {func(e *env) string { return e.write("gate.smw", gateFail) }, "approve? [y/n]", "waiting-approval"},
		"event": {func(e *env) string { return filepath.Join(examplesDir(t), "event.smw") },
			"smithc signal g1 deploy.finished", "waiting-event"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			p := openPTY(t)
			file, prompt, status := tc.file(e), tc.prompt, tc.status
			c := exec.Command(smithcBin, "run", file, "--run-id", "g1")
			c.Dir = e.dir
			c.Env = append(os.Environ(), "SMITHC_DB="+e.db)
			c.Stdin, c.Stdout, c.Stderr = p.tty, p.tty, p.tty
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- c.Wait() }()
			p.waitOutput(t, prompt)
			if err := c.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = c.Process.Kill() // it hung: kill it to report
				t.Fatalf("Ctrl-C did not end the wait:\n%q", p)
			}
			if code := c.ProcessState.ExitCode(); code != 3 {
				t.Errorf("exit %d, want 3 (still waiting)\n%q", code, p)
			}
			if in := e.inspect("g1"); in.Status != status {
				t.Errorf("status %q after Ctrl-C, want %q", in.Status, status)
			}
		})
	}
}

// typedGate declares output fields the approver gives: a string, an enum
// with a default and an optional int.
const typedGate = `workflow typed {
  approval gate {
    title  = "Ship it?"
    output { reason: string, level: "low" | "high" = "low", count?: int }
  }
  step after { value = gate.reason + "/" + gate.level + "/" + string(gate.count ?? 0) }
  output = after
}
`

// TestInlineApprovalAsksForItsFields: the terminal prompt asks for the
// approval's output fields, typed (enum choices and defaults shown, a
// value that does not fit asked again), and the decision succeeds.
func TestInlineApprovalAsksForItsFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := openPTY(t)
	f := e.write("typed.smw", typedGate)
	done := e.startOnPTY(p, "run", f, "--run-id", "ty1")
	say := func(s string) {
		t.Helper()
		if _, err := io.WriteString(p.master, s+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	p.waitOutput(t, "approve? [y/n]")
	say("y")
	p.waitOutput(t, "reason (string): ")
	say("")
	p.waitOutput(t, "reason is required")
	say("tested")
	p.waitOutput(t, `level ("low" | "high", default "low"): `)
	say("medium")
	p.waitOutput(t, "gate.level")
	say("high")
	p.waitOutput(t, "count (int, optional): ")
	say("x")
	p.waitOutput(t, "gate.count")
	say("3")
	p.waitOutput(t, "note (optional)")
	say("")
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d\n%q", code, p)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("smithc did not finish:\n%q", p)
	}
	p.waitOutput(t, `"tested/high/3"`)
}

// TestTerminalNoticesADecisionFromAnotherShell: while a terminal session
// asks about an approval, the approval is decided from another shell;
// the session says so, follows the run to its end and exits with its
// status, never leaving a stale prompt or exiting 0 for a failed run.
func TestTerminalNoticesADecisionFromAnotherShell(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		args []string
		code int
		out  string
	}{
		"approved": {[]string{"approve", "g1", "ok_to_go"}, 0, "run g1 finished"},
		"denied":   {[]string{"deny", "g1", "ok_to_go"}, 1, "run g1 failed"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			p := openPTY(t)
			f := e.write("gate.smw", gateFail)
			done := e.startOnPTY(p, "run", f, "--run-id", "g1")
			p.waitOutput(t, "approve? [y/n]")
			mustCode(t, e.cli(tc.args...), tc.code)
			select {
			case code := <-done:
				if code != tc.code {
					t.Fatalf("exit %d, want %d\n%q", code, tc.code, p)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("the terminal session did not notice the decision:\n%q", p)
			}
			p.waitOutput(t, "decided from another shell")
			p.waitOutput(t, tc.out)
		})
	}
}

// TestTerminalNoticesASignalContinuedElsewhere: a terminal session
// waiting for an event follows the run that another shell's signal
// continued, to its end.
func TestTerminalNoticesASignalContinuedElsewhere(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := openPTY(t)
	f := e.write("slowev.smw", `workflow slowev {
  input { dir: string }
  event go { name = "go" }
  step slow { run = "while [ ! -f ${input.dir}/release ]; do sleep 0.05; done; echo released" }
}
`)
	done := e.startOnPTY(p, "run", f, "--run-id", "se1", "--input", "dir="+e.dir)
	p.waitOutput(t, "smithc signal se1 go")
	sig := e.start("signal", "se1", "go")
	e.waitNode("se1", "slow", "running")
	p.waitOutput(t, "following it")
	select {
	case code := <-done:
		t.Fatalf("the terminal session exited %d while the run was still running elsewhere:\n%q", code, p)
	default:
	}
	e.write("release", "")
	mustCode(t, sig.wait(t), 0)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d\n%q", code, p)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the terminal session did not follow the run to its end:\n%q", p)
	}
	p.waitOutput(t, "run se1 finished")
}
