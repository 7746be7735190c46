package agentreal

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// turn is one scripted answer of a stub API.
type turn struct {
	text   string         // a text reply
	tool   string         // a tool call instead (name)
	input  map[string]any // the tool call's arguments
	status int            // an HTTP error status instead
	raw    string         // a body that is not the API's format (with status 200)
	delay  time.Duration  // wait before answering (or until the client leaves)
}

// request is what a stub saw.
type request struct {
	Path string
	Body string
	// ToolResult: the request carries the result of an earlier tool call.
	ToolResult bool
	// Messages counts the conversation's messages (contents, input items).
	Messages int
}

// stub is an API stand-in for one CLI; script decides every answer.
type stub struct {
	t      *testing.T
	srv    *httptest.Server
	script func(n int, r request) turn

	mu       sync.Mutex
	seen     []request
	scriptMu sync.Mutex // script is called for one request at a time
}

func newStub(t *testing.T, script func(n int, r request) turn) *stub {
	s := &stub{t: t, script: script}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *stub) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.seen...)
}

// modelRequests are the requests for a model answer (not token counts,
// model lists and the like).
func (s *stub) modelRequests() []request {
	var out []request
	for _, r := range s.requests() {
		if strings.HasSuffix(r.Path, "/messages") || strings.HasSuffix(r.Path, "/responses") || strings.Contains(r.Path, "GenerateContent") || strings.Contains(r.Path, "generateContent") {
			out = append(out, r)
		}
	}
	return out
}

func (s *stub) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var parsed struct {
		Messages []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		Input    []json.RawMessage `json:"input"`
		Contents []json.RawMessage `json:"contents"`
	}
	_ = json.Unmarshal(body, &parsed)
	req := request{Path: r.URL.Path, Body: string(body),
		Messages: len(parsed.Messages) + len(parsed.Input) + len(parsed.Contents)}
	switch {
	case len(parsed.Messages) > 0:
		req.ToolResult = strings.Contains(string(parsed.Messages[len(parsed.Messages)-1].Content), `"tool_result"`)
	case len(parsed.Input) > 0:
		req.ToolResult = strings.Contains(string(parsed.Input[len(parsed.Input)-1]), `"function_call_output"`)
	case len(parsed.Contents) > 0:
		req.ToolResult = strings.Contains(string(parsed.Contents[len(parsed.Contents)-1]), `"functionResponse"`)
	}
	isModel := strings.HasSuffix(r.URL.Path, "/messages") || strings.HasSuffix(r.URL.Path, "/responses") || strings.Contains(r.URL.Path, "enerateContent")
	s.mu.Lock()
	s.seen = append(s.seen, req)
	n := 0
	for _, q := range s.seen {
		if strings.HasSuffix(q.Path, "/messages") || strings.HasSuffix(q.Path, "/responses") || strings.Contains(q.Path, "enerateContent") {
			n++
		}
	}
	s.mu.Unlock()
	if !isModel {
		// Model lists, token counts and the like: nothing to offer.
		http.NotFound(w, r)
		return
	}
	s.scriptMu.Lock()
	tn := s.script(n, req)
	s.scriptMu.Unlock()
	if tn.delay > 0 {
		select {
		case <-time.After(tn.delay):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case tn.status != 0:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(tn.status)
		fmt.Fprint(w, errorBody(r.URL.Path, tn.status))
		return
	case tn.raw != "":
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, tn.raw)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	switch {
	case strings.HasSuffix(r.URL.Path, "/messages"):
		anthropicSSE(w, tn)
	case strings.HasSuffix(r.URL.Path, "/responses"):
		responsesSSE(w, tn, n)
	case strings.Contains(r.URL.Path, ":streamGenerateContent"):
		fmt.Fprintf(w, "data: %s\n\n", geminiChunk(tn))
	default: // :generateContent
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, geminiChunk(tn))
	}
}

func errorBody(path string, status int) string {
	msg := map[int]string{401: "invalid x-api-key", 429: "rate limit exceeded", 500: "internal stub failure"}[status]
	switch {
	case strings.HasSuffix(path, "/messages"):
		typ := map[int]string{401: "authentication_error", 429: "rate_limit_error", 500: "api_error"}[status]
		return fmt.Sprintf(`{"type":"error","error":{"type":%q,"message":%q}}`, typ, msg)
	case strings.HasSuffix(path, "/responses"):
		return fmt.Sprintf(`{"error":{"message":%q,"type":"invalid_request_error"}}`, msg)
	}
	st := map[int]string{401: "UNAUTHENTICATED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL"}[status]
	return fmt.Sprintf(`[{"error":{"code":%d,"message":%q,"status":%q}}]`, status, msg, st)
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func sse(w io.Writer, event string, data any) {
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, js(data))
}

// anthropicSSE answers a Messages request with stream: true.
func anthropicSSE(w io.Writer, tn turn) {
	sse(w, "message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": "msg_stub", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": map[string]any{"input_tokens": 100, "output_tokens": 1}}})
	stop := "end_turn"
	if tn.tool != "" {
		stop = "tool_use"
		sse(w, "content_block_start", map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]any{"type": "tool_use", "id": "toolu_stub1", "name": tn.tool, "input": map[string]any{}}})
		sse(w, "content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
			"delta": map[string]any{"type": "input_json_delta", "partial_json": js(tn.input)}})
	} else {
		sse(w, "content_block_start", map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]any{"type": "text", "text": ""}})
		sse(w, "content_block_delta", map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "text_delta", "text": tn.text}})
	}
	sse(w, "content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	sse(w, "message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": 20}})
	sse(w, "message_stop", map[string]any{"type": "message_stop"})
}

// responsesSSE answers an OpenAI Responses request (codex).
func responsesSSE(w io.Writer, tn turn, n int) {
	id := fmt.Sprintf("resp_%d", n)
	sse(w, "response.created", map[string]any{"type": "response.created", "response": map[string]any{"id": id}})
	var item map[string]any
	if tn.tool != "" {
		item = map[string]any{"type": "function_call", "id": fmt.Sprintf("fc_%d", n), "call_id": fmt.Sprintf("call_%d", n), "name": tn.tool, "arguments": js(tn.input)}
	} else {
		item = map[string]any{"type": "message", "role": "assistant", "id": fmt.Sprintf("msg_%d", n),
			"content": []any{map[string]any{"type": "output_text", "text": tn.text}}}
	}
	sse(w, "response.output_item.done", map[string]any{"type": "response.output_item.done", "output_index": 0, "item": item})
	sse(w, "response.completed", map[string]any{"type": "response.completed", "response": map[string]any{"id": id,
		"usage": map[string]any{"input_tokens": 100, "input_tokens_details": map[string]any{"cached_tokens": 40},
			"output_tokens": 20, "output_tokens_details": map[string]any{"reasoning_tokens": 0}, "total_tokens": 120}}})
}

// geminiChunk is one GenerateContentResponse.
func geminiChunk(tn turn) string {
	var part map[string]any
	if tn.tool != "" {
		part = map[string]any{"functionCall": map[string]any{"name": tn.tool, "args": tn.input}}
	} else {
		part = map[string]any{"text": tn.text}
	}
	return js(map[string]any{"candidates": []any{map[string]any{"content": map[string]any{"parts": []any{part}, "role": "model"},
		"finishReason": "STOP", "index": 0}},
		"usageMetadata": map[string]any{"promptTokenCount": 100, "candidatesTokenCount": 20, "totalTokenCount": 120}})
}
