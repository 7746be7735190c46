package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/smithc/smithc/cmd/smithc/cli"
	"github.com/smithc/smithc/internal/pgtest"
)

// smithcBin is the smithc binary built once by TestMain for the tests
// that need a real process (signals, crashes, concurrency). It is set
// before any test runs and never changed.
var smithcBin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "smithc-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	smithcBin = filepath.Join(dir, "smithc")
	// Built as `make build` builds it: without cgo (static).
	build := exec.Command("go", "build", "-o", smithcBin, "github.com/smithc/smithc/cmd/smithc")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build smithc: %v\n%s", err, out)
		return 1
	}
	return pgtest.Main(m) // m.Run, then stop the PostgreSQL cluster if a test started one
}

// result is what one smithc invocation produced.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// env is one test's sandbox: a directory with workflow files and a
// SQLite store.
type env struct {
	t   *testing.T
	dir string
	db  string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	return &env{t: t, dir: dir, db: filepath.Join(dir, "smithers.db")}
}

// write creates a file in the sandbox and returns its absolute path.
func (e *env) write(name, content string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// path returns the absolute path of a sandbox file.
func (e *env) path(name string) string { return filepath.Join(e.dir, name) }

// read returns the content of a sandbox file ("" when it does not exist).
func (e *env) read(name string) string {
	b, err := os.ReadFile(e.path(name))
	if err != nil && !os.IsNotExist(err) {
		e.t.Fatal(err)
	}
	return string(b)
}

// lines counts the lines of a sandbox file.
func (e *env) lines(name string) int {
	return strings.Count(e.read(name), "\n")
}

// storeCommands take --db.
var storeCommands = map[string]bool{
	"run": true, "resume": true, "approve": true, "deny": true, "signal": true, "cancel": true,
	"retry": true, "ps": true, "inspect": true, "logs": true, "why": true, "pause": true, "hijack": true, "fork": true,
}

// withDB adds --db for the commands that open the store.
func (e *env) withDB(args []string) []string {
	if len(args) > 0 && storeCommands[args[0]] {
		return append(append([]string(nil), args...), "--db", e.db)
	}
	return args
}

// cli runs smithc in this process with buffers (stdin empty, so not a
// terminal).
func (e *env) cli(args ...string) result {
	e.t.Helper()
	return runMain(e.withDB(args))
}

func runMain(args []string) result {
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// cmd returns the smithc binary as a command in its own process group,
// working in the sandbox with SMITHC_DB set.
func (e *env) cmd(args ...string) *exec.Cmd {
	c := exec.Command(smithcBin, args...)
	c.Dir = e.dir
	c.Env = append(os.Environ(), "SMITHC_DB="+e.db)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return c
}

// bin runs the smithc binary to completion.
func (e *env) bin(args ...string) result {
	e.t.Helper()
	c := e.cmd(args...)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			e.t.Fatalf("smithc %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// process is a smithc binary running in the background.
type process struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{}
	err            error
}

// start runs the smithc binary in the background; the test's cleanup
// kills its process group if it is still running.
func (e *env) start(args ...string) *process {
	e.t.Helper()
	p := &process{cmd: e.cmd(args...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	e.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) // best effort: the test already failed or finished
			<-p.done
		}
	})
	return p
}

// wait waits for the process to exit and returns its result.
func (p *process) wait(t *testing.T) result {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) // it hung: kill it to report
		<-p.done
		t.Fatalf("smithc did not exit\n--- stdout\n%s--- stderr\n%s", p.stdout, p.stderr)
	}
	return result{code: p.cmd.ProcessState.ExitCode(), stdout: p.stdout.String(), stderr: p.stderr.String()}
}

// signal sends sig to the process group.
func (p *process) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// eventually polls cond every 50ms until it holds, failing after 20s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runJSON is the --format json result of run, resume, approve, …
type runJSON struct {
	RunID  string          `json:"run_id"`
	Status string          `json:"status"`
	Output json.RawMessage `json:"output"`
	Error  *string         `json:"error"`
}

// decodeRun parses the single JSON object a --format json command prints.
func decodeRun(t *testing.T, r result) runJSON {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var out runJSON
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r)
	}
	if dec.More() {
		t.Fatalf("stdout has more than one JSON value\n%s", r)
	}
	return out
}

// inspection is the --format json form of inspect.
type inspection struct {
	RunID  string `json:"run_id"`
	Status string `json:"status"`
	Error  string `json:"error"`
	Nodes  []struct {
		NodeID   string `json:"node_id"`
		Kind     string `json:"kind"`
		State    string `json:"state"`
		Attempts int    `json:"attempts"`
		Error    string `json:"error"`
	} `json:"nodes"`
	Approvals []struct {
		NodeID   string `json:"node_id"`
		Decided  bool   `json:"decided"`
		Approved bool   `json:"approved"`
		Note     string `json:"note"`
	} `json:"approvals"`
}

// inspect reads a run through `smithc inspect --format json`.
func (e *env) inspect(runID string) inspection {
	e.t.Helper()
	r := e.cli("inspect", runID, "--format", "json")
	if r.code != 0 {
		e.t.Fatalf("inspect %s: %s", runID, r)
	}
	return parseInspection(e.t, r.stdout)
}

// parseInspection decodes inspect --format json.
func parseInspection(t *testing.T, s string) inspection {
	t.Helper()
	var in inspection
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		t.Fatalf("inspect: %v\n%s", err, s)
	}
	return in
}

// node returns the state and attempts of a node ("" when absent).
func (in inspection) node(id string) (state string, attempts int) {
	for _, n := range in.Nodes {
		if n.NodeID == id {
			return n.State, n.Attempts
		}
	}
	return "", 0
}

// mustCode fails the test unless r exited with code.
func mustCode(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("want exit %d, got %s", code, r)
	}
}

// mustContain fails unless s contains every want.
func mustContain(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, s)
		}
	}
}

// TestDurabilityFlag: --durability full runs (one fsynced commit per
// step); an unknown mode, from the flag or $SMITHC_DURABILITY, is a usage
// error naming where it came from.
func TestDurabilityFlag(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src := e.write("one.smw", "workflow one {\n  step a {\n    value = 1\n  }\n  step b {\n    value = a + 1\n  }\n  output = b\n}\n")
	if r := e.bin("run", src, "--durability", "full"); r.code != 0 || !strings.Contains(r.stdout, "2") {
		t.Fatalf("run --durability full: %s", r)
	}
	if r := e.bin("run", src, "--durability", "fsync"); r.code != 2 || !strings.Contains(r.stderr, `--durability="fsync"`) {
		t.Errorf("run --durability fsync: %s", r)
	}
	cmd := e.cmd("run", src)
	cmd.Env = append(cmd.Env, "SMITHC_DURABILITY=always")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), `$SMITHC_DURABILITY="always"`) {
		t.Errorf("SMITHC_DURABILITY=always: %v\n%s", err, out)
	}
}
