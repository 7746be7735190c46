package agentreal

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var kinds = []string{"claude", "codex", "gemini"}

// extraArgs are the agent args each CLI needs in a scratch directory, so
// that every test passes some through `args`.
var extraArgs = map[string]string{
	"claude": `args = ["--strict-mcp-config"]`,
	"codex":  `args = ["--skip-git-repo-check"]`,
	"gemini": `args = ["--skip-trust"]`,
}

// TestRealText: a plain reply, a prompt starting with "-", the session id
// in the step's result, tokens in the AgentReply event and in inspect,
// activity events.
func TestRealText(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, kind, func(int, request) turn { return turn{text: "Hello from the stub."} })
			res := run(t, s.agent("a", extraArgs[kind])+`
workflow w {
  step ask {
    agent  = a
    prompt = "-- a prompt that starts with a dash: say hello."
  }
  output = { text: ask.text, session: ask.session_id }
}
`)
			if res.Status != "finished" {
				t.Fatalf("run %s: %v\n%s", res.Status, res.Error, res.stderr)
			}
			if res.Output["text"] != "Hello from the stub." {
				t.Errorf("text = %q", res.Output["text"])
			}
			if sess, _ := res.Output["session"].(string); len(sess) < 8 {
				t.Errorf("session_id = %q, want the CLI's session id", sess)
			}
			if reqs := s.stub.modelRequests(); len(reqs) == 0 || !strings.Contains(reqs[0].Body, "starts with a dash") {
				t.Errorf("the stub did not get the prompt: %d requests", len(reqs))
			}
			replies := res.kinds("AgentReply")
			if len(replies) != 1 {
				t.Fatalf("AgentReply events: %v", replies)
			}
			r := replies[0]
			if in, _ := r["input_tokens"].(float64); in < 100 {
				t.Errorf("input_tokens = %v, want the stub's 100 or more", r["input_tokens"])
			}
			if out, _ := r["output_tokens"].(float64); out < 20 {
				t.Errorf("output_tokens = %v, want the stub's 20 or more", r["output_tokens"])
			}
			if r["session_id"] != res.Output["session"] {
				t.Errorf("AgentReply session %v, result %v", r["session_id"], res.Output["session"])
			}
			if kind == "claude" {
				if c, _ := r["cost_usd"].(float64); c <= 0 {
					t.Errorf("claude cost_usd = %v", r["cost_usd"])
				}
			}
			// What inspect shows is the reply's accounting.
			in, _ := r["input_tokens"].(float64)
			out, _ := r["output_tokens"].(float64)
			cost, _ := r["cost_usd"].(float64)
			if res.usage.Tokens != in+out || res.usage.CostUSD != cost {
				t.Errorf("inspect usage = %+v, want %v tokens, $%v", res.usage, in+out, cost)
			}
			if len(res.kinds("AgentActivity")) == 0 {
				t.Errorf("no AgentActivity event from the stream")
			}
		})
	}
}

