package stdlib

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// cliRequest is one question to a CLI agent, settings evaluated.
type cliRequest struct {
	Model      string
	Extra      []string // the agent's args, after smithc's own options
	Prompt     string
	Schema     []byte // JSON Schema of the declared output for the CLI's own option; nil: none
	SchemaFile string // the file Schema was written to (codex reads a file)
	Resume     string // the session to continue; "": a new one
	MaxTurns   int
	Permission string // "", "default", "plan", "accept_edits", "bypass"
	BudgetUSD  float64
}

// cliInvocation is how an adapter calls its program.
type cliInvocation struct {
	args  []string // after the program name
	stdin io.Reader
}

// cliAdapter knows one agent CLI's non-interactive streaming JSON mode.
type cliAdapter struct {
	invocation func(r cliRequest) cliInvocation
	// newParser returns a parser of the CLI's stdout, fed line by line as
	// the CLI prints, so that nothing depends on the captured output.
	newParser func(activity func(map[string]any)) cliParser
	// nativeSchema: the CLI takes the output's JSON Schema (claude
	// --json-schema, codex --output-schema).
	nativeSchema bool
}

// cliParser reads a CLI's stdout.
type cliParser interface {
	line(l []byte)
	// sessionID is the session id the CLI has reported so far ("").
	sessionID() string
	// result is the reply once the CLI has exited; tail is the captured
	// end of stdout, for CLIs or versions that print one JSON document.
	result(tail string) (agentReply, *cliFailure)
}

// cliFailure is an error a CLI reported, classified.
type cliFailure struct {
	kind    string // an ErrKind* of this package or runtime.ErrKindAgent
	message string
	status  int // the API's HTTP status when the CLI reports it
}

// cliAdapterFor returns the adapter of a supported CLI, by kind.
func cliAdapterFor(kind string) (cliAdapter, bool) {
	switch kind {
	case "claude":
		return cliAdapter{invocation: claudeInvocation, newParser: func(f func(map[string]any)) cliParser { return &claudeParser{activity: f} }, nativeSchema: true}, true
	case "codex":
		return cliAdapter{invocation: codexInvocation, newParser: func(f func(map[string]any)) cliParser { return &codexParser{activity: f} }, nativeSchema: true}, true
	case "gemini":
		return cliAdapter{invocation: geminiInvocation, newParser: func(f func(map[string]any)) cliParser { return &geminiParser{activity: f} }}, true
	}
	return cliAdapter{}, false
}

// maxPromptArg is the longest prompt passed as a command-line argument;
// longer ones go through stdin (Linux limits one argument to 128 KiB).
const maxPromptArg = 100 << 10

// claudePermission maps permission_mode to claude --permission-mode.
var claudePermission = map[string]string{"plan": "plan", "accept_edits": "acceptEdits", "bypass": "bypassPermissions"}

// claudeInvocation: claude -p --output-format stream-json --verbose
// [--model M] [--max-turns N] [--permission-mode P] [--max-budget-usd B]
// [--json-schema S] [--resume ID] [args...], the prompt on stdin.
func claudeInvocation(r cliRequest) cliInvocation {
	args := []string{"-p", "--output-format", "stream-json", "--verbose"}
	if r.Model != "" {
		args = append(args, "--model", r.Model)
	}
	if r.MaxTurns > 0 {
		args = append(args, "--max-turns", strconv.Itoa(r.MaxTurns))
	}
	if p := claudePermission[r.Permission]; p != "" {
		args = append(args, "--permission-mode", p)
	}
	if r.BudgetUSD > 0 {
		args = append(args, "--max-budget-usd", strconv.FormatFloat(r.BudgetUSD, 'f', -1, 64))
	}
	if r.Schema != nil {
		args = append(args, "--json-schema", string(r.Schema))
	}
	if r.Resume != "" {
		args = append(args, "--resume", r.Resume)
	}
	return cliInvocation{args: append(args, r.Extra...), stdin: strings.NewReader(r.Prompt)}
}

