package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// standInClaude writes an executable stand-in `claude` that answers in
// claude's stream-json form with the given results, one per call (the
// last one again after), each reporting tokens and a cost.
func (e *env) standInClaude(replies ...string) string {
	e.t.Helper()
	if err := os.MkdirAll(e.path("bin"), 0o755); err != nil {
		e.t.Fatal(err)
	}
	var cases strings.Builder
	for i, r := range replies {
		fmt.Fprintf(&cases, "%d) r='%s' ;;\n", i+1, r)
	}
	p := e.write("bin/claude", fmt.Sprintf(`#!/bin/sh
n=$(cat %[1]s/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > %[1]s/count
cat > /dev/null
case $n in
%[2]s*) r='%[3]s' ;;
esac
printf '{"type":"system","subtype":"init","session_id":"sess-%%s"}\n' "$n"
printf '{"type":"result","subtype":"success","is_error":false,"result":"%%s","session_id":"sess-%%s","num_turns":2,"total_cost_usd":0.25,"usage":{"input_tokens":100,"cache_read_input_tokens":1000,"cache_creation_input_tokens":50,"output_tokens":20}}\n' "$r" "$n"
`, e.dir, cases.String(), replies[len(replies)-1]))
	if err := os.Chmod(p, 0o755); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// An agent step's tokens and cost, per attempt, per step and for the
// run, as inspect (text and JSON) and ps (text and JSON) show them.
func TestAgentUsageShown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	claude := e.standInClaude(`{\"risk\": \"severe\"}`, `{\"risk\": \"low\"}`, `plain words`)
	src := e.write("usage.smw", fmt.Sprintf(`agent reviewer { cli = %q }
workflow usage {
  step analyze {
    output { risk: "low" | "high" }
    agent = reviewer
    prompt = "Review."
  }
  step note {
    agent = reviewer
    prompt = "Say something."
  }
  step plain { run = "echo no agent" }
}
`, claude))
	mustCode(t, e.cli("run", src, "--run-id", "u1"), 0)

	// One reply: 100+1000+50 input tokens (cached ones included), 20 out.
	const perReply = 1170
	r := e.cli("inspect", "u1", "--format", "json")
	mustCode(t, r, 0)
	type usage struct {
		Tokens      int64   `json:"tokens"`
		Input       int64   `json:"input_tokens"`
		Output      int64   `json:"output_tokens"`
		CacheRead   int64   `json:"cache_read_tokens"`
		CacheCreate int64   `json:"cache_creation_tokens"`
		Cost        float64 `json:"cost_usd"`
		Attempts    []struct {
			Attempt   int    `json:"attempt"`
			Agent     string `json:"agent"`
			SessionID string `json:"session_id"`
			Turns     int    `json:"turns"`
			Tokens    int64  `json:"tokens"`
		} `json:"attempts"`
	}
	var in struct {
		Usage usage `json:"usage"`
		Nodes []struct {
			NodeID string `json:"node_id"`
			Usage  *usage `json:"usage"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &in); err != nil {
		t.Fatalf("inspect: %v\n%s", err, r.stdout)
	}
	if u := in.Usage; u.Tokens != 3*perReply || u.Input != 3*1150 || u.Output != 60 || u.CacheRead != 3000 || u.CacheCreate != 150 || u.Cost != 0.75 {
		t.Errorf("run usage = %+v, want 3 replies of %d tokens, $0.25 each", u, perReply)
	}
	nodes := map[string]*usage{}
	for _, n := range in.Nodes {
		nodes[n.NodeID] = n.Usage
	}
	if u := nodes["analyze"]; u == nil || u.Tokens != 2*perReply || u.Cost != 0.5 || len(u.Attempts) != 2 ||
		u.Attempts[0].Attempt != 1 || u.Attempts[1].Attempt != 2 || u.Attempts[1].SessionID != "sess-2" ||
		u.Attempts[0].Agent != "reviewer" || u.Attempts[0].Turns != 2 || u.Attempts[0].Tokens != perReply {
		t.Errorf("analyze usage = %+v, want two attempts of %d tokens", u, perReply)
	}
	if u := nodes["note"]; u == nil || u.Tokens != perReply || len(u.Attempts) != 1 {
		t.Errorf("note usage = %+v", u)
	}
	if u := nodes["plain"]; u != nil {
		t.Errorf("a shell step has usage %+v", u)
	}

	r = e.cli("inspect", "u1")
	mustCode(t, r, 0)
	mustContain(t, "inspect", r.stdout, "agents    3510 tokens (3450 in, 60 out, 3150 cached), $0.75",
		"AGENT STEP", "COST", "sess-3")
	var rows []string
	_, table, _ := strings.Cut(r.stdout, "AGENT STEP")
	for _, l := range strings.Split(table, "\n") {
		if f := strings.Fields(l); len(f) > 0 && (f[0] == "analyze" || f[0] == "note" || f[0] == "(run)") {
			rows = append(rows, strings.Join(f, " "))
		}
	}
	want := []string{
		"analyze 1 reviewer 1150 1050 20 $0.25 sess-1",
		"analyze 2 reviewer 1150 1050 20 $0.25 sess-2",
		"analyze all 2300 2100 40 $0.50 -",
		"note 1 reviewer 1150 1050 20 $0.25 sess-3",
		"(run) 3450 3150 60 $0.75 -",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("inspect usage rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}

	mustCode(t, e.cli("run", e.write("hello.smw", helloSMW), "--run-id", "h1"), 0)
	r = e.cli("ps", "--format", "json")
	mustCode(t, r, 0)
	var runs []struct {
		RunID  string  `json:"run_id"`
		Tokens int64   `json:"tokens"`
		Cost   float64 `json:"cost_usd"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil {
		t.Fatalf("ps: %v\n%s", err, r.stdout)
	}
	got := map[string]string{}
	for _, run := range runs {
		got[run.RunID] = fmt.Sprintf("%d %.2f", run.Tokens, run.Cost)
	}
	if got["u1"] != "3510 0.75" || got["h1"] != "0 0.00" {
		t.Errorf("ps tokens/cost = %v", got)
	}
	r = e.cli("ps")
	mustCode(t, r, 0)
	mustContain(t, "ps", r.stdout, "TOKENS", "COST")
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "u1 ") && !strings.Contains(l, " 3510 ") || strings.HasPrefix(l, "u1 ") && !strings.Contains(l, "$0.75") {
			t.Errorf("ps row of u1 lacks its tokens and cost: %q", l)
		}
	}
}
