package stdlib

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/schema"
)

// chatRequest is what the stand-in endpoint receives.
type chatRequest struct {
	Auth           string
	Path           string
	Model          string
	ResponseFormat json.RawMessage `json:"response_format"`
	Messages       []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
}

// chatServer is an OpenAI-compatible stand-in: reply decides each answer
// (status, body) from the request.
func chatServer(t *testing.T, reply func(w http.ResponseWriter, r *http.Request, req chatRequest)) (*httptest.Server, chan chatRequest) {
	t.Helper()
	seen := make(chan chatRequest, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req chatRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "bad request body", http.StatusBadRequest)
			return
		}
		req.Auth, req.Path = r.Header.Get("Authorization"), r.URL.Path
		seen <- req
		reply(w, r, req)
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

func chatJSON(content string) string {
	return `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":` +
		jsonString(content) + `},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}`
}

func openAIAgent(base string, key bool) *ir.Agent {
	ag := &ir.Agent{Name: "local", OpenAI: &ir.OpenAI{BaseURL: ex(`"` + base + `/v1/"`), Model: ex(`"local-model"`)}}
	if key {
		ag.OpenAI.APIKey = ex("key")
	}
	return ag
}

func TestOpenAIText(t *testing.T) {
	t.Parallel()
	srv, seen := chatServer(t, func(w http.ResponseWriter, _ *http.Request, req chatRequest) {
		w.Write([]byte(chatJSON("Echo: " + req.Messages[0].Content + " (key sk-secret-1)")))
	})
	a, rec := agentAttempt(t, openAIAgent(srv.URL, true), "Summarize ${x}.", nil, map[string]any{"x": "this", "key": "sk-secret-1"})
	out, err := run(t, Config{}, a)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"text": "Echo: Summarize this. (key sk-secret-1)", "session_id": "chatcmpl-1"}, out); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	req := <-seen
	if req.Path != "/v1/chat/completions" || req.Auth != "Bearer sk-secret-1" || req.Model != "local-model" ||
		len(req.Messages) != 1 || req.Messages[0].Role != "user" || req.Messages[0].Content != "Summarize this." {
		t.Errorf("request = %+v", req)
	}
	if _, known := a.Secrets.Find("sk-secret-1"); !known {
		t.Error("the API key is not among the run's secrets")
	}
	r := rec.kinds("AgentReply")
	if len(r) != 1 || r[0]["text"] != "Echo: Summarize this. (key ***)" || r[0]["input_tokens"] != int64(12) || r[0]["output_tokens"] != int64(5) {
		t.Errorf("AgentReply = %v", r)
	}
	for _, e := range rec.events {
		if b, _ := json.Marshal(e.Data); strings.Contains(string(b), "sk-secret-1") {
			t.Errorf("event %s leaks the API key: %s", e.Kind, b)
		}
	}
}

func TestOpenAIResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		body    string
		key     bool
		want    any
		wantErr *runtime.StepError // Kind, Status, Retry compared
		inMsg   string
	}{
		{name: "content parts", status: 200, body: `{"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}}]}`,
			want: map[string]any{"text": "ab", "session_id": ""}},
		{name: "no key, no auth header", status: 200, body: chatJSON("ok"), want: map[string]any{"text": "ok", "session_id": "chatcmpl-1"}},
		{name: "cut at max_tokens", status: 200, body: `{"id":"c","choices":[{"message":{"content":"partial"},"finish_reason":"length"}]}`,
			wantErr: &runtime.StepError{Kind: ErrKindTruncated, Retry: true}, inMsg: `finish_reason "length"`},
		{name: "bad JSON", status: 200, body: `{"choices": [`, key: true,
			wantErr: &runtime.StepError{Kind: runtime.ErrKindAgent, Retry: true}, inMsg: "not JSON"},
		{name: "no choices", status: 200, body: `{"choices": []}`,
			wantErr: &runtime.StepError{Kind: runtime.ErrKindAgent, Retry: true}, inMsg: "no choices"},
		{name: "server error", status: 500, body: `{"error":{"message":"model crashed"}}`,
			wantErr: &runtime.StepError{Kind: ErrKindServer, Status: 500, Retry: true}, inMsg: "500 Internal Server Error: model crashed"},
		{name: "unauthorized", status: 401, body: `{"error":"bad key"}`, key: true,
			wantErr: &runtime.StepError{Kind: ErrKindAuth, Status: 401}, inMsg: "bad key"},
		{name: "rate limited", status: 429, body: `slow down`,
			wantErr: &runtime.StepError{Kind: ErrKindRateLimit, Status: 429, Retry: true}, inMsg: "slow down"},
		{name: "bad request", status: 400, body: `{"error":{"message":"unknown model"}}`,
			wantErr: &runtime.StepError{Kind: runtime.ErrKindHTTP, Status: 400}, inMsg: "unknown model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, seen := chatServer(t, func(w http.ResponseWriter, _ *http.Request, _ chatRequest) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			})
			a, _ := agentAttempt(t, openAIAgent(srv.URL, tt.key), "hi", nil, map[string]any{"key": "k"})
			out, err := run(t, Config{}, a)
			if req := <-seen; (req.Auth != "") != tt.key {
				t.Errorf("Authorization = %q with key %v", req.Auth, tt.key)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, out); diff != "" {
					t.Errorf("output (-want +got):\n%s", diff)
				}
				return
			}
			var se *runtime.StepError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v, want a StepError", err)
			}
			if se.Kind != tt.wantErr.Kind || se.Status != tt.wantErr.Status || se.Retry != tt.wantErr.Retry || !strings.Contains(se.Message, tt.inMsg) {
				t.Errorf("got %+v, want kind %q status %d retry %v, message with %q", se, tt.wantErr.Kind, tt.wantErr.Status, tt.wantErr.Retry, tt.inMsg)
			}
		})
	}
}

