package stdlib

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/schema"
)

// Stand-ins for the agent CLIs. Each records its arguments (args.txt) and
// prompt (prompt.txt) in its working directory, prints stdout.txt (or
// stdout2.txt once the prompt reports a rejected reply), writes progress
// to stderr, and exits with the code in exit.txt. With a file "slow" it
// starts a child and waits instead, to test cancellation; it writes the
// child's pid by renaming, so a test that sees child.pid can read it.
const standinTail = `
echo "working..." >&2
if [ -f slow ]; then sleep 60 & echo $! > child.pid.new; mv child.pid.new child.pid; wait; fi
if grep -q "previous reply was rejected" prompt.txt && [ -f stdout2.txt ]; then cat stdout2.txt; else cat stdout.txt; fi
exit "$(cat exit.txt 2>/dev/null || echo 0)"
`

var standins = map[string]string{
	"claude": `printf '%s\n' "$@" > args.txt; cat > prompt.txt` + standinTail,
	"codex":  `printf '%s\n' "$@" > args.txt; cat > prompt.txt` + standinTail,
	"gemini": `printf '%s\n' "$@" > args.txt
for a in "$@"; do case "$a" in --prompt=*) printf '%s' "${a#--prompt=}" > prompt.txt;; esac; done` + standinTail,
}

// agentSetup installs the stand-ins in a bin directory and returns a
// Config whose PATH finds them first.
func agentSetup(t *testing.T) Config {
	t.Helper()
	bin := t.TempDir()
	for name, body := range standins {
		writeScript(t, bin, name, body)
	}
	return Config{EnvironFunc: func() []string {
		return []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}
	}}
}

