package stdlib

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/schema"
)

// httpAction sends `http { method, url, headers {...}, body }`.
type httpAction struct{ cfg Config }

// Run implements runtime.Action.
func (h httpAction) Run(ctx context.Context, a *runtime.Attempt) (any, error) {
	req, err := buildRequest(ctx, a)
	if err != nil {
		return nil, err
	}
	allowed, err := allowedStatuses(a)
	if err != nil {
		return nil, err
	}
	a.Log("HTTPRequest", map[string]any{"method": req.Method, "url": req.URL.Redacted()})
	stop := keepAlive(a, h.cfg.heartbeatInterval(), "waiting for "+req.URL.Redacted())
	defer stop()
	resp, err := h.cfg.httpClient().Do(req)
	if err != nil {
		return nil, requestError(ctx, req, err)
	}
	defer resp.Body.Close()
	limit := h.cfg.maxHTTPBody()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	stop()
	if err != nil {
		return nil, requestError(ctx, req, fmt.Errorf("reading the response body: %w", err))
	}
	if int64(len(body)) > limit {
		return nil, &runtime.StepError{Kind: runtime.ErrKindHTTP, Status: resp.StatusCode,
			Message: fmt.Sprintf("%s %s: response body is larger than %d bytes", req.Method, req.URL.Redacted(), limit)}
	}
	out := map[string]any{
		"status":  int64(resp.StatusCode),
		"headers": responseHeaders(resp.Header),
		"body":    string(body),
		"json":    parseJSONBody(resp.Header.Get("Content-Type"), body),
	}
	a.Log("HTTPResponse", map[string]any{"status": int64(resp.StatusCode), "bytes": int64(len(body))})
	if (resp.StatusCode < 200 || resp.StatusCode > 299) && !allowed[resp.StatusCode] {
		return nil, &runtime.StepError{
			Kind: runtime.ErrKindHTTP, Status: resp.StatusCode, Output: out,
			Retry:   resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout,
			Message: fmt.Sprintf("%s %s: %s", req.Method, req.URL.Redacted(), resp.Status),
		}
	}
	return out, nil
}

// buildRequest evaluates the http block.
func buildRequest(ctx context.Context, a *runtime.Attempt) (*http.Request, error) {
	method, err := evalString(a, "method", http.MethodGet)
	if err != nil {
		return nil, err
	}
	method = strings.ToUpper(strings.TrimSpace(method))
	if method == "" || strings.ContainsAny(method, " \t\r\n") {
		return nil, stepErr(runtime.ErrKindExpr, "http: invalid method %q", method)
	}
	rawURL, err := evalString(a, "url", "")
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, stepErr(runtime.ErrKindExpr, "http: url %q is not an absolute http or https URL", rawURL)
	}
	body, contentType, err := requestBody(a)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, stepErr(runtime.ErrKindExpr, "http: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	headers := a.Step.Maps["headers"]
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v, err := a.Eval(headers[k])
		if err != nil {
			return nil, evalErr("headers."+k, err)
		}
		s, err := scalarString(v)
		if err != nil {
			return nil, stepErr(runtime.ErrKindExpr, "headers.%s: %v", k, err)
		}
		if strings.ContainsAny(s, "\r\n\x00") {
			return nil, stepErr(runtime.ErrKindExpr, "headers.%s: header values cannot contain line breaks or NUL bytes", k)
		}
		req.Header.Set(k, s)
	}
	return req, nil
}

// requestBody evaluates body: a string is sent as it is, any other value
// as JSON (with content-type application/json), null as no body.
func requestBody(a *runtime.Attempt) (io.Reader, string, error) {
	v, err := evalArg(a, "body")
	if err != nil || v == nil {
		return nil, "", err
	}
	if s, ok := v.(string); ok {
		return strings.NewReader(s), "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, "", stepErr(runtime.ErrKindExpr, "http: body cannot be encoded as JSON: %v", err)
	}
	return bytes.NewReader(b), "application/json", nil
}

// allowedStatuses evaluates allow_status = [404, ...].
func allowedStatuses(a *runtime.Attempt) (map[int]bool, error) {
	v, err := evalArg(a, "allow_status")
	if err != nil || v == nil {
		return nil, err
	}
	l, ok := v.([]any)
	if !ok {
		return nil, stepErr(runtime.ErrKindExpr, "allow_status: expected a list of status codes, got %s", schema.Describe(v))
	}
	out := map[int]bool{}
	for i, e := range l {
		var n int
		switch x := e.(type) {
		case int:
			n = x
		case int64:
			n = int(x)
		case float64:
			n = int(x)
		default:
			return nil, stepErr(runtime.ErrKindExpr, "allow_status[%d]: expected an int, got %s", i, schema.Describe(e))
		}
		out[n] = true
	}
	return out, nil
}

// requestError classifies a failed round trip.
func requestError(ctx context.Context, req *http.Request, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		se := runtime.AsStepError(ctxErr)
		se.Message = fmt.Sprintf("%s %s: %v", req.Method, req.URL.Redacted(), ctxErr)
		return se
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &runtime.StepError{Kind: runtime.ErrKindNetwork, Retry: true, Err: err,
		Message: fmt.Sprintf("%s %s: %v", req.Method, req.URL.Redacted(), err)}
}

// responseHeaders lower-cases header names and joins repeated values with
// ", ".
func responseHeaders(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	for k, vs := range h {
		out[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	return out
}

// parseJSONBody decodes body when the content type is JSON (application/json
// or any +json type); otherwise, or when it does not parse, it is nil.
func parseJSONBody(contentType string, body []byte) any {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || !(mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	v, err := schema.DecodeJSON(body)
	if err != nil {
		return nil
	}
	return v
}
