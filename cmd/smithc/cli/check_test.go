package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/smithc/smithc/internal/testgen"
)

// examplesDir is the repository's examples/ directory.
func examplesDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "examples")
}

const threeErrors = `type Analysis {
  summary: string
  risk: int
}

workflow bad {
  step analyze {
    output: Analysis
    value = { summary: "s", risk: 1 }
  }
  step report {
    needs = [analyse]
    value = analyze.sumary
  }
  step sum {
    value = analyze.risk + "x"
  }
}
`

func TestCheckClean(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("hello.smw", helloSMW)
	r := e.cli("check", f)
	mustCode(t, r, 0)
	mustContain(t, "stdout", r.stdout, f+": ok")
}

func TestCheckReportsEveryError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("bad.smw", threeErrors)
	r := e.cli("check", f)
	mustCode(t, r, 1)
	mustContain(t, "stderr", r.stderr,
		// the field typo, with the source line, a caret and the hint
		f+":13:21",
		"    value = analyze.sumary\n",
		"^^^^^^",
		`did you mean "summary"?`,
		// the unknown step in needs
		f+":12:14",
		"    needs = [analyse]\n",
		`did you mean "analyze"?`,
		// int + string
		f+":16:26",
		`    value = analyze.risk + "x"`,
		"int + string",
		"3 errors",
	)
	if strings.Contains(r.stdout, "ok") {
		t.Errorf("stdout says ok for a file with errors: %s", r.stdout)
	}
}

func TestCheckJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bad := e.write("bad.smw", threeErrors)
	good := e.write("hello.smw", helloSMW)
	r := e.cli("check", "--format", "json", good, bad)
	mustCode(t, r, 1)
	var files []struct {
		File        string `json:"file"`
		OK          bool   `json:"ok"`
		Diagnostics []struct {
			File     string `json:"file"`
			Line     int    `json:"line"`
			Col      int    `json:"col"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
			Hint     string `json:"hint"`
		} `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &files); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	if len(files) != 2 || !files[0].OK || files[1].OK {
		t.Fatalf("want [ok, not ok], got %+v", files)
	}
	type pos struct{ line, col int }
	got := map[pos]bool{}
	for _, d := range files[1].Diagnostics {
		if d.File != bad || d.Severity != "error" || d.Message == "" {
			t.Errorf("bad diagnostic %+v", d)
		}
		got[pos{d.Line, d.Col}] = true
	}
	for _, p := range []pos{{12, 14}, {13, 21}, {16, 26}} {
		if !got[p] {
			t.Errorf("no diagnostic at %d:%d in %+v", p.line, p.col, files[1].Diagnostics)
		}
	}
}

func TestCheckUsageErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("hello.smw", helloSMW)
	for name, args := range map[string][]string{
		"no file":      {"check"},
		"bad flag":     {"check", "--bogus", f},
		"bad format":   {"check", "--format", "yaml", f},
		"no command":   {"frobnicate"},
		"compile args": {"compile"},
	} {
		t.Run(name, func(t *testing.T) {
			r := e.cli(args...)
			mustCode(t, r, 2)
			if !strings.Contains(r.stderr, "smithc: ") {
				t.Errorf("no message on stderr: %s", r)
			}
		})
	}
}

func TestCheckMissingFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.cli("check", e.path("nope.smw"))
	if r.code == 0 {
		t.Fatalf("a missing file checked ok: %s", r)
	}
	mustContain(t, "stderr", r.stderr, "nope.smw")
}

func TestCheckExamples(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(examplesDir(t), "*.smw"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	r := runMain(append([]string{"check"}, files...))
	mustCode(t, r, 0)
}

// TestCheckInterrupted sends SIGINT and SIGTERM to a smithc check of a
// program that takes seconds to check: it must stop with exit status 130
// and say so, not finish the check and exit 0.
func TestCheckInterrupted(t *testing.T) {
	t.Parallel()
	for name, sig := range map[string]syscall.Signal{"SIGINT": syscall.SIGINT, "SIGTERM": syscall.SIGTERM} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			src := testgen.Sequential(240000)
			f := e.write("big.smw", string(src))
			p := e.start("check", f)
			// Wait until smithc is checking (it has read the file, so
			// its signal handling is in place), then interrupt it.
			eventually(t, "smithc to read the file", func() bool {
				return readBytes(p.cmd.Process.Pid) >= int64(len(src))
			})
			if err := syscall.Kill(p.cmd.Process.Pid, sig); err != nil {
				t.Fatal(err)
			}
			r := p.wait(t)
			mustCode(t, r, 130)
			mustContain(t, "stderr", r.stderr, "check of "+f+" interrupted")
		})
	}
}

// readBytes is how many bytes process pid has read (rchar in
// /proc/PID/io), or -1.
func readBytes(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return -1
}