// agentAttempt builds an agent step for agent ag with the prompt template.
func agentAttempt(t *testing.T, ag *ir.Agent, prompt string, output *schema.Type, env map[string]any) (*runtime.Attempt, *recorder) {
	t.Helper()
	step := &ir.Step{Action: "agent", Agent: ag.Name, Args: map[string]*ir.Expr{"prompt": tpl(t, prompt)}}
	a, rec := newAttempt(t, step, env)
	a.Program = &ir.Program{Agents: []*ir.Agent{ag}}
	if output != nil {
		step.DeclaredOutput = true
		a.Node.Output = output
	}
	return a, rec
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAgentCLIs(t *testing.T) {
	t.Parallel()
	cfg := agentSetup(t)
	tests := []struct {
		name      string
		agent     *ir.Agent
		stdout    string
		wantArgs  []string // "" stands for the prompt in gemini's -p
		wantText  string
		wantIn    int64
		wantOut   int64
		wantSess  string
		promptArg bool
	}{
		{
			name:     "claude",
			agent:    &ir.Agent{Name: "rev", CLI: "claude", Model: ex(`"sonnet"`), Args: ex(`["--max-turns", 3]`)},
			stdout:   `{"type":"result","subtype":"success","is_error":false,"duration_ms":12,"num_turns":1,"result":"Looks fine.","session_id":"sess-1","total_cost_usd":0.01,"usage":{"input_tokens":10,"cache_read_input_tokens":5,"cache_creation_input_tokens":1,"output_tokens":3}}`,
			wantArgs: []string{"-p", "--output-format", "stream-json", "--verbose", "--model", "sonnet", "--max-turns", "3"},
			wantText: "Looks fine.", wantIn: 16, wantOut: 3, wantSess: "sess-1",
		},
		{
			name:  "codex",
			agent: &ir.Agent{Name: "cx", CLI: "codex", Model: ex(`"gpt-5"`)},
			stdout: `{"type":"thread.started","thread_id":"th-9"}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"thinking"}}
{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"draft"}}
{"type":"item.completed","item":{"id":"item_2","type":"command_execution","command":"ls"}}
{"type":"item.completed","item":{"id":"item_3","type":"agent_message","text":"Final answer."}}
{"type":"turn.completed","usage":{"input_tokens":100,"cached_input_tokens":50,"output_tokens":20}}
`,
			wantArgs: []string{"exec", "--json", "--model", "gpt-5", "-"},
			wantText: "Final answer.", wantIn: 100, wantOut: 20, wantSess: "th-9",
		},
		{
			name:  "codex, older event format",
			agent: &ir.Agent{Name: "cx", CLI: "codex"},
			stdout: `{"id":"0","msg":{"type":"task_started"}}
{"id":"0","msg":{"type":"agent_message","message":"Old style."}}
{"id":"0","msg":{"type":"token_count","input_tokens":7,"output_tokens":2}}
`,
			wantArgs: []string{"exec", "--json", "-"},
			wantText: "Old style.", wantIn: 7, wantOut: 2,
		},
		{
			name:     "gemini",
			agent:    &ir.Agent{Name: "gm", CLI: "gemini", Model: ex(`"gemini-2.5-pro"`)},
			stdout:   `{"response":"Gemini says hi.","stats":{"models":{"gemini-2.5-pro":{"api":{"totalRequests":1},"tokens":{"prompt":30,"candidates":4,"total":34}},"gemini-2.5-flash":{"tokens":{"prompt":2,"candidates":1}}}}}`,
			wantArgs: []string{"--output-format", "stream-json", "--model", "gemini-2.5-pro", ""},
			wantText: "Gemini says hi.", wantIn: 32, wantOut: 5,
			promptArg: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, rec := agentAttempt(t, tt.agent, "Review ${repo}.\nBe brief.", nil, map[string]any{"repo": "acme/api"})
			writeFiles(t, a.Dir, map[string]string{"stdout.txt": tt.stdout})
			out, err := run(t, cfg, a)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[string]any{"text": tt.wantText, "session_id": tt.wantSess}, out); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			const prompt = "Review acme/api.\nBe brief."
			if got := readFile(t, filepath.Join(a.Dir, "prompt.txt")); got != prompt {
				t.Errorf("the CLI got prompt %q", got)
			}
			wantArgs := tt.wantArgs
			if tt.promptArg {
				wantArgs = append(append([]string{}, wantArgs[:len(wantArgs)-1]...), strings.Split("--prompt="+prompt, "\n")...)
			}
			gotArgs := strings.Split(strings.TrimSuffix(readFile(t, filepath.Join(a.Dir, "args.txt")), "\n"), "\n")
			if diff := cmp.Diff(wantArgs, gotArgs); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
			replies := rec.kinds("AgentReply")
			if len(replies) != 1 {
				t.Fatalf("AgentReply events: %v", replies)
			}
			r := replies[0]
			if r["text"] != tt.wantText || r["input_tokens"] != tt.wantIn || r["output_tokens"] != tt.wantOut || r["session_id"] != tt.wantSess {
				t.Errorf("AgentReply = %v", r)
			}
			if cost, reported := r["cost_usd"]; (tt.agent.CLI == "claude") != reported || (reported && cost != 0.01) {
				t.Errorf("AgentReply cost_usd = %v (reported %v)", cost, reported)
			}
			if p := rec.kinds("AgentPrompt"); len(p) != 1 || p[0]["prompt"] != prompt {
				t.Errorf("AgentPrompt = %v", p)
			}
			var stderr strings.Builder
			for _, d := range rec.kinds("StepOutput") {
				if d["stream"] == "stderr" {
					stderr.WriteString(d["text"].(string))
				}
			}
			if stderr.String() != "working...\n" {
				t.Errorf("streamed stderr = %q", stderr.String())
			}
		})
	}
}