func TestOpenAIStructuredRetry(t *testing.T) {
	t.Parallel()
	typ := schema.ObjectOf(
		&schema.Field{Name: "score", Type: schema.FloatType},
		&schema.Field{Name: "tags", Type: schema.ListOf(schema.StringType), HasDefault: true, Default: []any{}},
	)
	srv, seen := chatServer(t, func(w http.ResponseWriter, _ *http.Request, req chatRequest) {
		if last := req.Messages[len(req.Messages)-1]; strings.Contains(last.Content, "previous reply was rejected") {
			// The re-ask continues the conversation: the task, the
			// rejected reply, then what was wrong with it.
			if len(req.Messages) != 3 || req.Messages[0].Content != "Rate it."+jsonInstruction(typ) ||
				req.Messages[1].Role != "assistant" || req.Messages[1].Content != `I think {"score": "high"}` {
				t.Errorf("the re-ask does not continue the conversation: %+v", req.Messages)
			}
			w.Write([]byte(chatJSON(`{"score": 0.5, "tags": null}`)))
			return
		}
		w.Write([]byte(chatJSON(`I think {"score": "high"}`)))
	})
	a, _ := agentAttempt(t, openAIAgent(srv.URL, false), "Rate it.", typ, nil)
	_, err := run(t, Config{}, a)
	if req := <-seen; string(req.ResponseFormat) != `{"json_schema":{"name":"output","schema":{"additionalProperties":false,"properties":{"score":{"type":"number"},"tags":{"anyOf":[{"items":{"type":"string"},"type":"array"},{"type":"null"}]}},"required":["score","tags"],"type":"object"},"strict":true},"type":"json_schema"}` {
		t.Errorf("response_format = %s", req.ResponseFormat)
	}
	se := runtime.AsStepError(err)
	if se.Kind != runtime.ErrKindValidation || !se.Retry || !strings.Contains(se.Message, `score: expected float, got string "high"`) {
		t.Fatalf("first attempt: got %+v", se)
	}
	a.Number, a.PrevError = 2, err
	out, err := run(t, Config{}, a)
	if err != nil {
		t.Fatal(err)
	}
	<-seen
	if diff := cmp.Diff(map[string]any{"score": 0.5, "tags": []any{}}, out); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

// TestOpenAISlow: a slow reply keeps the lease alive with heartbeats, and
// the step's timeout ends a reply that never comes.
func TestOpenAISlow(t *testing.T) {
	t.Parallel()
	beat := make(chan struct{}, 1)
	srv, _ := chatServer(t, func(w http.ResponseWriter, r *http.Request, req chatRequest) {
		if req.Messages[0].Content == "never" {
			<-r.Context().Done()
			return
		}
		select { // answer only once the client has heartbeated
		case <-beat:
			w.Write([]byte(chatJSON("late")))
		case <-r.Context().Done():
		}
	})
	cfg := Config{HeartbeatInterval: time.Millisecond}

	a, _ := agentAttempt(t, openAIAgent(srv.URL, false), "slow", nil, nil)
	a.HeartbeatFunc = func(string) {
		select {
		case beat <- struct{}{}:
		default:
		}
	}
	out, err := run(t, cfg, a)
	if err != nil || out.(map[string]any)["text"] != "late" {
		t.Errorf("slow reply: %v, %v", out, err)
	}

	a2, _ := agentAttempt(t, openAIAgent(srv.URL, false), "never", nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = Actions(cfg)["agent"].Run(ctx, a2)
	if se := runtime.AsStepError(err); se.Kind != runtime.ErrKindTimeout {
		t.Errorf("got %+v, want a timeout", se)
	}
}

// TestOpenAIKeyRedactedFromPrompt: the API key is a known secret before the
// prompt is logged, so a prompt that happens to contain it is redacted.
func TestOpenAIKeyRedactedFromPrompt(t *testing.T) {
	t.Parallel()
	srv, _ := chatServer(t, func(w http.ResponseWriter, _ *http.Request, _ chatRequest) {
		w.Write([]byte(chatJSON("ok")))
	})
	a, rec := agentAttempt(t, openAIAgent(srv.URL, true), "Token is ${key}.", nil, map[string]any{"key": "sk-in-prompt"})
	if _, err := run(t, Config{}, a); err != nil {
		t.Fatal(err)
	}
	if p := rec.kinds("AgentPrompt"); len(p) != 1 || p[0]["prompt"] != "Token is ***." {
		t.Errorf("AgentPrompt = %v", p)
	}
}