// TestRealErrors: the CLI's own error becomes error.kind; auth errors are
// not retried, server errors are.
func TestRealErrors(t *testing.T) {
	type mode struct {
		name      string
		turn      turn
		retry     string
		wantKind  map[string]string // by CLI; "" = any
		inMsg     string
		wantModel int // model requests the stub gets (0: do not check)
	}
	modes := []mode{
		{name: "auth", turn: turn{status: 401}, retry: "retry { attempts = 3 }",
			wantKind: map[string]string{"claude": "auth", "codex": "auth", "gemini": "auth"}, wantModel: 1},
		{name: "server error", turn: turn{status: 500}, retry: "retry { attempts = 2 }",
			wantKind: map[string]string{"claude": "server_error", "codex": "server_error", "gemini": "server_error"}},
		{name: "not JSON", turn: turn{raw: "<html>gateway hiccup</html>"},
			wantKind: map[string]string{}},
		{name: "slow", turn: turn{delay: time.Minute}, retry: `timeout = "4s"`,
			wantKind: map[string]string{"claude": "timeout", "codex": "timeout", "gemini": "timeout"}, inMsg: "timed out after 4s"},
	}
	for _, kind := range kinds {
		for _, m := range modes {
			t.Run(kind+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				s := newSetup(t, kind, func(int, request) turn { return m.turn })
				res := run(t, failingWorkflow(s.agent("a", extraArgs[kind]), m.retry))
				caught, _ := res.Output["caught"].(map[string]any)
				if res.Status != "finished" || caught == nil {
					t.Fatalf("run %s, output %v, error %v\n%s", res.Status, res.Output, res.Error, res.stderr)
				}
				t.Logf("error.kind %v: %v", caught["kind"], caught["message"])
				if want := m.wantKind[kind]; want != "" && caught["kind"] != want {
					t.Errorf("error.kind = %v, want %s (message %v)", caught["kind"], want, caught["message"])
				}
				if msg, _ := caught["message"].(string); !strings.Contains(msg, m.inMsg) || strings.Contains(msg, "sk-stub-key") {
					t.Errorf("error.message = %q, want it to contain %q and no key", msg, m.inMsg)
				}
				if m.wantModel > 0 {
					if n := len(s.stub.modelRequests()); n != m.wantModel {
						t.Errorf("%d model requests, want %d (an auth error is not retried)", n, m.wantModel)
					}
				}
				if m.name == "server error" {
					if n := len(res.kinds("AgentPrompt")); n != 2 {
						t.Errorf("%d attempts, want 2 (a server error is retried)", n)
					}
				}
			})
		}
	}
}

// TestRealTypedReask: a declared output goes to the CLI's own schema
// option (claude --json-schema, codex --output-schema); a reply that does
// not validate is asked again in the same session, with the error.
func TestRealTypedReask(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t, kind, func(n int, r request) turn {
				fixed := strings.Contains(r.Body, "previous reply was rejected")
				switch {
				case kind == "claude" && r.ToolResult:
					return turn{text: "Done."}
				case kind == "claude" && fixed && strings.Contains(r.Body, `"StructuredOutput"`):
					return turn{tool: "StructuredOutput", input: map[string]any{"greeting": "hi", "count": 2}}
				case fixed:
					return turn{text: `{"greeting": "hi", "count": 2}`}
				}
				return turn{text: `{"greeting": "hi", "count": "many"}`}
			})
			res := run(t, s.agent("a", extraArgs[kind])+`
type Greeting {
  greeting: string
  count: int
  session_id: string
}
workflow w {
  step ask {
    output: Greeting
    agent  = a
    prompt = "Greet me, as JSON."
  }
  output = ask
}
`)
			if res.Status != "finished" {
				t.Fatalf("run %s: %v\n%s", res.Status, res.Error, res.stderr)
			}
			if res.Output["greeting"] != "hi" || res.Output["count"] != float64(2) {
				t.Errorf("output = %v", res.Output)
			}
			prompts := res.kinds("AgentPrompt")
			if len(prompts) != 2 {
				t.Fatalf("%d attempts, want 2", len(prompts))
			}
			replies := res.kinds("AgentReply")
			first, _ := replies[0]["session_id"].(string)
			if first == "" || prompts[1]["resume"] != first || res.Output["session_id"] != first {
				t.Errorf("the re-ask did not continue session %q: resume %v, result session %v", first, prompts[1]["resume"], res.Output["session_id"])
			}
			reqs := s.stub.modelRequests()
			last := reqs[len(reqs)-1]
			if !strings.Contains(last.Body, `\"count\": \"many\"`) && !strings.Contains(last.Body, `"count": "many"`) {
				t.Errorf("the re-ask's request does not carry the earlier reply (same session); it has %d messages", last.Messages)
			}
			switch kind {
			case "claude":
				if !strings.Contains(reqs[0].Body, `"StructuredOutput"`) {
					t.Errorf("claude was not given the schema (--json-schema): no StructuredOutput tool")
				}
			case "codex":
				if !strings.Contains(reqs[0].Body, `"json_schema"`) || !strings.Contains(reqs[0].Body, `"strict":true`) {
					t.Errorf("codex did not send the output schema: %.300s", reqs[0].Body)
				}
			}
		})
	}
}

