package stdlib

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// cliInvocation is how an adapter calls its program.
type cliInvocation struct {
	args  []string // after the program name
	stdin io.Reader
}

// cliAdapter knows one agent CLI's non-interactive JSON mode.
type cliAdapter struct {
	invocation func(model string, extra []string, prompt string) cliInvocation
	parse      func(stdout string) (agentReply, error)
}

// cliAdapterFor returns the adapter of a supported CLI, by program name.
func cliAdapterFor(name string) (cliAdapter, bool) {
	switch name {
	case "claude":
		return cliAdapter{invocation: claudeInvocation, parse: parseClaude}, true
	case "codex":
		return cliAdapter{invocation: codexInvocation, parse: parseCodex}, true
	case "gemini":
		return cliAdapter{invocation: geminiInvocation, parse: parseGemini}, true
	}
	return cliAdapter{}, false
}

// maxPromptArg is the longest prompt passed as a command-line argument;
// longer ones go through stdin (Linux limits one argument to 128 KiB).
const maxPromptArg = 100 << 10

// claudeInvocation: claude -p --output-format json [--model M] [args...],
// the prompt on stdin.
func claudeInvocation(model string, extra []string, prompt string) cliInvocation {
	args := []string{"-p", "--output-format", "json"}
	if model != "" {
		args = append(args, "--model", model)
	}
	return cliInvocation{args: append(args, extra...), stdin: strings.NewReader(prompt)}
}

// parseClaude reads the single result object claude prints:
// {"type":"result","subtype":"success","is_error":false,"result":"...",
// "session_id":"...","usage":{"input_tokens":N,"output_tokens":N,...}}.
func parseClaude(stdout string) (agentReply, error) {
	var r struct {
		Type      string  `json:"type"`
		Subtype   string  `json:"subtype"`
		IsError   bool    `json:"is_error"`
		Result    string  `json:"result"`
		SessionID string  `json:"session_id"`
		CostUSD   float64 `json:"total_cost_usd"`
		Usage     struct {
			InputTokens         int64 `json:"input_tokens"`
			CacheReadTokens     int64 `json:"cache_read_input_tokens"`
			CacheCreationTokens int64 `json:"cache_creation_input_tokens"`
			OutputTokens        int64 `json:"output_tokens"`
		} `json:"usage"`
	}
	if err := decodeLastObject(stdout, &r); err != nil {
		return agentReply{}, fmt.Errorf("claude printed no JSON result: %w", err)
	}
	reply := agentReply{
		Text:         r.Result,
		InputTokens:  r.Usage.InputTokens + r.Usage.CacheReadTokens + r.Usage.CacheCreationTokens,
		OutputTokens: r.Usage.OutputTokens,
		SessionID:    r.SessionID,
		CostUSD:      r.CostUSD,
	}
	if r.IsError || (r.Subtype != "" && r.Subtype != "success") {
		return reply, fmt.Errorf("claude reported an error (%s): %s", r.Subtype, firstLine(r.Result))
	}
	return reply, nil
}

// codexInvocation: codex exec --json [--model M] [args...] -, the prompt
// on stdin.
func codexInvocation(model string, extra []string, prompt string) cliInvocation {
	args := []string{"exec", "--json"}
	if model != "" {
		args = append(args, "--model", model)
	}
	args = append(args, extra...)
	return cliInvocation{args: append(args, "-"), stdin: strings.NewReader(prompt)}
}

// parseCodex reads codex's JSONL events: the text of the last completed
// agent_message item, usage summed over turn.completed events, the
// thread id, and turn.failed / error events. The older event format
// ({"msg":{"type":"agent_message","message":...}}) is read too.
func parseCodex(stdout string) (agentReply, error) {
	var reply agentReply
	var lastErr string
	found := false
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var ev struct {
			Type     string `json:"type"`
			ThreadID string `json:"thread_id"`
			Message  string `json:"message"`
			Item     *struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"item"`
			Usage *struct {
				InputTokens  int64 `json:"input_tokens"`
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
		if json.Unmarshal([]byte(line), &ev) != nil {
			continue
		}
		switch ev.Type {
		case "thread.started":
			reply.SessionID = ev.ThreadID
		case "item.completed":
			if ev.Item != nil && ev.Item.Type == "agent_message" {
				reply.Text, found = ev.Item.Text, true
			}
		case "turn.completed":
			if ev.Usage != nil {
				reply.InputTokens += ev.Usage.InputTokens
				reply.OutputTokens += ev.Usage.OutputTokens
			}
		case "turn.failed":
			if ev.Error != nil {
				lastErr = ev.Error.Message
			}
		case "error":
			lastErr = ev.Message
		}
		if ev.Msg != nil {
			switch ev.Msg.Type {
			case "agent_message":
				reply.Text, found = ev.Msg.Message, true
			case "task_complete":
				if ev.Msg.LastAgentMessage != "" {
					reply.Text, found = ev.Msg.LastAgentMessage, true
				}
			case "token_count":
				reply.InputTokens, reply.OutputTokens = ev.Msg.InputTokens, ev.Msg.OutputTokens
			case "error":
				lastErr = ev.Msg.Message
			}
		}
	}
	if err := sc.Err(); err != nil {
		return reply, fmt.Errorf("reading codex events: %w", err)
	}
	if !found {
		if lastErr != "" {
			return reply, fmt.Errorf("codex failed: %s", lastErr)
		}
		return reply, errors.New("codex printed no agent message")
	}
	return reply, nil
}

// geminiInvocation: gemini --output-format json [--model M] [args...] -p
// PROMPT. A prompt too long for an argument goes on stdin, which gemini
// reads ahead of -p.
func geminiInvocation(model string, extra []string, prompt string) cliInvocation {
	args := []string{"--output-format", "json"}
	if model != "" {
		args = append(args, "--model", model)
	}
	args = append(args, extra...)
	if len(prompt) <= maxPromptArg {
		return cliInvocation{args: append(args, "-p", prompt)}
	}
	return cliInvocation{args: append(args, "-p", "Follow the instructions above."), stdin: strings.NewReader(prompt)}
}

// parseGemini reads gemini's JSON object: {"response": "...", "stats":
// {"models": {NAME: {"tokens": {"prompt": N, "candidates": N}}}},
// "error": {"message": ...}}.
func parseGemini(stdout string) (agentReply, error) {
	var r struct {
		Response *string `json:"response"`
		Stats    struct {
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
		} `json:"error"`
	}
	if err := decodeLastObject(stdout, &r); err != nil {
		return agentReply{}, fmt.Errorf("gemini printed no JSON result: %w", err)
	}
	var reply agentReply
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
		return reply, fmt.Errorf("gemini reported an error: %s", r.Error.Message)
	}
	if r.Response == nil {
		return reply, errors.New("gemini's JSON has no response field")
	}
	reply.Text = *r.Response
	return reply, nil
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
