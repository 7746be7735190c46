package cli_test

import (
	"encoding/json"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
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
