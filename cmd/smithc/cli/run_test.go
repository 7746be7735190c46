package cli_test

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const helloSMW = `workflow hello {
  input { name: string = "world" }
  step greet { run = "echo Hello, ${input.name}!" }
  step count {
    value = { name: input.name, letters: len(input.name), greeting: trim(greet.stdout) }
  }
  output = count
}
`

const typedInput = `workflow typed {
  input {
    n: int
    label: string = "x"
  }
  step double { value = input.n * 2 }
  output = double
}
`

func TestRunHelloExample(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.cli("run", filepath.Join(examplesDir(t), "hello.smw"), "--input", "name=bob")
	mustCode(t, r, 0)
	mustContain(t, "stdout", r.stdout, "finished", `"greeting": "Hello, bob!"`, `"letters": 3`)
	// Progress goes to stderr as plain lines when it is not a terminal.
	mustContain(t, "stderr", r.stderr, "NodeFinished", "greet", "RunFinished")
	if strings.Contains(r.stderr, "\x1b[") {
		t.Errorf("ANSI escapes on a stderr that is not a terminal:\n%q", r.stderr)
	}
}

func TestRunJSONIsOneObject(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.cli("run", filepath.Join(examplesDir(t), "hello.smw"), "--format", "json")
	mustCode(t, r, 0)
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &obj); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r)
	}
	if len(obj) != 4 {
		t.Errorf("want exactly run_id, status, output, error; got %s", r.stdout)
	}
	out := decodeRun(t, r)
	if out.RunID == "" || out.Status != "finished" || out.Error != nil {
		t.Errorf("bad result %+v", out)
	}
	var o struct {
		Greeting string `json:"greeting"`
	}
	if err := json.Unmarshal(out.Output, &o); err != nil || o.Greeting != "Hello, world!" {
		t.Errorf("output %s: %v", out.Output, err)
	}
}

func TestRunInputIsCoercedByType(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("typed.smw", typedInput)
	r := e.cli("run", f, "--input", "n=3", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); string(out.Output) != "6" {
		t.Errorf("output %s, want 6 (n coerced to an int)", out.Output)
	}
	// --input-file, overridden by --input.
	in := e.write("in.json", `{"n": 5, "label": "file"}`)
	r = e.cli("run", f, "--input-file", in, "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); string(out.Output) != "10" {
		t.Errorf("output %s, want 10 from the input file", out.Output)
	}
	r = e.cli("run", f, "--input-file", in, "--input", "n=1", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); string(out.Output) != "2" {
		t.Errorf("output %s, want 2 (--input overrides the file)", out.Output)
	}
}

func TestRunBadInputCreatesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("typed.smw", typedInput)
	for name, tc := range map[string]struct {
		args  []string
		wants []string
	}{
		"unknown":  {[]string{"--input", "m=3"}, []string{`"m"`, "n: int"}},
		"mistyped": {[]string{"--input", "n=three"}, []string{"input.n", "three"}},
		"missing":  {nil, []string{"n"}},
		"no equal": {[]string{"--input", "n"}, []string{"name=value"}},
		"file":     {[]string{"--input-file", e.write("bad.json", `{"n": "x"}`)}, []string{"n"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := e.cli(append([]string{"run", f}, tc.args...)...)
			mustCode(t, r, 2)
			mustContain(t, "stderr", r.stderr, tc.wants...)
		})
	}
	if _, err := os.Stat(e.db); !os.IsNotExist(err) {
		t.Errorf("bad input created the store %s (%v)", e.db, err)
	}
	r := e.cli("ps", "--format", "json")
	mustCode(t, r, 1) // no store: ps names the path and creates none
	mustContain(t, "ps", r.stderr, e.db)
}

func TestRunCheckErrorIsUsage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.cli("run", e.write("bad.smw", threeErrors))
	mustCode(t, r, 2)
	mustContain(t, "stderr", r.stderr, "sumary", "3 errors")
}

func TestRunUsageErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("hello.smw", helloSMW)
	for name, args := range map[string][]string{
		"wait":         {"run", f, "--wait", "sometimes"},
		"format":       {"run", f, "--format", "yaml"},
		"resume no id": {"run", f, "--resume"},
		"no such run":  {"resume", "nope"},
	} {
		t.Run(name, func(t *testing.T) {
			mustCode(t, e.cli(args...), 2)
		})
	}
}

func TestRunIDTakenAndFinishedResume(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("hello.smw", helloSMW)
	mustCode(t, e.cli("run", f, "--run-id", "r1"), 0)
	r := e.cli("run", f, "--run-id", "r1")
	mustCode(t, r, 2)
	mustContain(t, "stderr", r.stderr, "r1", "smithc resume r1")
	// Resuming a finished run prints its result and exits 0.
	r = e.cli("resume", "r1", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "finished" || !strings.Contains(string(out.Output), "Hello, world!") {
		t.Errorf("resume of a finished run: %+v", out)
	}
}

// TestStoreOpenFailure: a store that cannot be opened is exit 1 naming
// the path (a 12-character path once crashed the postgres URL check).
func TestStoreOpenFailure(t *testing.T) {
	t.Parallel()
	r := runMain([]string{"ps", "--db", "./nodir/a.db"})
	mustCode(t, r, 1)
	mustContain(t, "stderr", r.stderr, "./nodir/a.db")
}

func TestRunCallShowsChildRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.cli("run", filepath.Join(examplesDir(t), "call.smw"), "--workflow", "greet_team", "--run-id", "c1")
	mustCode(t, r, 0)
	mustContain(t, "stdout", r.stdout, `"Hello, Ada! Hello, team!"`)
	// The child runs' progress lines name them.
	mustContain(t, "stderr", r.stderr, "[c1.lead_greeting] RunStarted", "[c1.team_greeting] RunFinished")
	if strings.Contains(r.stderr, "[c1]") {
		t.Errorf("the run's own lines are labelled:\n%s", r.stderr)
	}
	ids := strings.Join(e.psRuns(), " ")
	mustContain(t, "ps", ids, "c1.lead_greeting", "c1.team_greeting", "c1")
}

// TestRunMaxConcurrency: with --max-concurrency 1 the steps of a
// parallel block never overlap (each holds a directory as a lock while
// it sleeps, and fails if another holds it).
func TestRunMaxConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	step := `    step %s { run = "mkdir ${input.dir}/lock || exit 9; sleep 0.2; rmdir ${input.dir}/lock" }
`
	src := "workflow serial {\n  input { dir: string }\n  parallel {\n"
	for _, id := range []string{"a", "b", "c"} {
		src += strings.Replace(step, "%s", id, 1)
	}
	src += "  }\n}\n"
	f := e.write("serial.smw", src)
	r := e.cli("run", f, "--input", "dir="+e.dir, "--max-concurrency", "1")
	mustCode(t, r, 0)
	r = e.cli("run", f, "--input", "dir="+e.dir, "--max-concurrency", "-1")
	mustCode(t, r, 2)
}

// TestRunLeavesStdinUnread: a run that asks nothing does not read its
// standard input (a file here, whose offset it would move): what the
// caller feeds smithc is there for the steps or the next command.
func TestRunLeavesStdinUnread(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("hello.smw", helloSMW)
	in, err := os.CreateTemp(e.dir, "stdin")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := in.WriteString("yes\nno\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	c := e.cmd("run", f, "--input", "name=x")
	c.Stdin = in // the child shares the file's offset
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if off, err := in.Seek(0, io.SeekCurrent); err != nil || off != 0 {
		t.Fatalf("stdin offset %d after the run (%v), want 0: smithc read its input", off, err)
	}
}