// claudeResult is claude's final object, the last line of stream-json and
// the whole of --output-format json.
type claudeResult struct {
	Type             string          `json:"type"`
	Subtype          string          `json:"subtype"`
	IsError          bool            `json:"is_error"`
	Result           string          `json:"result"`
	SessionID        string          `json:"session_id"`
	CostUSD          float64         `json:"total_cost_usd"`
	NumTurns         int64           `json:"num_turns"`
	APIErrorStatus   int             `json:"api_error_status"`
	TerminalReason   string          `json:"terminal_reason"`
	StructuredOutput json.RawMessage `json:"structured_output"`
	Errors           []string        `json:"errors"`
	Denials          []struct {
		ToolName string `json:"tool_name"`
	} `json:"permission_denials"`
	Usage struct {
		InputTokens         int64 `json:"input_tokens"`
		CacheReadTokens     int64 `json:"cache_read_input_tokens"`
		CacheCreationTokens int64 `json:"cache_creation_input_tokens"`
		OutputTokens        int64 `json:"output_tokens"`
	} `json:"usage"`
}

// claudeParser reads claude's stream-json events: system/init (the
// session id), assistant messages (text, tool calls), and the result.
type claudeParser struct {
	activity func(map[string]any)
	session  string
	res      *claudeResult
}

func (p *claudeParser) line(l []byte) {
	var ev struct {
		Type      string `json:"type"`
		Subtype   string `json:"subtype"`
		SessionID string `json:"session_id"`
		Message   struct {
			Content []struct {
				Type  string          `json:"type"`
				Text  string          `json:"text"`
				Name  string          `json:"name"`
				Input json.RawMessage `json:"input"`
			} `json:"content"`
		} `json:"message"`
	}
	if json.Unmarshal(l, &ev) != nil {
		return
	}
	if ev.SessionID != "" && p.session == "" {
		p.session = ev.SessionID
	}
	switch ev.Type {
	case "result":
		var r claudeResult
		if json.Unmarshal(l, &r) == nil {
			p.res = &r
		}
	case "assistant":
		for _, c := range ev.Message.Content {
			switch c.Type {
			case "text":
				p.activity(map[string]any{"type": "text", "text": shorten(c.Text, maxActivityText)})
			case "tool_use":
				p.activity(map[string]any{"type": "tool_call", "tool": c.Name, "input": shorten(string(c.Input), maxActivityText)})
			}
		}
	}
}

func (p *claudeParser) sessionID() string { return p.session }

func (p *claudeParser) result(tail string) (agentReply, *cliFailure) {
	if p.res == nil {
		var r claudeResult
		if err := decodeLastObject(tail, &r); err != nil || (r.Type != "result" && r.Result == "" && r.Subtype == "") {
			return agentReply{SessionID: p.session}, &cliFailure{kind: "agent", message: "claude printed no result"}
		}
		p.res = &r
	}
	r := p.res
	reply := agentReply{
		Text:          r.Result,
		InputTokens:   r.Usage.InputTokens + r.Usage.CacheReadTokens + r.Usage.CacheCreationTokens,
		OutputTokens:  r.Usage.OutputTokens,
		CacheRead:     r.Usage.CacheReadTokens,
		CacheCreation: r.Usage.CacheCreationTokens,
		SessionID:     r.SessionID,
		CostUSD:       r.CostUSD,
		Turns:         r.NumTurns,
	}
	if reply.SessionID == "" {
		reply.SessionID = p.session
	}
	if len(r.StructuredOutput) > 0 && string(r.StructuredOutput) != "null" {
		reply.Structured = r.StructuredOutput
	}
	msg := firstLine(r.Result)
	if msg == "" && len(r.Errors) > 0 {
		msg = firstLine(strings.Join(r.Errors, "; "))
	}
	switch {
	case r.Subtype == "error_max_turns":
		return reply, &cliFailure{kind: ErrKindMaxTurns, message: fmt.Sprintf("claude stopped at its turn limit after %d turns", r.NumTurns)}
	case r.Subtype == "error_max_budget_usd":
		return reply, &cliFailure{kind: ErrKindBudget, message: fmt.Sprintf("claude stopped at its budget (spent $%.4f)", r.CostUSD)}
	case r.IsError || (r.Subtype != "" && r.Subtype != "success"):
		if msg == "" {
			msg = r.Subtype
		}
		return reply, classify(r.APIErrorStatus, "claude reported an error: "+msg)
	case len(r.Denials) > 0:
		names := make([]string, 0, len(r.Denials))
		seen := map[string]bool{}
		for _, d := range r.Denials {
			if !seen[d.ToolName] {
				seen[d.ToolName] = true
				names = append(names, d.ToolName)
			}
		}
		return reply, &cliFailure{kind: ErrKindPermission, message: fmt.Sprintf(
			"claude was denied permission to use %s; set permission_mode (or args such as --allowedTools) on the agent to allow it",
			strings.Join(names, ", "))}
	}
	return reply, nil
}