func TestAgentCLIFailures(t *testing.T) {
	t.Parallel()
	cfg := agentSetup(t)
	tests := []struct {
		name    string
		cli     string
		files   map[string]string
		kind    string
		exit    int
		inMsg   string
		noRetry bool
	}{
		{"claude reports an error", "claude", map[string]string{"stdout.txt": `{"type":"result","subtype":"error_max_turns","is_error":true,"result":"too many turns"}`},
			ErrKindMaxTurns, 0, "claude stopped at its turn limit", true},
		{"claude auth error", "claude", map[string]string{"exit.txt": "1", "stdout.txt": `{"type":"result","subtype":"success","is_error":true,"api_error_status":401,"result":"Invalid API key · Fix external API key"}`},
			ErrKindAuth, 1, "claude reported an error: Invalid API key", true},
		{"claude permission denied", "claude", map[string]string{"stdout.txt": `{"type":"result","subtype":"success","is_error":false,"result":"I could not write","permission_denials":[{"tool_name":"Write"},{"tool_name":"Write"}]}`},
			ErrKindPermission, 0, "denied permission to use Write;", true},
		{"non-zero exit", "claude", map[string]string{"stdout.txt": "", "exit.txt": "2"},
			runtime.ErrKindAgent, 2, "claude exited with code 2: working...", false},
		{"garbage", "gemini", map[string]string{"stdout.txt": "Loaded cached credentials.\nnot json"},
			runtime.ErrKindAgent, 0, "gemini printed no JSON result", false},
		{"gemini error object", "gemini", map[string]string{"stdout.txt": `{"error":{"type":"ApiError","message":"quota exceeded","code":429}}`},
			ErrKindRateLimit, 0, "gemini reported an error: quota exceeded", false},
		{"codex turn failed", "codex", map[string]string{"stdout.txt": `{"type":"turn.failed","error":{"message":"model overloaded"}}`},
			ErrKindServer, 0, "codex failed: model overloaded", false},
		{"codex unauthorized", "codex", map[string]string{"exit.txt": "1", "stdout.txt": `{"type":"turn.failed","error":{"message":"unexpected status 401 Unauthorized: Incorrect API key provided"}}`},
			ErrKindAuth, 1, "codex failed: unexpected status 401", true},
		{"no agent message", "codex", map[string]string{"stdout.txt": `{"type":"turn.completed","usage":{}}`},
			runtime.ErrKindAgent, 0, "codex printed no agent message", false},
		// gemini-cli 0.61 in its non-interactive mode: a tool the default
		// approval mode withholds, and one its policy denies.
		{"gemini tool withheld", "gemini", map[string]string{"stdout.txt": `{"type":"init","session_id":"g1"}
{"type":"tool_use","tool_name":"write_file","tool_id":"w1","parameters":{"file_path":"a.txt"}}
{"type":"tool_result","tool_id":"w1","status":"error","error":{"type":"tool_not_registered","message":"Tool \"write_file\" not found."}}
{"type":"tool_use","tool_name":"write_file","tool_id":"w2","parameters":{"file_path":"b.txt"}}
{"type":"tool_result","tool_id":"w2","status":"error","error":{"type":"tool_not_registered","message":"Tool \"write_file\" not found."}}
{"type":"message","role":"assistant","content":"I wrote it.","delta":true}
{"type":"result","status":"success","stats":{}}`},
			ErrKindPermission, 0, "gemini was denied permission to use write_file;", true},
		{"gemini policy denial", "gemini", map[string]string{"stdout.txt": `{"type":"init","session_id":"g1"}
{"type":"tool_use","tool_name":"run_shell_command","tool_id":"s1","parameters":{"command":"rm -rf x"}}
{"type":"tool_result","tool_id":"s1","status":"error","error":{"type":"policy_violation","message":"Tool execution denied by policy."}}
{"type":"result","status":"success","stats":{}}`},
			ErrKindPermission, 0, "denied permission to use run_shell_command;", true},
		{"codex declined a command", "codex", map[string]string{"stdout.txt": `{"type":"thread.started","thread_id":"t1"}
{"type":"item.completed","item":{"id":"i1","type":"command_execution","command":"rm -rf x","aggregated_output":"","exit_code":null,"status":"declined"}}
{"type":"item.completed","item":{"id":"i2","type":"agent_message","text":"I could not."}}`},
			ErrKindPermission, 0, "codex declined to run rm -rf x;", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, _ := agentAttempt(t, &ir.Agent{Name: "x", CLI: tt.cli}, "hi", nil, nil)
			writeFiles(t, a.Dir, tt.files)
			_, err := run(t, cfg, a)
			var se *runtime.StepError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v, want a StepError", err)
			}
			if se.Kind != tt.kind || se.ExitCode != tt.exit || se.Retry == tt.noRetry || !strings.Contains(se.Message, tt.inMsg) {
				t.Errorf("got %+v, want kind %q exit %d message with %q", se, tt.kind, tt.exit, tt.inMsg)
			}
		})
	}

	t.Run("CLI not installed", func(t *testing.T) {
		t.Parallel()
		a, _ := agentAttempt(t, &ir.Agent{Name: "x", CLI: "claude"}, "hi", nil, nil)
		_, err := run(t, Config{EnvironFunc: func() []string { return []string{"PATH=" + t.TempDir()} }}, a)
		if se := runtime.AsStepError(err); se.Kind != runtime.ErrKindAgent || !strings.Contains(se.Message, `"claude" not found on PATH`) {
			t.Errorf("got %+v", se)
		}
	})
	t.Run("undeclared agent", func(t *testing.T) {
		t.Parallel()
		a, _ := agentAttempt(t, &ir.Agent{Name: "x", CLI: "claude"}, "hi", nil, nil)
		a.Step.Agent = "nobody"
		_, err := run(t, cfg, a)
		if se := runtime.AsStepError(err); se.Kind != runtime.ErrKindInternal || !strings.Contains(se.Message, `"nobody" is not declared`) {
			t.Errorf("got %+v", se)
		}
	})
}

