package serve_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// The run detail carries what the run's agents consumed: the run's
// tokens and cost, and each agent step's.
func TestAPIAgentUsage(t *testing.T) {
	c, dir := serveDir(t, nil)
	claude := filepath.Join(dir, "claude")
	script := `#!/bin/sh
cat > /dev/null
printf '{"type":"result","subtype":"success","is_error":false,"result":"fine","session_id":"s1","total_cost_usd":0.125,"usage":{"input_tokens":10,"cache_read_input_tokens":300,"output_tokens":7}}\n'
`
	if err := os.WriteFile(claude, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`agent a { cli = %q }
workflow w {
  step ask {
    agent = a
    prompt = "Hello."
  }
  step after { run = "true" }
}
`, claude)
	if err := os.WriteFile(filepath.Join(dir, "w.smw"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := smithc(t, dir, "run", "w.smw", "--db", "runs.db", "--run-id", "u1"); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	m := c.waitStatus("u1", "finished")
	run := m["run"].(map[string]any)
	if run["tokens"] != 317.0 || run["cost_usd"] != 0.125 {
		t.Errorf("run tokens %v, cost %v; want 317, 0.125", run["tokens"], run["cost_usd"])
	}
	nodes := map[string]map[string]any{}
	for _, n := range m["nodes"].([]any) {
		nodes[n.(map[string]any)["id"].(string)] = n.(map[string]any)
	}
	if tk, _ := nodes["ask"]["tokens"].(map[string]any); tk["input"] != 310.0 || tk["output"] != 7.0 || tk["cache"] != 300.0 || nodes["ask"]["cost_usd"] != 0.125 {
		t.Errorf("ask: tokens %v, cost %v", nodes["ask"]["tokens"], nodes["ask"]["cost_usd"])
	}
	if _, ok := nodes["after"]["tokens"]; ok {
		t.Errorf("a shell step has tokens: %v", nodes["after"])
	}
}