// codexSandbox maps permission_mode to codex's sandbox settings (as -c
// overrides, which both exec and exec resume accept).
var codexSandbox = map[string][]string{
	"plan":         {"-c", `sandbox_mode="read-only"`},
	"accept_edits": {"-c", `sandbox_mode="workspace-write"`},
	"bypass":       {"--dangerously-bypass-approvals-and-sandbox"},
}

// codexInvocation: codex exec [resume] --json [--model M] [sandbox]
// [--output-schema FILE] [args...] [ID] -, the prompt on stdin.
func codexInvocation(r cliRequest) cliInvocation {
	args := []string{"exec"}
	if r.Resume != "" {
		args = append(args, "resume")
	}
	args = append(args, "--json")
	if r.Model != "" {
		args = append(args, "--model", r.Model)
	}
	args = append(args, codexSandbox[r.Permission]...)
	if r.SchemaFile != "" {
		args = append(args, "--output-schema", r.SchemaFile)
	}
	args = append(args, r.Extra...)
	if r.Resume != "" {
		args = append(args, r.Resume)
	}
	return cliInvocation{args: append(args, "-"), stdin: strings.NewReader(r.Prompt)}
}

// codexParser reads codex's JSONL events: the thread id, the text of the
// last completed agent_message item, usage summed over turn.completed,
// and turn.failed / error events. The older event format
// ({"msg":{"type":"agent_message","message":...}}) is read too.
type codexParser struct {
	activity func(map[string]any)
	reply    agentReply
	found    bool
	lastErr  string
	declined []string // commands codex declined to run
}

func (p *codexParser) line(l []byte) {
	var ev struct {
		Type     string `json:"type"`
		ThreadID string `json:"thread_id"`
		Message  string `json:"message"`
		Item     *struct {
			Type     string `json:"type"`
			Text     string `json:"text"`
			Command  string `json:"command"`
			Message  string `json:"message"`
			Status   string `json:"status"`
			ExitCode *int   `json:"exit_code"`
			Output   string `json:"aggregated_output"`
			Changes  []struct {
				Path string `json:"path"`
				Kind string `json:"kind"`
			} `json:"changes"`
		} `json:"item"`
		Usage *struct {
			InputTokens  int64 `json:"input_tokens"`
			CachedInput  int64 `json:"cached_input_tokens"`
			CacheWrite   int64 `json:"cache_write_input_tokens"`
			OutputTokens int64 `json:"output_tokens"`
		} `json:"usage"`
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
		Msg *struct {
			Type             string `json:"type"`
			Message          string `json:"message"`
			LastAgentMessage string `json:"last_agent_message"`
			InputTokens      int64  `json:"input_tokens"`
			OutputTokens     int64  `json:"output_tokens"`
		} `json:"msg"`
	}
	if json.Unmarshal(l, &ev) != nil {
		return
	}
	switch ev.Type {
	case "thread.started":
		if p.reply.SessionID == "" {
			p.reply.SessionID = ev.ThreadID
		}
	case "item.completed":
		if ev.Item == nil {
			break
		}
		switch ev.Item.Type {
		case "agent_message":
			p.reply.Text, p.found = ev.Item.Text, true
			p.activity(map[string]any{"type": "text", "text": shorten(ev.Item.Text, maxActivityText)})
		case "command_execution":
			act := map[string]any{"type": "tool_call", "tool": "shell", "input": shorten(ev.Item.Command, maxActivityText)}
			if ev.Item.Status != "" {
				act["status"] = ev.Item.Status
			}
			if ev.Item.ExitCode != nil {
				act["exit_code"] = int64(*ev.Item.ExitCode)
			}
			if ev.Item.Status != "completed" && ev.Item.Output != "" {
				act["output"] = shorten(ev.Item.Output, maxActivityText)
			}
			p.activity(act)
			if ev.Item.Status == "declined" {
				p.declined = append(p.declined, ev.Item.Command)
			}
		case "file_change":
			var paths []string
			for _, c := range ev.Item.Changes {
				paths = append(paths, c.Kind+" "+c.Path)
			}
			p.activity(map[string]any{"type": "tool_call", "tool": "apply_patch", "input": shorten(strings.Join(paths, ", "), maxActivityText)})
		}
	case "turn.completed":
		if ev.Usage != nil {
			p.reply.InputTokens += ev.Usage.InputTokens
			p.reply.OutputTokens += ev.Usage.OutputTokens
			p.reply.CacheRead += ev.Usage.CachedInput
			p.reply.CacheCreation += ev.Usage.CacheWrite
			p.reply.Turns++
		}
	case "turn.failed":
		if ev.Error != nil {
			p.lastErr = ev.Error.Message
		}
	case "error":
		p.lastErr = ev.Message
	}
	if ev.Msg != nil {
		switch ev.Msg.Type {
		case "agent_message":
			p.reply.Text, p.found = ev.Msg.Message, true
		case "task_complete":
			if ev.Msg.LastAgentMessage != "" {
				p.reply.Text, p.found = ev.Msg.LastAgentMessage, true
			}
		case "token_count":
			p.reply.InputTokens, p.reply.OutputTokens = ev.Msg.InputTokens, ev.Msg.OutputTokens
		case "error":
			p.lastErr = ev.Msg.Message
		}
	}
}

