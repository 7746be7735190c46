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
	"time"

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
	follow := true
	if v, err := evalArg(a, "follow_redirects"); err != nil {
		return nil, err
	} else if v != nil {
		b, ok := v.(bool)
		if !ok {
			return nil, stepErr(runtime.ErrKindExpr, "follow_redirects: expected a bool, got %s", schema.Describe(v))
		}
		follow = b
	}
	// Without a step timeout, the request gets the default one: the
	// heartbeats below show that smithc is alive, not that the server is
	// answering, so a stalled server is caught only by a timeout.
	var defaultTimeout time.Duration
	if a.Step.Timeout <= 0 {
		defaultTimeout = h.cfg.httpTimeout()
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
		req = req.WithContext(ctx)
	}
	a.Log("HTTPRequest", map[string]any{"method": req.Method, "url": req.URL.Redacted()})
	stop := keepAlive(a, h.cfg.heartbeatInterval(), "waiting for "+req.URL.Redacted())
	defer stop()
	client := *h.cfg.httpClient()
	client.CheckRedirect = redirectPolicy(follow, callerHeaders(a))
	resp, err := client.Do(req)
	if err != nil {
		var rr *redirectRefused
		if errors.As(err, &rr) {
			return nil, &runtime.StepError{Kind: runtime.ErrKindHTTP, Status: rr.status, Err: err,
				Message: fmt.Sprintf("%s %s: %s", req.Method, req.URL.Redacted(), rr.msg)}
		}
		err = requestError(ctx, req, err)
		if se := runtime.AsStepError(err); defaultTimeout > 0 && se.Kind == runtime.ErrKindTimeout {
			se.Message += fmt.Sprintf(" (no response within the default timeout of %s; set the step's timeout to change it)", defaultTimeout)
			return nil, se
		}
		return nil, err
	}
	defer resp.Body.Close()
	limit := h.cfg.maxHTTPBody()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	stop()
	if err != nil {
		err = requestError(ctx, req, fmt.Errorf("reading the response body: %w", err))
		if se := runtime.AsStepError(err); defaultTimeout > 0 && se.Kind == runtime.ErrKindTimeout {
			se.Message += fmt.Sprintf(" (the body did not arrive within the default timeout of %s; set the step's timeout to change it)", defaultTimeout)
			return nil, se
		}
		return nil, err
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

// maxRedirects is how many redirects a request follows (Go's default).
const maxRedirects = 10

// callerHeaders returns the names of the headers the step sets itself
// (its headers block), canonicalized.
func callerHeaders(a *runtime.Attempt) []string {
	var names []string
	for k := range a.Step.Maps["headers"] {
		names = append(names, http.CanonicalHeaderKey(k))
	}
	return names
}

// redirectPolicy returns the client's CheckRedirect: with follow false
// the redirect response is the result; a redirect from https to http is
// refused; once a redirect leaves the origin (scheme, host and port) of
// the first request, every header the step set (Authorization, API keys,
// cookies, anything in headers { }, and the Referer) is dropped from that
// request and all later ones. Go's own rule keeps custom headers across hosts and
// Authorization across a change of scheme or port.
func redirectPolicy(follow bool, caller []string) func(req *http.Request, via []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !follow {
			return http.ErrUseLastResponse
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		prev := via[len(via)-1]
		if prev.URL.Scheme == "https" && req.URL.Scheme != "https" {
			status := 0
			if req.Response != nil {
				status = req.Response.StatusCode
			}
			return &redirectRefused{status: status, msg: fmt.Sprintf("refusing a redirect from https to %s (%s): it would send the request unencrypted", req.URL.Scheme, req.URL.Redacted())}
		}
		left := false
		for _, r := range append(via[1:], req) {
			if !sameOrigin(via[0].URL, r.URL) {
				left = true
				break
			}
		}
		if left {
			for _, k := range caller {
				req.Header.Del(k)
			}
			// Go copies these from the first request under its own rule;
			// a caller may also have set them through headers { }.
			req.Header.Del("Authorization")
			req.Header.Del("Cookie")
			req.Header.Del("Proxy-Authorization")
			req.Header.Del("Referer") // the first URL may carry a token in its query
		}
		return nil
	}
}

// redirectRefused is a redirect the policy does not follow: the step
// fails with kind http, not retried (the server will answer the same).
type redirectRefused struct {
	status int
	msg    string
}

func (e *redirectRefused) Error() string { return e.msg }

// sameOrigin reports whether a and b have the same scheme, host and port
// (the port defaulted from the scheme).
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && effectivePort(a) == effectivePort(b)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
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
