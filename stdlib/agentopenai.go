package stdlib

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
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
	} `json:"usage"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// openAIConfig is an OpenAI-compatible agent's evaluated settings.
type openAIConfig struct {
	baseURL, model, apiKey string
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
	return oc, nil
}

// askOpenAI sends the prompt as one user message to
// {base_url}/chat/completions.
func (g agentAction) askOpenAI(ctx context.Context, a *runtime.Attempt, name string, oc openAIConfig, prompt string) (agentReply, error) {
	base, model, key := oc.baseURL, oc.model, oc.apiKey
	payload := map[string]any{"messages": []any{map[string]any{"role": "user", "content": prompt}}}
	if model != "" {
		payload["model"] = model
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return agentReply{}, stepErr(runtime.ErrKindInternal, "agent %s: encoding the request: %v", name, err)
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
		return agentReply{}, requestError(ctx, req, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxChatResponseBytes))
	stop()
	if err != nil {
		return agentReply{}, requestError(ctx, req, fmt.Errorf("reading the response: %w", err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return agentReply{}, &runtime.StepError{
			Kind: runtime.ErrKindHTTP, Status: resp.StatusCode,
			Retry:   resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout,
			Message: fmt.Sprintf("agent %s: POST %s: %s%s", name, endpoint, resp.Status, errorDetail(raw)),
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
	return agentReply{
		Text:         contentText(cr.Choices[0].Message.Content),
		InputTokens:  cr.Usage.PromptTokens,
		OutputTokens: cr.Usage.CompletionTokens,
		SessionID:    cr.ID,
	}, nil
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