func (p *codexParser) sessionID() string { return p.reply.SessionID }

func (p *codexParser) result(string) (agentReply, *cliFailure) {
	if p.lastErr != "" && !p.found {
		return p.reply, classify(0, "codex failed: "+firstLine(p.lastErr))
	}
	if !p.found {
		return p.reply, &cliFailure{kind: "agent", message: "codex printed no agent message"}
	}
	if len(p.declined) > 0 {
		return p.reply, &cliFailure{kind: ErrKindPermission, message: fmt.Sprintf(
			"codex declined to run %s; set permission_mode on the agent to allow it", shorten(strings.Join(p.declined, "; "), 200))}
	}
	return p.reply, nil
}

// geminiApproval maps permission_mode to gemini --approval-mode.
var geminiApproval = map[string]string{"plan": "plan", "accept_edits": "auto_edit", "bypass": "yolo"}

// geminiInvocation: gemini --output-format stream-json [--model M]
// [--approval-mode A] [--resume ID] [args...] --prompt=PROMPT (one
// argument, so that a prompt starting with "-" is not an option). A prompt
// too long for an argument goes on stdin, which gemini reads ahead of
// --prompt.
func geminiInvocation(r cliRequest) cliInvocation {
	args := []string{"--output-format", "stream-json"}
	if r.Model != "" {
		args = append(args, "--model", r.Model)
	}
	if a := geminiApproval[r.Permission]; a != "" {
		args = append(args, "--approval-mode", a)
	}
	if r.Resume != "" {
		args = append(args, "--resume", r.Resume)
	}
	args = append(args, r.Extra...)
	if len(r.Prompt) <= maxPromptArg {
		return cliInvocation{args: append(args, "--prompt="+r.Prompt)}
	}
	return cliInvocation{args: append(args, "--prompt=Follow the instructions above."), stdin: strings.NewReader(r.Prompt)}
}

// geminiParser reads gemini's stream-json events (init with the session
// id, assistant message deltas, tool_use, result with status and stats),
// or, from the captured output, its --output-format json object.
type geminiParser struct {
	activity func(map[string]any)
	reply    agentReply
	text     strings.Builder
	done     bool
	errMsg   *string
	events   bool
	tools    map[string]string // tool_id → tool name
	denied   []string          // tools gemini refused to run
}

// geminiApprovalTools are gemini's own tools that need approval: in its
// non-interactive mode the default approval mode withholds them, and a
// call of one fails with tool_not_registered (gemini-cli 0.61).
var geminiApprovalTools = map[string]bool{"write_file": true, "replace": true, "run_shell_command": true, "web_fetch": true, "save_memory": true}