// TestRealClaudeToolPermission: a tool call that writes a file is allowed
// with permission_mode = "accept_edits" and denied (error.kind
// permission_denied) with the default mode.
func TestRealClaudeToolPermission(t *testing.T) {
	for _, tc := range []struct {
		mode     string
		setting  string
		wantFile bool
	}{
		{"accept_edits", `permission_mode = "accept_edits"`, true},
		{"default", ``, false},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			var target string
			s := newSetup(t, "claude", func(n int, r request) turn {
				if r.ToolResult {
					return turn{text: "I wrote the file."}
				}
				return turn{tool: "Write", input: map[string]any{"file_path": target, "content": "written by the agent\n"}}
			})
			target = filepath.Join(s.work, "hello.txt")
			res := run(t, failingWorkflow(s.agent("a", tc.setting), ""))
			_, err := os.Stat(target)
			if (err == nil) != tc.wantFile {
				t.Errorf("file written: %v, want %v", err == nil, tc.wantFile)
			}
			caught, _ := res.Output["caught"].(map[string]any)
			if tc.wantFile {
				if caught != nil || res.Output["text"] != "I wrote the file." {
					t.Errorf("output %v", res.Output)
				}
				if acts := res.kinds("AgentActivity"); !strings.Contains(js(acts), `"tool":"Write"`) {
					t.Errorf("no tool_call activity for Write: %v", acts)
				}
				return
			}
			if caught == nil || caught["kind"] != "permission_denied" || !strings.Contains(caught["message"].(string), "Write") {
				t.Errorf("caught = %v, want kind permission_denied naming Write", caught)
			}
		})
	}
}

// TestRealToolPermission: codex and gemini, asked to write a file (codex
// exec_command, gemini write_file), are held back by their default
// sandbox / approval mode and allowed with permission_mode =
// "accept_edits" (codex workspace-write sandbox, gemini auto_edit).
func TestRealToolPermission(t *testing.T) {
	for _, kind := range []string{"codex", "gemini"} {
		for _, tc := range []struct {
			mode     string
			setting  string
			wantFile bool
		}{
			{"default", "", false},
			{"accept_edits", `permission_mode = "accept_edits"`, true},
		} {
			t.Run(kind+"/"+tc.mode, func(t *testing.T) {
				t.Parallel()
				var target string
				s := newSetup(t, kind, func(n int, r request) turn {
					switch {
					case r.ToolResult:
						return turn{text: "I wrote the file."}
					case kind == "codex":
						// A moment's sleep first: codex-cli 0.171 drops the
						// items of a command that ends at once now and then
						// (1 run in 8 here).
						return turn{tool: "exec_command", input: map[string]any{"cmd": "sleep 0.3; printf hi > hello.txt"}}
					}
					return turn{tool: "write_file", input: map[string]any{"file_path": target, "content": "hi\n"}}
				})
				target = filepath.Join(s.work, "hello.txt")
				res := run(t, failingWorkflow(s.agent("a", extraArgs[kind]+"\n  "+tc.setting), ""))
				if _, err := os.Stat(target); (err == nil) != tc.wantFile {
					t.Errorf("file written: %v, want %v (output %v)", err == nil, tc.wantFile, res.Output)
				}
				acts := js(res.kinds("AgentActivity"))
				if !strings.Contains(acts, `"type":"tool_call"`) {
					t.Errorf("no tool_call activity: %s", acts)
				}
				caught, _ := res.Output["caught"].(map[string]any)
				switch {
				case tc.wantFile:
					if caught != nil {
						t.Errorf("the step failed: %v", caught)
					}
				case kind == "codex":
					// The read-only sandbox stops the command: codex reports
					// it as a command_execution item that failed, with the
					// shell's error.
					if !strings.Contains(acts, `"status":"failed"`) || !strings.Contains(acts, "Read-only file system") {
						t.Errorf("no activity shows the refused command: %s", acts)
					}
				default:
					// gemini withholds write_file in its default approval
					// mode; the call fails as tool_not_registered.
					if caught == nil || caught["kind"] != "permission_denied" || !strings.Contains(fmt.Sprint(caught["message"]), "write_file") {
						t.Errorf("caught = %v, want kind permission_denied naming write_file", caught)
					}
					if !strings.Contains(acts, `"type":"tool_result"`) || !strings.Contains(acts, `"error":"tool_not_registered"`) {
						t.Errorf("no activity shows the refused call: %s", acts)
					}
				}
			})
		}
	}
}

