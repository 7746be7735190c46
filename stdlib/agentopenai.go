package stdlib

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/schema"
)

// maxChatResponseBytes caps the chat completion response an agent reads.
const maxChatResponseBytes = 32 << 20

// chatResponse is the part of an OpenAI chat completion response smithc
// reads.
type chatResponse struct {
	ID      string `json:"id"`
	Choices []struct {
		Message struct {
			Content json.RawMessage `json:"content"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int64 `json:"prompt_tokens"`
		CompletionTokens int64 `json:"completion_tokens"`
		PromptDetails    struct {
			CachedTokens int64 `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
	} `json:"usage"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// openAIConfig is an OpenAI-compatible agent's evaluated settings.
type openAIConfig struct {
	baseURL, model, apiKey, system string
	temperature                    *float64
	maxTokens                      int
	timeout                        time.Duration
}

// resolveOpenAI evaluates an agent's openai block and records its API key
// as a secret of the attempt.
func resolveOpenAI(a *runtime.Attempt, ag *ir.Agent) (openAIConfig, error) {
	var oc openAIConfig
	var err error
	name := ag.Name
	if oc.apiKey, err = evalExprString(a, "agent "+name+" api_key", ag.OpenAI.APIKey); err != nil {
		return oc, err
	}
	// A key read with secret() is among the run's secrets already (and was
	// refused at run start if too short); one read with env() is added
	// here, unless it is too short to hide.
	_ = a.AddSecret(oc.apiKey)
	if oc.baseURL, err = evalExprString(a, "agent "+name+" base_url", ag.OpenAI.BaseURL); err != nil {
		return oc, err
	}
	if oc.baseURL == "" {
		return oc, stepErr(runtime.ErrKindAgent, "agent %s: base_url is empty", name)
	}
	if oc.model, err = evalExprString(a, "agent "+name+" model", ag.OpenAI.Model); err != nil {
		return oc, err
	}
	if oc.system, err = evalExprString(a, "agent "+name+" system", ag.OpenAI.System); err != nil {
		return oc, err
	}
	oc.temperature, oc.maxTokens, oc.timeout = ag.OpenAI.Temperature, ag.OpenAI.MaxTokens, ag.OpenAI.Timeout
	return oc, nil
}

// askOpenAI sends the prompt as a user message (after the system message
// and, for a re-ask, the conversation so far) to {base_url}/chat/completions.
// With a declared output whose schema can be strict, it asks for it with
// response_format json_schema.
func (g agentAction) askOpenAI(ctx context.Context, a *runtime.Attempt, name string, oc openAIConfig, prompt string, want *schema.Type, history []any) (agentReply, error) {
	base, model, key := oc.baseURL, oc.model, oc.apiKey
	var messages []any
	if len(history) > 0 {
		messages = append(messages, history...)
	} else if oc.system != "" {
		messages = append(messages, map[string]any{"role": "system", "content": oc.system})
	}
	messages = append(messages, map[string]any{"role": "user", "content": prompt})
	payload := map[string]any{"messages": messages}
	if model != "" {
		payload["model"] = model
	}
	if oc.temperature != nil {
		payload["temperature"] = *oc.temperature
	}
	if oc.maxTokens > 0 {
		payload["max_tokens"] = oc.maxTokens
	}
	if want != nil {
		if doc, ok := strictSchema(agentFacing(want)); ok {
			payload["response_format"] = map[string]any{"type": "json_schema",
				"json_schema": map[string]any{"name": "output", "strict": true, "schema": json.RawMessage(doc)}}
		}
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return agentReply{}, stepErr(runtime.ErrKindInternal, "agent %s: encoding the request: %v", name, err)
	}
	parent := ctx
	if oc.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, oc.timeout)
		defer cancel()
	}
	endpoint := strings.TrimRight(base, "/") + "/chat/completions"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return agentReply{}, stepErr(runtime.ErrKindAgent, "agent %s: bad base_url %q: %v", name, base, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}

	stop := keepAlive(a, g.cfg.heartbeatInterval(), "waiting for agent "+name)
	resp, err := g.cfg.httpClient().Do(req)
	if err != nil {
		stop()
		if oc.timeout > 0 && parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return agentReply{}, &runtime.StepError{Kind: runtime.ErrKindTimeout, Retry: true, Err: err,
				Message: fmt.Sprintf("agent %s: POST %s: no response within the agent's timeout of %s", name, endpoint, oc.timeout)}
		}
		return agentReply{}, requestError(ctx, req, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxChatResponseBytes))
	stop()
	if err != nil {
		return agentReply{}, requestError(ctx, req, fmt.Errorf("reading the response: %w", err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		kind := runtime.ErrKindHTTP
		switch {
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			kind = ErrKindAuth
		case resp.StatusCode == http.StatusTooManyRequests:
			kind = ErrKindRateLimit
		case resp.StatusCode >= 500:
			kind = ErrKindServer
		}
		msg := fmt.Sprintf("agent %s: POST %s: %s%s", name, endpoint, resp.Status, errorDetail(raw))
		if ra := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ra > 0 {
			msg += fmt.Sprintf(" (the server asks to retry after %s)", ra)
			if err := sleepCtx(ctx, min(ra, maxRetryAfter)); err != nil {
				return agentReply{}, requestError(ctx, req, err)
			}
		}
		return agentReply{}, &runtime.StepError{
			Kind: kind, Status: resp.StatusCode,
			Retry:   resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout,
			Message: msg,
		}
	}
	var cr chatResponse
	if err := json.Unmarshal(raw, &cr); err != nil {
		return agentReply{}, &runtime.StepError{Kind: runtime.ErrKindAgent, Retry: true, Err: err,
			Message: fmt.Sprintf("agent %s: the response is not JSON: %v", name, err)}
	}
	if cr.Error != nil && len(cr.Choices) == 0 {
		return agentReply{}, &runtime.StepError{Kind: runtime.ErrKindAgent, Retry: true,
			Message: fmt.Sprintf("agent %s: %s", name, cr.Error.Message)}
	}
	if len(cr.Choices) == 0 {
		return agentReply{}, &runtime.StepError{Kind: runtime.ErrKindAgent, Retry: true,
			Message: fmt.Sprintf("agent %s: the response has no choices", name)}
	}
	text := contentText(cr.Choices[0].Message.Content)
	reply := agentReply{
		Text:         text,
		InputTokens:  cr.Usage.PromptTokens,
		OutputTokens: cr.Usage.CompletionTokens,
		CacheRead:    cr.Usage.PromptDetails.CachedTokens,
		SessionID:    cr.ID,
		Turns:        1,
		Messages:     append(messages, map[string]any{"role": "assistant", "content": text}),
	}
	if cr.Choices[0].FinishReason == "length" {
		return reply, &runtime.StepError{Kind: ErrKindTruncated, Retry: true,
			Message: fmt.Sprintf("agent %s: the reply was cut at the token limit (finish_reason \"length\"); raise max_tokens or ask for less", name)}
	}
	return reply, nil
}

// maxRetryAfter bounds how long one attempt waits for a Retry-After.
const maxRetryAfter = 5 * time.Minute

// retryAfter parses a Retry-After header: seconds, or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(h); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// contentText reads a message content that is a string, null, or a list
// of parts ({"type":"text","text":...}).
func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		return b.String()
	}
	return ""
}

// errorDetail extracts a short error message from an error response.
func errorDetail(raw []byte) string {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &e) == nil && len(e.Error) > 0 {
		var obj struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(e.Error, &obj) == nil && obj.Message != "" {
			return ": " + firstLine(obj.Message)
		}
		var s string
		if json.Unmarshal(e.Error, &s) == nil && s != "" {
			return ": " + firstLine(s)
		}
	}
	if t := firstLine(string(raw)); t != "" {
		return ": " + t
	}
	return ""
}

// keepAlive heartbeats every interval until stop is called, for work that
// produces no output to heartbeat from (a request in flight).
func keepAlive(a *runtime.Attempt, interval time.Duration, detail string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				a.Heartbeat(detail)
			}
		}
	}()
	return func() {
		select {
		case <-done:
		default:
			close(done)
			<-finished
		}
	}
}