func (p *geminiParser) line(l []byte) {
	var ev struct {
		Type      string          `json:"type"`
		SessionID string          `json:"session_id"`
		Role      string          `json:"role"`
		Content   string          `json:"content"`
		Delta     bool            `json:"delta"`
		ToolName  string          `json:"tool_name"`
		ToolID    string          `json:"tool_id"`
		Params    json.RawMessage `json:"parameters"`
		Status    string          `json:"status"`
		Error     *struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
		Stats struct {
			InputTokens  int64 `json:"input_tokens"`
			OutputTokens int64 `json:"output_tokens"`
			Cached       int64 `json:"cached"`
			ToolCalls    int64 `json:"tool_calls"`
		} `json:"stats"`
	}
	if json.Unmarshal(l, &ev) != nil || ev.Type == "" {
		return
	}
	p.events = true
	switch ev.Type {
	case "init":
		p.reply.SessionID = ev.SessionID
	case "message":
		if ev.Role == "assistant" {
			if !ev.Delta {
				p.text.Reset()
			}
			p.text.WriteString(ev.Content)
		}
	case "tool_use":
		if p.tools == nil {
			p.tools = map[string]string{}
		}
		p.tools[ev.ToolID] = ev.ToolName
		p.activity(map[string]any{"type": "tool_call", "tool": ev.ToolName, "input": shorten(string(ev.Params), maxActivityText)})
	case "tool_result":
		// A refused call: denied by the policy (policy_violation), or a
		// tool the approval mode withheld (tool_not_registered).
		if ev.Status == "error" && ev.Error != nil {
			name := p.tools[ev.ToolID]
			p.activity(map[string]any{"type": "tool_result", "tool": name, "status": "error", "error": ev.Error.Type,
				"output": shorten(ev.Error.Message, maxActivityText)})
			if ev.Error.Type == "policy_violation" || (ev.Error.Type == "tool_not_registered" && geminiApprovalTools[name]) {
				p.denied = append(p.denied, name)
			}
		}
	case "error":
		if ev.Error != nil {
			m := ev.Error.Message
			p.errMsg = &m
		}
	case "result":
		p.done = true
		p.reply.InputTokens, p.reply.OutputTokens, p.reply.CacheRead = ev.Stats.InputTokens, ev.Stats.OutputTokens, ev.Stats.Cached
		if ev.Status != "success" {
			m := ev.Status
			if ev.Error != nil {
				m = ev.Error.Message
			}
			p.errMsg = &m
		}
	}
}

func (p *geminiParser) sessionID() string { return p.reply.SessionID }

func (p *geminiParser) result(tail string) (agentReply, *cliFailure) {
	if !p.events {
		return parseGeminiJSON(tail)
	}
	p.reply.Text = p.text.String()
	if p.text.Len() > 0 {
		p.activity(map[string]any{"type": "text", "text": shorten(p.reply.Text, maxActivityText)})
	}
	if p.errMsg != nil {
		return p.reply, classify(0, "gemini reported an error: "+firstLine(*p.errMsg))
	}
	if !p.done {
		return p.reply, &cliFailure{kind: "agent", message: "gemini printed no result"}
	}
	if len(p.denied) > 0 {
		return p.reply, &cliFailure{kind: ErrKindPermission, message: fmt.Sprintf(
			"gemini was denied permission to use %s; set permission_mode (or args such as --approval-mode) on the agent to allow it",
			strings.Join(uniq(p.denied), ", "))}
	}
	return p.reply, nil
}

