package cli_test

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
)

// psRuns runs ps --format json with extra flags and returns the run ids.
func (e *env) psRuns(flags ...string) []string {
	e.t.Helper()
	r := e.cli(append([]string{"ps", "--format", "json"}, flags...)...)
	mustCode(e.t, r, 0)
	var runs []struct {
		RunID  string `json:"run_id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil {
		e.t.Fatalf("ps: %v\n%s", err, r.stdout)
	}
	var ids []string
	for _, run := range runs {
		ids = append(ids, run.RunID)
	}
	return ids
}

func TestPsFiltersNewestFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hello := e.write("hello.smw", helloSMW)
	mustCode(t, e.cli("run", hello, "--run-id", "old"), 0)
	mustCode(t, e.cli("run", e.write("gate.smw", gateFail), "--run-id", "waits"), 3)
	mustCode(t, e.cli("run", e.write("fail.smw", `workflow boom {
  step fail { run = "exit 4" }
}
`), "--run-id", "fails"), 1)
	mustCode(t, e.cli("run", hello, "--run-id", "new"), 0)

	if got, want := strings.Join(e.psRuns(), " "), "new fails waits old"; got != want {
		t.Errorf("ps: %s, want newest first: %s", got, want)
	}
	if got := strings.Join(e.psRuns("--status", "finished"), " "); got != "new old" {
		t.Errorf("ps --status finished: %s", got)
	}
	if got := strings.Join(e.psRuns("--status", "failed,waiting-approval"), " "); got != "fails waits" {
		t.Errorf("ps --status failed,waiting-approval: %s", got)
	}
	if got := strings.Join(e.psRuns("--limit", "1"), " "); got != "new" {
		t.Errorf("ps --limit 1: %s", got)
	}
	r := e.cli("ps")
	mustCode(t, r, 0)
	mustContain(t, "ps", r.stdout, "RUN ID", "WORKFLOW", "STATUS", "waits", "gate", "waiting-approval", "fails", "boom", "exit code 4")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[1], "new ") {
		t.Errorf("ps text: want a header and 4 runs, newest first:\n%s", r.stdout)
	}
	r = e.cli("ps", "--status", "bogus")
	mustCode(t, r, 2)
	mustContain(t, "stderr", r.stderr, "bogus", "waiting-approval")
}

func TestInspectTextAndJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCode(t, e.cli("run", e.write("gate.smw", gateFail), "--run-id", "g1"), 3)
	r := e.cli("inspect", "g1")
	mustCode(t, r, 0)
	mustContain(t, "inspect", r.stdout,
		"run       g1", "workflow  gate", "status    waiting-approval",
		"NODE", "STATE", "ATTEMPTS", "before", "finished", "ok_to_go", "approval", "waiting",
		"approval ok_to_go: Go?")
	mustCode(t, e.cli("approve", "g1", "ok_to_go", "--note", "lgtm", "--by", "bob"), 0)
	in := e.inspect("g1")
	if in.RunID != "g1" || in.Status != "finished" {
		t.Errorf("inspect json: %+v", in)
	}
	for id, want := range map[string]string{"before": "finished", "ok_to_go": "finished", "after": "finished"} {
		if st, _ := in.node(id); st != want {
			t.Errorf("node %s is %q, want %q", id, st, want)
		}
	}
	if _, n := in.node("before"); n != 1 {
		t.Errorf("before has %d attempts, want 1", n)
	}
	r = e.cli("inspect", "g1")
	mustContain(t, "inspect", r.stdout, "approved by bob (lgtm)", `output    "done"`)
	r = e.cli("inspect", "nope")
	mustCode(t, r, 2)
	mustContain(t, "stderr", r.stderr, `"nope"`, "smithc ps")
}

func TestLogsTextAndNDJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCode(t, e.cli("run", e.write("hello.smw", helloSMW), "--run-id", "h1"), 0)
	r := e.cli("logs", "h1")
	mustCode(t, r, 0)
	mustContain(t, "logs", r.stdout, "RunStarted", "NodeStarted", "greet", "AttemptStarted", "NodeFinished", "count", "RunFinished")
	r = e.cli("logs", "h1", "--format", "json")
	mustCode(t, r, 0)
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	var seq int64
	kinds := map[string]bool{}
	n := 0
	for sc.Scan() {
		var ev struct {
			Seq   int64  `json:"seq"`
			RunID string `json:"run_id"`
			Kind  string `json:"kind"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %d is not one JSON object: %v\n%s", n+1, err, sc.Text())
		}
		if ev.Seq <= seq || ev.RunID != "h1" {
			t.Errorf("event %+v out of order or of another run", ev)
		}
		seq = ev.Seq
		kinds[ev.Kind] = true
		n++
	}
	if n < 5 || !kinds["RunStarted"] || !kinds["RunFinished"] {
		t.Errorf("%d events, kinds %v", n, kinds)
	}
	mustCode(t, e.cli("logs", "nope"), 2)
}

func TestLogsFollowEndsWithTheRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("slow.smw", `workflow slow {
  step first { run = "echo first" }
  step nap { run = "sleep 1; echo rested" }
  step last { value = trim(nap.stdout) }
  output = last
}
`)
	p := e.start("run", f, "--run-id", "s1")
	e.waitNode("s1", "nap", "running")
	r := e.cli("logs", "s1", "-f")
	mustCode(t, r, 0)
	mustContain(t, "logs -f", r.stdout, "NodeStarted", "nap", "last", "RunFinished")
	mustCode(t, p.wait(t), 0)
	// Following a finished run prints its log and exits.
	r = e.cli("logs", "s1", "--follow", "--format", "json")
	mustCode(t, r, 0)
	mustContain(t, "logs -f json", r.stdout, `"kind":"RunFinished"`)
}

func TestInspectTreeOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCode(t, e.cli("run", e.write("chain.smw", strings.Replace(retryChain, "step a", "step z", 1)), "--input", "dir="+e.dir, "--run-id", "r1"), 0)
	r := e.cli("inspect", "r1")
	mustCode(t, r, 0)
	var ids []string
	table := r.stdout[strings.Index(r.stdout, "NODE"):]
	for _, line := range strings.Split(strings.TrimSpace(table), "\n")[1:] {
		trimmed := strings.TrimLeft(line, " ")
		ids = append(ids, line[:len(line)-len(trimmed)]+strings.Fields(trimmed)[0])
	}
	if got, want := strings.Join(ids, "|"), "parallel:z|  z|  b|c"; got != want {
		t.Errorf("nodes not in source order with the parallel's children indented: %q, want %q\n%s", got, want, r.stdout)
	}
	in := e.inspect("r1")
	var order []string
	for _, n := range in.Nodes {
		order = append(order, n.NodeID)
	}
	if got := strings.Join(order, " "); got != "parallel:z z b c" {
		t.Errorf("inspect json node order %q, want source order", got)
	}
}