// TestAgentStructuredRetry: a declared output asks for JSON; a reply that
// violates the schema fails with a retryable validation error, and the
// next attempt feeds that error back so the agent can fix its reply.
func TestAgentStructuredRetry(t *testing.T) {
	t.Parallel()
	cfg := agentSetup(t)
	typ := schema.ObjectOf(
		&schema.Field{Name: "summary", Type: schema.StringType},
		&schema.Field{Name: "risk", Type: schema.EnumOf("low", "medium", "high")},
		&schema.Field{Name: "files", Type: schema.ListOf(schema.StringType)},
	)
	claudeResult := func(text string) string {
		return `{"type":"result","subtype":"success","is_error":false,"result":` + jsonString(text) + `,"session_id":"s"}`
	}
	a, rec := agentAttempt(t, &ir.Agent{Name: "rev", CLI: "claude"}, "Review ${sha}.", typ, map[string]any{"sha": "abc123"})
	a.NodeID = "analyze"
	writeFiles(t, a.Dir, map[string]string{
		"stdout.txt":  claudeResult("Sure!\n```json\n{\"summary\": \"ok\", \"risk\": \"severe\", \"files\": []}\n```"),
		"stdout2.txt": claudeResult("Fixed: {\"summary\": \"ok\", \"risk\": \"high\", \"files\": [\"a.go\"], \"extra\": 1}"),
	})

	_, err := run(t, cfg, a)
	var se *runtime.StepError
	if !errors.As(err, &se) {
		t.Fatalf("first attempt: error = %v, want a validation StepError", err)
	}
	want := `the agent's reply does not match the output type: risk: "severe" is not one of "low" | "medium" | "high"`
	if se.Kind != runtime.ErrKindValidation || !se.Retry || se.Message != want || se.Path != "analyze.risk" {
		t.Fatalf("first attempt: got %+v", se)
	}
	prompt1 := readFile(t, filepath.Join(a.Dir, "prompt.txt"))
	if !strings.HasPrefix(prompt1, "Review abc123.\n\nReply with a single JSON value") || !strings.Contains(prompt1, `"enum": [`) {
		t.Errorf("first prompt lacks the JSON instruction:\n%s", prompt1)
	}

	a.Number, a.PrevError = 2, err
	out, err := run(t, cfg, a)
	if err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	wantOut := map[string]any{"summary": "ok", "risk": "high", "files": []any{"a.go"}}
	if diff := cmp.Diff(wantOut, out); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	prompt2 := readFile(t, filepath.Join(a.Dir, "prompt.txt"))
	if !strings.Contains(prompt2, "Your previous reply was rejected: "+want) {
		t.Errorf("second prompt does not feed the error back:\n%s", prompt2)
	}
	if n := len(rec.kinds("AgentReply")); n != 2 {
		t.Errorf("%d AgentReply events, want 2", n)
	}
}

