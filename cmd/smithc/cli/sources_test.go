package cli_test

import (
	"os"
	"strings"
	"testing"
)

// TestResumeKeepsTheStoredSourceUntilAdopted: editing the file after
// `run` does not change the run; --force says what replaced it;
// resume --source adopts the edit (finished nodes stay finished).
func TestResumeKeepsTheStoredSourceUntilAdopted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("needs.smw", needsFile)
	mustCode(t, e.cli("run", f, "--input", "dir="+e.dir, "--run-id", "kept"), 1)
	mustCode(t, e.cli("run", f, "--input", "dir="+e.dir, "--run-id", "adopted"), 1)
	e.write("needs.smw", strings.Replace(needsFile, `+ "!"`, `+ "?"`, 1))
	e.write("data.txt", "hello\n")

	r := e.cli("resume", "kept", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); string(out.Output) != `"hello!"` {
		t.Errorf("resume ran the edited file: output %s, want the stored source's \"hello!\"", out.Output)
	}

	r = e.cli("resume", "adopted", "--force")
	mustCode(t, r, 2)
	mustContain(t, "stderr", r.stderr, "--force is gone", "smithc resume adopted --source FILE")

	r = e.cli("resume", "adopted", "--source", f, "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); string(out.Output) != `"hello?"` {
		t.Errorf("resume --source: output %s, want the edited file's \"hello?\"", out.Output)
	}
	if n := e.lines("first_count"); n != 2 {
		t.Errorf("first ran %d times over two runs, want 2 (a finished node stays finished)", n)
	}
	// The adopted file is the run's source now: graph --run draws it.
	r = e.cli("graph", "--run", "adopted", "--db", e.db)
	mustCode(t, r, 0)
	mustContain(t, "graph", r.stdout, "first", "read", "after")

	// A file without the run's workflow is refused, naming it.
	other := e.write("other.smw", "workflow other {\n  step s { value = 1 }\n}\n")
	r = e.cli("retry", "adopted", "after", "--source", other)
	mustCode(t, r, 1)
	mustContain(t, "stderr", r.stderr, "adopted", `"needs_file"`)
}

// importedGate imports its types from another file, so that both files
// have to be stored with the run.
const importedGate = `import "lib/types.smw"

workflow imported {
  step plan { value = { title: "ship", n: 2 } }
  approval ok {
    title = "Ship ${plan.title}?"
  }
  event go {
    name = "go"
    output: Go
  }
  step after { value = plan.title + " x" + string(go.times) }
  output = after
}
`

const importedTypes = `type Go {
  times: int
}
`

// TestRunSurvivesItsSourceBeingDeleted: after `run`, the .smw file and
// its import are deleted; the run can still be inspected, drawn,
// approved, signalled and resumed to completion from its stored copy.
func TestRunSurvivesItsSourceBeingDeleted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := os.MkdirAll(e.path("lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.write("lib/types.smw", importedTypes)
	f := e.write("imported.smw", importedGate)
	mustCode(t, e.cli("run", f, "--run-id", "gone"), 3)
	for _, p := range []string{f, e.path("lib/types.smw")} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	r := e.cli("inspect", "gone")
	mustCode(t, r, 0)
	mustContain(t, "inspect", r.stdout, "waiting-approval", "ok")
	mustCode(t, e.cli("graph", "--run", "gone", "--db", e.db), 0)

	r = e.cli("approve", "gone", "ok")
	mustCode(t, r, 3)
	mustContain(t, "approve", r.stdout, "waiting-event", `signal "go"`)
	r = e.cli("signal", "gone", "go", "--data", `{"times": 3}`, "--no-continue")
	mustCode(t, r, 0)
	r = e.cli("resume", "gone", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "finished" || string(out.Output) != `"ship x3"` {
		t.Errorf("resume after the source was deleted: %+v", out)
	}
}