// uniq returns l without repetitions, in first-seen order.
func uniq(l []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// parseGeminiJSON reads gemini's --output-format json object:
// {"session_id": ..., "response": "...", "stats": {"models": {NAME:
// {"tokens": {"prompt": N, "candidates": N}}}}, "error": {"message": ...}}.
func parseGeminiJSON(stdout string) (agentReply, *cliFailure) {
	var r struct {
		SessionID string  `json:"session_id"`
		Response  *string `json:"response"`
		Stats     struct {
			Models map[string]struct {
				Tokens struct {
					Prompt     int64 `json:"prompt"`
					Candidates int64 `json:"candidates"`
				} `json:"tokens"`
			} `json:"models"`
		} `json:"stats"`
		Error *struct {
			Type    string `json:"type"`
			Message string `json:"message"`
			Code    int    `json:"code"`
		} `json:"error"`
	}
	if err := decodeLastObject(stdout, &r); err != nil {
		return agentReply{}, &cliFailure{kind: "agent", message: fmt.Sprintf("gemini printed no JSON result: %v", err)}
	}
	reply := agentReply{SessionID: r.SessionID}
	names := make([]string, 0, len(r.Stats.Models))
	for n := range r.Stats.Models {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		reply.InputTokens += r.Stats.Models[n].Tokens.Prompt
		reply.OutputTokens += r.Stats.Models[n].Tokens.Candidates
	}
	if r.Error != nil {
		return reply, classify(r.Error.Code, "gemini reported an error: "+firstLine(r.Error.Message))
	}
	if r.Response == nil {
		return reply, &cliFailure{kind: "agent", message: "gemini's JSON has no response field"}
	}
	reply.Text = *r.Response
	return reply, nil
}

// Error kinds of agent failures, beyond runtime's (LANGUAGE.md §5: retry
// when and catch read error.kind).
const (
	ErrKindAuth       = "auth"              // the API refused the credentials; not retried
	ErrKindRateLimit  = "rate_limit"        // 429 / quota; retryable
	ErrKindServer     = "server_error"      // the API failed (5xx, overloaded); retryable
	ErrKindMaxTurns   = "max_turns"         // the agent hit its turn limit; not retried
	ErrKindPermission = "permission_denied" // a tool call was denied; not retried
	ErrKindBudget     = "budget"            // the agent hit max_budget_usd; not retried
	ErrKindTruncated  = "length"            // the reply was cut at max_tokens (openai)
	maxActivityText   = 500
	maxActivityEvents = 200
	activityEventKind = "AgentActivity"
)

// retryableKinds are the agent failure kinds a retry block retries.
var retryableKinds = map[string]bool{"agent": true, ErrKindRateLimit: true, ErrKindServer: true, ErrKindTruncated: true}

// The patterns are compiled on first use: most processes never classify
// an agent's failure, and compiling them costs more than a whole
// one-step run's own work.
var (
	authPattern   = lazyRegexp(`(?i)\b401\b|\b403\b|unauthori[sz]ed|authentication|invalid (x-)?api[ -]?key|api key not valid|incorrect api key|permission_denied|unauthenticated|forbidden`)
	ratePattern   = lazyRegexp(`(?i)\b429\b|rate[ _-]?limit|too many requests|quota|resource_exhausted`)
	serverPattern = lazyRegexp(`(?i)\b50[0-9]\b|internal server error|server[- ]side|overloaded|high demand|service unavailable|bad gateway|internal error`)
)

// classify names the kind of a CLI-reported API failure from its HTTP
// status (0: unknown) or, failing that, its message.
func classify(status int, msg string) *cliFailure {
	f := &cliFailure{message: msg, status: status}
	switch {
	case status == 401 || status == 403:
		f.kind = ErrKindAuth
	case status == 429:
		f.kind = ErrKindRateLimit
	case status >= 500:
		f.kind = ErrKindServer
	case status == 0 && authPattern().MatchString(msg):
		f.kind = ErrKindAuth
	case status == 0 && ratePattern().MatchString(msg):
		f.kind = ErrKindRateLimit
	case status == 0 && serverPattern().MatchString(msg):
		f.kind = ErrKindServer
	default:
		f.kind = "agent"
	}
	return f
}

// decodeLastObject decodes stdout as one JSON object, or else its last
// line that is one (a CLI may print warnings before its result).
func decodeLastObject(stdout string, v any) error {
	trimmed := strings.TrimSpace(stdout)
	if trimmed == "" {
		return errors.New("output is empty")
	}
	err := json.Unmarshal([]byte(trimmed), v)
	if err == nil {
		return nil
	}
	lines := strings.Split(trimmed, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "{") && json.Unmarshal([]byte(l), v) == nil {
			return nil
		}
	}
	return err
}

// firstLine returns the first line of s, shortened for messages.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return shorten(s, 200)
}