func TestAgentCLICancelKillsGroup(t *testing.T) {
	t.Parallel()
	cfg := agentSetup(t)
	cfg.KillGrace = 100 * time.Millisecond
	a, rec := agentAttempt(t, &ir.Agent{Name: "x", CLI: "claude"}, "hi", nil, nil)
	writeFiles(t, a.Dir, map[string]string{"slow": "", "stdout.txt": "{}"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard: the test cancels much sooner
	defer cancel()
	go func() {
		for len(rec.kinds("StepOutput")) == 0 && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		for _, err := os.Stat(filepath.Join(a.Dir, "child.pid")); err != nil && ctx.Err() == nil; _, err = os.Stat(filepath.Join(a.Dir, "child.pid")) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	_, err := Actions(cfg)["agent"].Run(ctx, a)
	if se := runtime.AsStepError(err); se.Kind != runtime.ErrKindCancelled {
		t.Errorf("got %+v, want cancelled", se)
	}
	waitGone(t, readPid(t, filepath.Join(a.Dir, "child.pid")))
}

func TestAgentLongPromptForGeminiGoesThroughStdin(t *testing.T) {
	t.Parallel()
	inv := geminiInvocation(cliRequest{Prompt: strings.Repeat("x", maxPromptArg+1)})
	if inv.stdin == nil || inv.args[len(inv.args)-1] == strings.Repeat("x", maxPromptArg+1) {
		t.Errorf("a long prompt is passed as an argument: %d args", len(inv.args))
	}
	short := geminiInvocation(cliRequest{Prompt: "short"})
	if short.stdin != nil || short.args[len(short.args)-1] != "--prompt=short" {
		t.Errorf("a short prompt is not passed with -p: %v", short.args)
	}
}

// TestAgentDefaultEnvironUsesPATH: with a zero Config the CLI is found on
// the process's own PATH.
func TestAgentDefaultEnvironUsesPATH(t *testing.T) {
	bin := t.TempDir()
	writeScript(t, bin, "claude", standins["claude"])
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	a, _ := agentAttempt(t, &ir.Agent{Name: "x", CLI: "claude"}, "hi", nil, nil)
	writeFiles(t, a.Dir, map[string]string{"stdout.txt": `{"type":"result","subtype":"success","result":"from PATH"}`})
	out, err := run(t, Config{}, a)
	if err != nil || out.(map[string]any)["text"] != "from PATH" {
		t.Errorf("got %v, %v", out, err)
	}
}

// TestAgentFallback: agent = [primary, fallback] tries the fallback after
// the primary fails, with an AgentFallback event; an invalid reply is not
// a reason to fall back.
func TestAgentFallback(t *testing.T) {
	t.Parallel()
	cfg := agentSetup(t)
	primary := &ir.Agent{Name: "primary", CLI: "claude"}
	backup := &ir.Agent{Name: "backup", CLI: "gemini"}
	a, rec := agentAttempt(t, primary, "hi", nil, nil)
	a.Program.Agents = append(a.Program.Agents, backup)
	a.Step.Fallbacks = []string{"backup"}
	// The stand-ins share the directory: claude fails (exit 3 with an
	// auth error), gemini answers.
	writeScript(t, filepath.Dir(firstPath(t, cfg, "claude")), "claude",
		`cat > /dev/null; echo '{"type":"result","is_error":true,"api_error_status":401,"result":"Invalid API key"}'; exit 1`)
	writeFiles(t, a.Dir, map[string]string{"stdout.txt": `{"type":"init","session_id":"g1"}
{"type":"message","role":"assistant","content":"from backup","delta":true}
{"type":"result","status":"success","stats":{"input_tokens":4,"output_tokens":2}}`})
	out, err := run(t, cfg, a)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"text": "from backup", "session_id": "g1"}, out); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	fb := rec.kinds("AgentFallback")
	if len(fb) != 1 || fb[0]["agent"] != "primary" || fb[0]["next"] != "backup" || fb[0]["kind"] != ErrKindAuth {
		t.Errorf("AgentFallback = %v", fb)
	}
}

func firstPath(t *testing.T, cfg Config, name string) string {
	t.Helper()
	p, err := lookPath(name, cfg.environ(), "")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// An attempt after an interrupted one continues that session: the
// primary agent is skipped when the session was the fallback's; the CLI
// gets --resume and a prompt that restates the task. The session is
// reported as soon as the CLI prints it.
func TestAgentContinuesAnInterruptedSession(t *testing.T) {
	t.Parallel()
	cfg := agentSetup(t)
	for _, hijacked := range []bool{false, true} {
		a, _ := agentAttempt(t, &ir.Agent{Name: "x", CLI: "claude"}, "Fix the bug.", nil, nil)
		a.Program.Agents = append(a.Program.Agents, &ir.Agent{Name: "y", CLI: "claude"})
		a.Step.Agent, a.Step.Fallbacks = "x", []string{"y"}
		a.Continue = &runtime.ContinuedSession{AgentSession: runtime.AgentSession{Agent: "y", Kind: "claude", ID: "s9", Attempt: 1}, Hijacked: hijacked}
		var reported []runtime.AgentSession
		a.SessionFunc = func(s runtime.AgentSession) { reported = append(reported, s) }
		writeFiles(t, a.Dir, map[string]string{"stdout.txt": `{"type":"system","subtype":"init","session_id":"s9"}
{"type":"result","subtype":"success","is_error":false,"result":"done","session_id":"s9"}`})
		if _, err := run(t, cfg, a); err != nil {
			t.Fatal(err)
		}
		args := readFile(t, filepath.Join(a.Dir, "args.txt"))
		if !strings.Contains(args, "--resume\ns9\n") {
			t.Errorf("args do not resume s9:\n%s", args)
		}
		want := map[bool]string{false: "was interrupted", true: "handed over to a person"}[hijacked]
		if p := readFile(t, filepath.Join(a.Dir, "prompt.txt")); !strings.Contains(p, want) || !strings.Contains(p, "Fix the bug.") {
			t.Errorf("prompt does not say %q and restate the task:\n%s", want, p)
		}
		if len(reported) != 1 || reported[0].ID != "s9" || reported[0].Agent != "y" || reported[0].Kind != "claude" || reported[0].Dir != a.Dir {
			t.Errorf("reported sessions: %+v", reported)
		}
	}
}

// TestAgentSessionMissingStartsANewOne: the session an interrupted
// attempt left cannot be resumed because the CLI has no record of it
// (claude killed before it wrote its transcript says "No conversation
// found with session ID"): the attempt starts a new session with the
// whole task, and says so in the log, rather than failing.
func TestAgentSessionMissingStartsANewOne(t *testing.T) {
	t.Parallel()
	cfg := agentSetup(t)
	writeScript(t, filepath.Dir(firstPath(t, cfg, "claude")), "claude", `printf '%s\n' "$@" >> args.txt
for a in "$@"; do
  if [ "$a" = --resume ]; then
    cat > /dev/null
    echo "No conversation found with session ID: s9" >&2
    echo '{"type":"result","subtype":"error_during_execution","is_error":true,"num_turns":0,"session_id":"s9"}'
    exit 1
  fi
done
cat > prompt.txt
echo '{"type":"system","subtype":"init","session_id":"s10"}'
echo '{"type":"result","subtype":"success","is_error":false,"result":"done","num_turns":1,"session_id":"s10"}'`)
	a, rec := agentAttempt(t, &ir.Agent{Name: "x", CLI: "claude"}, "Fix the bug.", nil, nil)
	a.Continue = &runtime.ContinuedSession{AgentSession: runtime.AgentSession{Agent: "x", Kind: "claude", ID: "s9", Attempt: 1}}
	out, err := run(t, cfg, a)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"text": "done", "session_id": "s10"}, out); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	args := readFile(t, filepath.Join(a.Dir, "args.txt"))
	if strings.Count(args, "--resume\ns9\n") != 1 {
		t.Errorf("args: want one attempt to resume s9, then a new session:\n%s", args)
	}
	if p := readFile(t, filepath.Join(a.Dir, "prompt.txt")); strings.Contains(p, "interrupted") || !strings.Contains(p, "Fix the bug.") {
		t.Errorf("the new session's prompt is not the whole task as new:\n%s", p)
	}
	if n := len(rec.kinds("AgentSessionMissing")); n != 1 {
		t.Errorf("%d AgentSessionMissing events, want 1", n)
	}
}
