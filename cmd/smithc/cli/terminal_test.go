package cli_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// ansiColour is how the live view starts a colour (SGR codes 31-36).
var ansiColour = []string{"\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[36m"}

func hasColour(s string) bool {
	for _, c := range ansiColour {
		if strings.Contains(s, c) {
			return true
		}
	}
	return false
}

func TestNoColorKeepsTheLiveViewWithoutColour(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := openPTY(t)
	f := e.write("hello.smw", helloSMW)
	code, stdout := e.runOnPTYEnv(p, []string{"NO_COLOR=1"}, false, "run", f, "--run-id", "nc1")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, p)
	}
	p.waitOutput(t, "run nc1 finished after")
	term := p.String()
	if !strings.Contains(term, "\x1b[J") || !strings.Contains(term, "✓") {
		t.Errorf("NO_COLOR should keep the live tree, only without colour:\n%q", term)
	}
	if hasColour(term) {
		t.Errorf("NO_COLOR=1 but the terminal shows colour:\n%q", term)
	}
}

func TestDumbTerminalGetsPlainLines(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := openPTY(t)
	f := e.write("hello.smw", helloSMW)
	code, stdout := e.runOnPTYEnv(p, []string{"TERM=dumb"}, false, "run", f, "--run-id", "dumb1")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, p)
	}
	p.waitOutput(t, "RunFinished")
	term := p.String()
	if strings.Contains(term, "\x1b") {
		t.Errorf("TERM=dumb but the terminal got escape sequences:\n%q", term)
	}
	if !strings.Contains(term, "NodeFinished") || !strings.Contains(term, "run=dumb1") {
		t.Errorf("TERM=dumb should get plain progress lines:\n%q", term)
	}
}

func TestProgressPlainAtATerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := openPTY(t)
	f := e.write("hello.smw", helloSMW)
	code, stdout := e.runOnPTY(p, false, "run", f, "--run-id", "pp1", "--progress", "plain")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, p)
	}
	p.waitOutput(t, "RunFinished")
	if term := p.String(); strings.Contains(term, "\x1b") || !strings.Contains(term, "NodeFinished") {
		t.Errorf("--progress plain at a terminal should give plain lines:\n%q", term)
	}
}

func TestProgressQuietPrintsOnlyTheResult(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("hello.smw", helloSMW)
	loud := e.cli("run", f, "--run-id", "q0")
	if loud.code != 0 || !strings.Contains(loud.stderr, "NodeFinished") {
		t.Fatalf("without --progress: exit %d, stderr %q", loud.code, loud.stderr)
	}
	r := e.cli("run", f, "--run-id", "q1", "--progress", "quiet")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("--progress quiet wrote to stderr: %q", r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "run q1 finished\n") {
		t.Errorf("stdout: %q", r.stdout)
	}
	bad := e.cli("run", f, "--progress", "loud")
	if bad.code == 0 || !strings.Contains(bad.stderr, "--progress must be auto, plain or quiet") {
		t.Errorf("--progress loud: exit %d, stderr %q", bad.code, bad.stderr)
	}
	for _, cmd := range []string{"resume", "approve", "deny", "signal", "retry"} {
		h := e.cli(cmd, "--help")
		if !strings.Contains(h.stdout, "--progress") {
			t.Errorf("smithc %s has no --progress flag:\n%s", cmd, h.stdout)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := e.bin(args...)
		if r.code != 0 {
			t.Fatalf("smithc %v: exit %d\n%s", args, r.code, r.stderr)
		}
		line := strings.TrimSpace(r.stdout)
		if !strings.HasPrefix(line, "smithc ") || !strings.Contains(line, runtime.Version()) || strings.Contains(line, "(devel)") {
			t.Errorf("smithc %v: %q, want smithc VERSION (%s ...)", args, line, runtime.Version())
		}
	}
}

func TestJSONErrorsNameNoGoTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("w.smw", "workflow w {\n  input { n: int = 1 }\n  step s { value = input.n }\n}\n")
	for _, tt := range []struct {
		doc, want string
		args      []string
	}{
		{"[1, 2]", "the document is a list, not an object", nil},
		{`"n"`, `the document is a string "n", not an object`, nil},
		{`{"n": `, "the JSON ends early", nil},
		{`{"n" 1}`, "invalid JSON at byte 6", nil},
		// null was taken for no inputs, and with --input it panicked
		{"null", "the document is null, not an object", nil},
		{"null", "the document is null, not an object", []string{"--input", "n=2"}},
		// text after the object was ignored
		{`{"n": 2} trailing`, "text after the JSON value, which ends at byte 8", nil},
		{`{"n": 2} {"n": 3}`, "text after the JSON value, which ends at byte 8", nil},
		{`{"n": 1e999}`, "number 1e999 is out of range", nil},
	} {
		in := e.write("in.json", tt.doc)
		r := e.cli(append([]string{"run", f, "--input-file", in}, tt.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "one JSON object of inputs") {
			t.Errorf("--input-file %s: exit %d, stderr %q; want exit 2 and %q", tt.doc, r.code, r.stderr, tt.want)
		}
		noneOf(t, "--input-file "+tt.doc, r.stderr, "Go value", "interface {}", "map[", "json: cannot", "panic", "goroutine")
	}
}

// TestFlagValueErrors: a flag's value that does not parse is exit 2
// saying what the flag takes, without the parser's words for it.
func TestFlagValueErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("w.smw", "workflow w {\n  step s { value = 1 }\n}\n")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run", f, "--timeout", "abc"}, `--timeout "abc": want a duration (such as 90s, 5m or 1h30m)`},
		{[]string{"run", f, "--max-concurrency", "x"}, `--max-concurrency "x": want a whole number`},
	} {
		r := e.cli(tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("smithc %v: exit %d, stderr %q; want exit 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
		noneOf(t, fmt.Sprint("smithc ", tt.args), r.stderr, "time:", "strconv", "invalid argument", "parsing")
	}
}

// TestInputFileNotAFile: an --input-file that is missing or a directory
// is exit 2 naming the path once, in the system's words.
func TestInputFileNotAFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("w.smw", "workflow w {\n  input { n: int = 1 }\n  step s { value = input.n }\n}\n")
	dir := t.TempDir()
	for _, tt := range []struct{ path, want string }{
		{filepath.Join(dir, "nope.json"), "--input-file " + filepath.Join(dir, "nope.json") + ": no such file or directory"},
		{dir, "--input-file " + dir + " is a directory: give a file"},
	} {
		r := e.cli("run", f, "--input-file", tt.path)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) || strings.Count(r.stderr, tt.path) != 1 {
			t.Errorf("--input-file %s: exit %d, stderr %q; want exit 2 and %q", tt.path, r.code, r.stderr, tt.want)
		}
	}
}

// noneOf fails the test for each of words (a Go type, a parser's own
// wording) that stderr shows.
func noneOf(t *testing.T, what, stderr string, words ...string) {
	t.Helper()
	for _, w := range words {
		if strings.Contains(stderr, w) {
			t.Errorf("%s: stderr shows %q: %q", what, w, stderr)
		}
	}
}
