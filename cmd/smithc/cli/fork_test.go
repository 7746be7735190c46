package cli_test

import (
	"os"
	"strings"
	"testing"
)

// forkSrc counts its shell steps' runs in files, so that a test can tell
// a kept step from one run again.
const forkSrc = `workflow fk {
  input { dir: string }
  step a { run = "echo x >> ${input.dir}/a; wc -l < ${input.dir}/a" }
  approval gate { title = "Go?" }
  step b { run = "echo x >> ${input.dir}/b; wc -l < ${input.dir}/b" }
  step c { value = trim(a.stdout) + "/" + trim(b.stdout) + "/" + gate.by }
  output = c
}
`

const callSrc = `workflow child {
  input { k: int }
  step c { value = input.k + 1 }
}

workflow parent {
  step kid { call child { input = { k: 1 } } }
}
`

// TestFork: fork RUN --from NODE starts a new run from the run's stored
// program and input that keeps what came before NODE (step a and the
// approval's decision) and runs NODE and what follows; the original is
// unchanged; a bad --from, a missing one, a taken --run-id and a child run
// are usage errors that create nothing. On SQLite and on PostgreSQL.
func TestFork(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		env  func(*testing.T) *env
	}{{"sqlite", newEnv}, {"postgres", newPgEnv}} {
		t.Run(c.name, func(t *testing.T) {
			e := c.env(t)
			f := e.write("fk.smw", forkSrc)
			mustCode(t, e.cli("run", f, "--run-id", "o1", "--input", "dir="+e.dir), 3)
			mustCode(t, e.cli("approve", "o1", "gate", "--by", "ann"), 0)
			// The file changes after the run: the fork runs the stored program.
			if err := os.WriteFile(f, []byte("workflow other {}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			r := e.cli("fork", "o1", "--from", "b", "--run-id", "f1", "--format", "json")
			mustCode(t, r, 0)
			if out := decodeRun(t, r); out.Status != "finished" || string(out.Output) != `"1/2/ann"` {
				t.Errorf("fork: %+v", out)
			}
			if in := e.inspect("o1"); in.Status != "finished" || !strings.Contains(e.cli("inspect", "o1", "--format", "json").stdout, `1/1/ann`) {
				t.Errorf("the original after the fork: %+v", in)
			}
			r = e.cli("inspect", "f1")
			mustContain(t, "inspect f1", r.stdout, "forked    from run o1 at node b")
			r = e.cli("logs", "f1")
			mustContain(t, "logs f1", r.stdout, `RunForked`, `from_run="o1"`, `from_node="b"`)
			noneOf(t, "logs f1", r.stdout, "NodeStarted        a", "ApprovalRequested")

			r = e.cli("fork", "o1", "--from", "nope")
			mustCode(t, r, 2)
			mustContain(t, "fork --from nope", r.stderr, `no node "nope"`)
			r = e.cli("fork", "o1")
			mustCode(t, r, 2)
			mustContain(t, "fork without --from", r.stderr, "--from NODE")
			r = e.cli("fork", "o1", "--from", "b", "--run-id", "o1")
			mustCode(t, r, 2)
			mustContain(t, "fork into a taken id", r.stderr, `run id "o1" is taken`)
			if ids := e.psRuns(); len(ids) != 2 {
				t.Errorf("runs after the refused forks: %v", ids)
			}
			// A child run is forked through its parent.
			mustCode(t, e.cli("run", e.write("call.smw", callSrc), "--workflow", "parent", "--run-id", "p1"), 0)
			r = e.cli("fork", "p1.kid", "--from", "c")
			mustCode(t, r, 2)
			mustContain(t, "fork of a child run", r.stderr, "child run of step kid of run p1", "smithc fork p1 --from kid")
			if ids := e.psRuns(); len(ids) != 4 {
				t.Errorf("runs after the refused forks: %v", ids)
			}
		})
	}
}
