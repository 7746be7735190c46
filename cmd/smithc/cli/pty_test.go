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
	c := exec.Command(smithcBin, args...)
	c.Dir = e.dir
	c.Env = append(os.Environ(), "SMITHC_DB="+e.db)
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

// waitOutput waits until the terminal shows want.
func (p *pty) waitOutput(t *testing.T, want string) {
	t.Helper()
	eventually(t, "the terminal to show "+strconv.Quote(want), func() bool { return strings.Contains(p.String(), want) })
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