// TestRunIDsAndStoreMessages: run ids a person chooses are validated;
// "no run" names the store; ps shows child runs' parents, live elapsed
// times, and says when --limit cut the list.
func TestRunIDsAndStoreMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("gate.smw", gateFail)
	for _, id := range []string{"a.b", "has space", "x/y", strings.Repeat("x", 101), "é"} {
		r := e.cli("run", f, "--run-id", id)
		mustCode(t, r, 2)
		mustContain(t, "run --run-id "+id, r.stderr, "--run-id", "letters, digits")
	}
	mustCode(t, e.cli("run", f, "--run-id", "ok_id-1"), 3)
	r := e.cli("inspect", "nope")
	mustCode(t, r, 2)
	mustContain(t, "inspect nope", r.stderr, `no run "nope" in the store `+e.db)

	c := e.write("call.smw", `workflow child {
  approval gate { title = "Child?" }
}
workflow parent {
  step c { call child { } }
}
`)
	mustCode(t, e.cli("run", c, "--workflow", "parent", "--run-id", "par"), 3)
	r = e.cli("ps")
	mustCode(t, r, 0)
	mustContain(t, "ps", r.stdout, "PARENT", "par.c", "ELAPSED")
	var childLine string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "par.c ") {
			childLine = l
		}
	}
	if !strings.Contains(childLine, " par ") {
		t.Errorf("ps does not show the parent of par.c:\n%s", r.stdout)
	}
	r = e.cli("ps", "--format", "json")
	var runs []struct {
		RunID        string  `json:"run_id"`
		Parent       *string `json:"parent_run_id"`
		ElapsedMS    *int64  `json:"elapsed_ms"`
		WaitingSince *string `json:"waiting_since"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil {
		t.Fatal(err)
	}
	for _, run := range runs {
		if run.ElapsedMS == nil || *run.ElapsedMS < 0 || run.WaitingSince == nil {
			t.Errorf("ps --format json: %s has no elapsed time or waiting_since: %+v", run.RunID, run)
		}
	}
	r = e.cli("ps", "--limit", "1")
	mustCode(t, r, 0)
	mustContain(t, "ps --limit 1", r.stderr, "showing the newest 1 runs")
	r = e.cli("ps", "--limit", "10")
	if strings.Contains(r.stderr, "showing the newest") {
		t.Errorf("ps said it truncated a list it did not:\n%s", r.stderr)
	}
}

// TestInspectPagesLongRuns: inspect shows the first and last --nodes
// instances of a long loop, in iteration order, with the count left out;
// --all shows every one.
func TestInspectPagesLongRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCode(t, e.cli("run", e.write("long.smw", `workflow long {
  loop L {
    until = iteration >= 29
    max_iterations = 100
    step s {
      value = iteration
    }
  }
  output = s
}
`), "--run-id", "long"), 0)
	r := e.cli("inspect", "long", "--nodes", "3")
	mustCode(t, r, 0)
	table := r.stdout[strings.Index(r.stdout, "NODE"):]
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(table), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(line, "(") {
			ids = append(ids, f[0])
		}
	}
	if got, want := strings.Join(ids, " "), "L s[L#0] s[L#1]#1 … s[L#27]#27 s[L#28]#28 s[L#29]#29"; got != want {
		t.Errorf("inspect --nodes 3: %q, want %q\n%s", got, want, r.stdout)
	}
	mustContain(t, "inspect --nodes 3", r.stdout, "25 more", "the first 3 and the last 3 of 31 node instances", "--all")
	r = e.cli("inspect", "long", "--all")
	mustCode(t, r, 0)
	if strings.Contains(r.stdout, "more") || !strings.Contains(r.stdout, "s[L#15]#15") {
		t.Errorf("inspect --all left nodes out:\n%s", r.stdout)
	}
	r = e.cli("inspect", "long", "--format", "json", "--nodes", "2")
	mustCode(t, r, 0)
	var in struct {
		Nodes        []any `json:"nodes"`
		NodeCount    int   `json:"node_count"`
		NodesOmitted int   `json:"nodes_omitted"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &in); err != nil || len(in.Nodes) != 4 || in.NodeCount != 31 || in.NodesOmitted != 27 {
		t.Errorf("inspect --format json --nodes 2: %d nodes, count %d, omitted %d, %v", len(in.Nodes), in.NodeCount, in.NodesOmitted, err)
	}
}

// TestLogsInPages: a log longer than one page of reads (logsPage) comes
// out whole, each event once and in order, as text and as NDJSON.
func TestLogsInPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("long.smw", `workflow long {
  loop L {
    max_iterations = 700
    step s { value = iteration }
  }
}
`)
	mustCode(t, e.cli("run", f, "--run-id", "l1"), 0)
	r := e.cli("logs", "l1", "--format", "json")
	mustCode(t, r, 0)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) < 2500 {
		t.Fatalf("%d events, want more than one page of 2000 (a 700-iteration loop)", len(lines))
	}
	var last int64
	for i, l := range lines {
		var ev struct{ Seq int64 }
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, l)
		}
		if ev.Seq <= last {
			t.Fatalf("line %d: seq %d after %d", i, ev.Seq, last)
		}
		last = ev.Seq
	}
	text := e.cli("logs", "l1")
	mustCode(t, text, 0)
	if n := strings.Count(text.stdout, "\n"); n != len(lines) {
		t.Errorf("%d text lines, %d NDJSON events", n, len(lines))
	}
	if !strings.HasSuffix(text.stdout, "RunFinished        status=\"finished\"\n") {
		t.Errorf("the text log does not end with the run's end:\n%s", text.stdout[max(0, len(text.stdout)-300):])
	}
}
