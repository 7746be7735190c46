package cli_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// twoWorkflows declares two workflows, so run and graph need --workflow.
const twoWorkflows = `workflow first {
  step a { value = 1 }
}

workflow second {
  step b { value = 2 }
}
`

func TestCompileExample(t *testing.T) {
	t.Parallel()
	hello := filepath.Join(examplesDir(t), "hello.smw")
	r := runMain([]string{"compile", hello})
	mustCode(t, r, 0)
	mustContain(t, "stdout", r.stdout, "workflow hello", "step greet", "step count", "deps greet", "action shell")

	r = runMain([]string{"compile", "--format", "json", hello})
	mustCode(t, r, 0)
	var prog map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &prog); err != nil {
		t.Fatalf("compile --format json is not JSON: %v\n%s", err, r.stdout)
	}
	found := false
	for k := range prog {
		found = found || strings.EqualFold(k, "workflows")
	}
	if !found || !strings.Contains(r.stdout, `"greet"`) {
		t.Errorf("no workflows in %s", r.stdout)
	}
}

func TestCompileCheckErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.cli("compile", e.write("bad.smw", threeErrors))
	mustCode(t, r, 1)
	mustContain(t, "stderr", r.stderr, "sumary")
	if r.stdout != "" {
		t.Errorf("compile printed IR for a file with errors: %s", r.stdout)
	}
}

func TestGraph(t *testing.T) {
	t.Parallel()
	hello := filepath.Join(examplesDir(t), "hello.smw")
	r := runMain([]string{"graph", hello, "--format", "mermaid"})
	mustCode(t, r, 0)
	mustContain(t, "mermaid", r.stdout, "flowchart", "greet", "count", "-->")

	r = runMain([]string{"graph", hello, "--format", "dot"})
	mustCode(t, r, 0)
	mustContain(t, "dot", r.stdout, "digraph", "greet", "count", "->")

	r = runMain([]string{"graph", hello, "--format", "svg"})
	mustCode(t, r, 0)
	mustContain(t, "svg", r.stdout, "<svg", `data-node="greet"`, `data-node="count"`, `data-from="greet" data-to="count"`)

	r = runMain([]string{"graph", hello, "--format", "png"})
	mustCode(t, r, 2)
	mustContain(t, "stderr", r.stderr, "mermaid, dot or svg")
}

func TestSeveralWorkflowsNeedAName(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("two.smw", twoWorkflows)
	for _, args := range [][]string{{"graph", f}, {"run", f}} {
		r := e.cli(args...)
		mustCode(t, r, 2)
		mustContain(t, "stderr", r.stderr, "--workflow", "first", "second")
	}
	r := e.cli("graph", f, "--workflow", "second")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "b") || strings.Contains(r.stdout, `"a`) {
		t.Errorf("graph --workflow second drew the wrong workflow:\n%s", r.stdout)
	}
	r = e.cli("graph", f, "--workflow", "third")
	mustCode(t, r, 2)
	mustContain(t, "stderr", r.stderr, `"third"`, "first, second")
	r = e.cli("run", f, "--workflow", "second", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); string(out.Output) != "2" {
		t.Errorf("output %s, want 2", out.Output)
	}
}