// TestRealHeartbeatFromStream: an agent that works for longer than the
// step's heartbeat_timeout, but prints an event every few seconds (one per
// tool call), is not killed: its stream heartbeats the attempt.
func TestRealHeartbeatFromStream(t *testing.T) {
	for _, kind := range []string{"claude", "codex"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			var notes string
			s := newSetup(t, kind, func(n int, r request) turn {
				const delay = 2500 * time.Millisecond
				if n > 4 {
					return turn{text: "Read it four times.", delay: delay}
				}
				if kind == "codex" {
					return turn{tool: "exec_command", input: map[string]any{"cmd": "cat notes.txt"}, delay: delay}
				}
				return turn{tool: "Read", input: map[string]any{"file_path": notes}, delay: delay}
			})
			notes = filepath.Join(s.work, "notes.txt")
			write(t, notes, "some notes\n")
			res := run(t, s.agent("a", extraArgs[kind])+`
workflow w {
  step ask {
    agent             = a
    prompt            = "Read notes.txt four times."
    heartbeat_timeout = "7s"
  }
  output = { text: ask.text }
}
`)
			if res.Status != "finished" {
				t.Fatalf("run %s: %v (the stream did not keep the attempt alive)", res.Status, res.Error)
			}
			if n := len(s.stub.modelRequests()); n < 5 {
				t.Errorf("%d model requests, want 5", n)
			}
			if acts := res.kinds("AgentActivity"); len(acts) < 4 {
				t.Errorf("%d AgentActivity events, want the tool calls: %v", len(acts), acts)
			}
		})
	}
}

// TestRealClaudeLimits: max_turns and max_budget_usd reach claude, and its
// stopping at them is error.kind max_turns / budget, not a success.
func TestRealClaudeLimits(t *testing.T) {
	for _, tc := range []struct{ name, setting, kind string }{
		{"max_turns", "max_turns = 1", "max_turns"},
		{"max_budget_usd", "max_budget_usd = 0.0001", "budget"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var notes string
			s := newSetup(t, "claude", func(n int, r request) turn {
				if n > 3 {
					return turn{text: "done"}
				}
				return turn{tool: "Read", input: map[string]any{"file_path": notes}}
			})
			notes = filepath.Join(s.work, "notes.txt")
			write(t, notes, "some notes\n")
			res := run(t, failingWorkflow(s.agent("a", tc.setting), "retry { attempts = 3 }"))
			caught, _ := res.Output["caught"].(map[string]any)
			if caught == nil || caught["kind"] != tc.kind {
				t.Fatalf("caught = %v, want kind %s (output %v)", caught, tc.kind, res.Output)
			}
			if n := len(res.kinds("AgentPrompt")); n != 1 {
				t.Errorf("%d attempts, want 1 (%s is not retried)", n, tc.kind)
			}
			t.Logf("%v", caught["message"])
		})
	}
}

// TestRealClaudeBudget: a run budget stops the run on the tokens the real
// claude reports; the step after is not started.
func TestRealClaudeBudget(t *testing.T) {
	s := newSetup(t, "claude", func(int, request) turn { return turn{text: "Hello from the stub."} })
	res := run(t, s.agent("a", extraArgs["claude"])+`
workflow w {
  budget { tokens = 50 }
  step one {
    agent  = a
    prompt = "Say hello."
  }
  step two {
    agent  = a
    prompt = "Say hello again."
  }
}
`)
	if res.Status != "failed" || !strings.Contains(fmt.Sprint(res.Error), "over budget { tokens = 50 }") {
		t.Fatalf("run %s: %v, want failed over budget\n%s", res.Status, res.Error, res.stderr)
	}
	if n := len(res.kinds("AgentReply")); n != 1 {
		t.Errorf("%d agent replies, want 1 (two must not start)", n)
	}
	if res.usage.Tokens <= 50 {
		t.Errorf("usage %+v, want over 50 tokens", res.usage)
	}
}
