package checker

import (
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/parser"
)

const infoSrc = `type Analysis { summary: string, risk: "low" | "high" }
agent reviewer { cli = "claude", model = "sonnet" }
fragment shard(path: string) {
  step read { run = "git diff -- ${path}" }
}
workflow child {
  input { env: string }
  step deploy { value = { url: "https://" + input.env } }
}
workflow main {
  input { repo: string, n: int = 3 }
  step analyze {
    output: Analysis
    agent = reviewer
    prompt = "Review ${input.repo}"
    timeout = "2m"
    retry { attempts = 3, backoff = "exponential", delay = "1s" }
  }
  parallel {
    max_concurrency = 2
    use shard("a") as api
    step count { value = len(analyze.summary) + input.n }
  }
  step ship {
    needs = [api.read]
    call child { input = { env: analyze.risk } }
  }
  for f in analyze.summary == "" ? [] : [1, 2] {
    step sq { value = f * index }
  }
  output = { url: ship.url, squares: sq, read: api.read.stdout }
}
`

// stmtIDs indexes the workflow's statements by id.
func stmtIDs(body *ast.Body, out map[string]ast.Stmt) {
	for _, s := range body.Nodes {
		switch s := s.(type) {
		case *ast.StepStmt:
			out[s.ID.Name] = s
		case *ast.ParallelStmt:
			stmtIDs(s.Body, out)
		case *ast.ForStmt:
			stmtIDs(s.Body, out)
		case *ast.UseStmt:
			out[s.Prefix.Name] = s
		}
	}
}

func TestInfo(t *testing.T) {
	t.Parallel()
	f, ds := parser.Parse("in.smw", []byte(infoSrc))
	if ds.HasErrors() {
		t.Fatal(ds.Error())
	}
	info, ds := Check([]*ast.File{f}, &Config{Actions: testSpecs()})
	if len(ds) > 0 {
		t.Fatal(ds.Error())
	}
	if len(info.Workflows) != 2 {
		t.Fatalf("workflows: %d", len(info.Workflows))
	}
	main := info.Workflows[1]
	ids := map[string]ast.Stmt{}
	stmtIDs(main.Body, ids)

	outputs := map[string]string{}
	actions := map[string]string{}
	for id, s := range ids {
		if t := info.Outputs[s]; t != nil {
			outputs[id] = t.String()
		}
		if st, ok := s.(*ast.StepStmt); ok {
			actions[id] = info.Actions[st]
		}
	}
	if diff := cmp.Diff(map[string]string{
		"analyze": "Analysis",
		"count":   "int",
		"ship":    "{ url: string }",
		"sq":      "int",
	}, outputs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"analyze": "agent", "count": "compute", "ship": "call", "sq": "compute"}, actions); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if got := info.WorkflowOutputs[main].String(); got != "{ url: string, squares: [int], read: string }" {
		t.Errorf("workflow output: %s", got)
	}
	if got := info.Inputs[main].String(); got != "{ repo: string, n: int }" {
		t.Errorf("input: %s", got)
	}
	if f := info.Inputs[main].Field("n"); f == nil || !f.HasDefault || f.Default != int64(3) {
		t.Errorf("default of n: %+v", f)
	}
	analyze := ids["analyze"].(*ast.StepStmt)
	if info.StepAgents[analyze] != info.Agents["reviewer"] {
		t.Error("StepAgents[analyze] is not reviewer")
	}
	ship := ids["ship"].(*ast.StepStmt)
	if info.Calls[ship] != info.Workflows[0] {
		t.Error("Calls[ship] is not child")
	}
	use := ids["api"].(*ast.UseStmt)
	if info.Uses[use] != info.Fragments["shard"] {
		t.Error("Uses[api] is not shard")
	}
	if n := info.Needs[ship]; len(n) != 1 || n[0] != info.Fragments["shard"].Body.Nodes[0] {
		t.Errorf("Needs[ship] = %v", n)
	}
	consts := map[string]any{}
	for a, v := range info.Consts {
		consts[a.Name.Name] = v
	}
	if diff := cmp.Diff(map[string]any{
		"timeout": 2 * time.Minute, "attempts": int64(3), "backoff": "exponential", "delay": time.Second,
		"max_concurrency": int64(2), "needs": []string{"api.read"}, "cli": "claude", "model": "sonnet",
	}, consts); diff != "" {
		t.Errorf("consts (-want +got):\n%s", diff)
	}
	// Refs of the count step's value and of the workflow output.
	var refs []string
	for e, rs := range info.Refs {
		if e.Src == "len(analyze.summary) + input.n" || e.Src == "{ url: ship.url, squares: sq, read: api.read.stdout }" {
			for _, r := range rs {
				refs = append(refs, r.Name)
			}
		}
	}
	sort.Strings(refs)
	if diff := cmp.Diff([]string{"analyze", "api.read", "input", "ship", "sq"}, refs); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	for e, typ := range info.ExprTypes {
		if e.Src == "f * index" && typ.String() != "int" {
			t.Errorf("type of f * index: %s", typ)
		}
	}
}

// TestInfoSecrets: every secret("NAME") of the program is listed, sorted
// and once, whatever expression holds it (actions, agents, templates).
func TestInfoSecrets(t *testing.T) {
	src := `agent local {
  openai {
    model = "m"
    api_key = secret("LLM_KEY")
  }
}
workflow w {
  step a { run = "x ${secret("B_TOKEN")} ${secret("A_TOKEN")}" }
  step b { value = secret("B_TOKEN") + env("NOT_SECRET") }
}`
	f, ds := parser.Parse("in.smw", []byte(src))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	info, ds := Check([]*ast.File{f}, &Config{Actions: testSpecs()})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if diff := cmp.Diff([]string{"A_TOKEN", "B_TOKEN", "LLM_KEY"}, info.Secrets); diff != "" {
		t.Errorf("Secrets (-want +got):\n%s", diff)
	}
}

// TestInfoTrees: with KeepTrees, every run-time expression that checked
// (interpolations included, templates themselves not) has its expr-lang
// tree, of its own source, handed out once; without, none is kept.
func TestInfoTrees(t *testing.T) {
	t.Parallel()
	f, ds := parser.Parse("in.smw", []byte(infoSrc))
	if ds.HasErrors() {
		t.Fatal(ds.Error())
	}
	info, ds := Check([]*ast.File{f}, &Config{Actions: testSpecs(), KeepTrees: true})
	if len(ds) > 0 {
		t.Fatal(ds.Error())
	}
	n := 0
	for e := range info.ExprTypes {
		tree := info.TakeTree(e)
		if e.Template != nil {
			if tree != nil {
				t.Errorf("template %s has a tree", e.Src)
			}
			continue
		}
		if tree == nil || tree.Source.String() != e.Src {
			t.Errorf("%s: tree %v", e.Src, tree)
			continue
		}
		n++
		if info.TakeTree(e) != nil {
			t.Errorf("%s: tree handed out twice", e.Src)
		}
	}
	if n < 5 {
		t.Errorf("only %d trees", n)
	}
	info, _ = Check([]*ast.File{f}, &Config{Actions: testSpecs()})
	for e := range info.ExprTypes {
		if info.TakeTree(e) != nil {
			t.Errorf("%s: a tree kept without KeepTrees", e.Src)
		}
	}
}
