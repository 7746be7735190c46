package stdlib

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
)

// echoServer answers every request with a JSON description of it, or with
// the status, content type and body the path asks for.
func echoServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/status/404":
			http.Error(w, "no such thing", http.StatusNotFound)
		case "/status/500":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/text":
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte(`{"looks":"like json"}`))
		case "/badjson":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"truncated":`))
		case "/problem":
			w.Header().Set("Content-Type", "application/problem+json")
			w.Write([]byte(`{"title":"x","status":3}`))
		case "/slow":
			<-r.Context().Done()
		default:
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Add("X-Multi", "a")
			w.Header().Add("X-Multi", "b")
			json.NewEncoder(w).Encode(map[string]any{
				"method": r.Method, "content_type": r.Header.Get("Content-Type"),
				"x_test": r.Header.Get("X-Test"), "body": string(body), "query": r.URL.RawQuery,
			})
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func httpStep(args map[string]string, headers map[string]string) *ir.Step {
	st := &ir.Step{Action: "http", Args: map[string]*ir.Expr{}, Maps: map[string]map[string]*ir.Expr{}}
	for k, v := range args {
		st.Args[k] = ex(v)
	}
	if headers != nil {
		st.Maps["headers"] = map[string]*ir.Expr{}
		for k, v := range headers {
			st.Maps["headers"][k] = ex(v)
		}
	}
	return st
}

func TestHTTPRequests(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	env := map[string]any{"base": srv.URL, "payload": map[string]any{"a": 1, "b": []any{"x"}}}
	tests := []struct {
		name     string
		args     map[string]string
		headers  map[string]string
		wantJSON any
	}{
		{"default GET", map[string]string{"url": `base + "/echo?q=1"`}, map[string]string{"X-Test": `"yes"`},
			map[string]any{"method": "GET", "content_type": "", "x_test": "yes", "body": "", "query": "q=1"}},
		{"JSON body", map[string]string{"method": `"post"`, "url": `base`, "body": `payload`}, nil,
			map[string]any{"method": "POST", "content_type": "application/json", "x_test": "", "body": `{"a":1,"b":["x"]}`, "query": ""}},
		{"string body as is", map[string]string{"method": `"PUT"`, "url": `base`, "body": `"raw text"`}, map[string]string{"Content-Type": `"text/csv"`},
			map[string]any{"method": "PUT", "content_type": "text/csv", "x_test": "", "body": "raw text", "query": ""}},
		{"header overrides JSON content type", map[string]string{"method": `"POST"`, "url": `base`, "body": `[1, 2]`}, map[string]string{"Content-Type": `"application/vnd.x+json"`},
			map[string]any{"method": "POST", "content_type": "application/vnd.x+json", "x_test": "", "body": "[1,2]", "query": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, rec := newAttempt(t, httpStep(tt.args, tt.headers), env)
			out, err := run(t, Config{}, a)
			if err != nil {
				t.Fatal(err)
			}
			m := out.(map[string]any)
			if m["status"] != int64(200) {
				t.Errorf("status = %v", m["status"])
			}
			if diff := cmp.Diff(tt.wantJSON, m["json"]); diff != "" {
				t.Errorf("json (-want +got):\n%s", diff)
			}
			var fromBody any
			if err := json.Unmarshal([]byte(m["body"].(string)), &fromBody); err != nil {
				t.Errorf("body is not the raw JSON: %v", err)
			}
			h := m["headers"].(map[string]any)
			if h["content-type"] != "application/json; charset=utf-8" || h["x-multi"] != "a, b" {
				t.Errorf("headers = %v", h)
			}
			if len(rec.kinds("HTTPRequest")) != 1 || len(rec.kinds("HTTPResponse")) != 1 {
				t.Errorf("events = %v", rec.events)
			}
		})
	}
}

func TestHTTPResponses(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	env := map[string]any{"base": srv.URL}
	tests := []struct {
		name      string
		path      string
		allow     string
		cfg       Config
		wantJSON  any
		wantBody  string
		wantErr   *runtime.StepError
		wantInMsg string
	}{
		{name: "text is not parsed", path: "/text", wantJSON: nil, wantBody: `{"looks":"like json"}`},
		{name: "bad JSON gives null", path: "/badjson", wantJSON: nil, wantBody: `{"truncated":`},
		{name: "+json is parsed", path: "/problem", wantJSON: map[string]any{"title": "x", "status": int64(3)}},
		{name: "404 fails", path: "/status/404", wantErr: &runtime.StepError{Kind: runtime.ErrKindHTTP, Status: 404}, wantInMsg: "404 Not Found"},
		{name: "404 allowed", path: "/status/404", allow: "[404, 410]", wantBody: "no such thing\n"},
		{name: "500 fails, retryable", path: "/status/500", allow: "[404]", wantErr: &runtime.StepError{Kind: runtime.ErrKindHTTP, Status: 500, Retry: true}},
		{name: "body over the cap", path: "/echo", cfg: Config{MaxHTTPBodyBytes: 10}, wantErr: &runtime.StepError{Kind: runtime.ErrKindHTTP, Status: 200}, wantInMsg: "larger than 10 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := map[string]string{"url": `base + "` + tt.path + `"`}
			if tt.allow != "" {
				args["allow_status"] = tt.allow
			}
			a, _ := newAttempt(t, httpStep(args, nil), env)
			out, err := run(t, tt.cfg, a)
			if tt.wantErr != nil {
				var se *runtime.StepError
				if !errors.As(err, &se) {
					t.Fatalf("error = %v, want a StepError", err)
				}
				if se.Kind != tt.wantErr.Kind || se.Status != tt.wantErr.Status || se.Retry != tt.wantErr.Retry {
					t.Errorf("got kind %q status %d retry %v, want %q %d %v", se.Kind, se.Status, se.Retry, tt.wantErr.Kind, tt.wantErr.Status, tt.wantErr.Retry)
				}
				if !strings.Contains(se.Message, tt.wantInMsg) {
					t.Errorf("message %q does not mention %q", se.Message, tt.wantInMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := out.(map[string]any)
			if diff := cmp.Diff(tt.wantJSON, m["json"]); diff != "" {
				t.Errorf("json (-want +got):\n%s", diff)
			}
			if tt.wantBody != "" && m["body"] != tt.wantBody {
				t.Errorf("body = %q, want %q", m["body"], tt.wantBody)
			}
		})
	}
}

func TestHTTPFailures(t *testing.T) {
	t.Parallel()
	srv := echoServer(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	t.Run("connection refused is network", func(t *testing.T) {
		t.Parallel()
		a, _ := newAttempt(t, httpStep(map[string]string{"url": `u`}, nil), map[string]any{"u": closedURL})
		_, err := run(t, Config{}, a)
		if se := runtime.AsStepError(err); se.Kind != runtime.ErrKindNetwork || !se.Retry {
			t.Errorf("got %+v, want a retryable network error", se)
		}
	})
	t.Run("step timeout", func(t *testing.T) {
		t.Parallel()
		a, _ := newAttempt(t, httpStep(map[string]string{"url": `u`}, nil), map[string]any{"u": srv.URL + "/slow"})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := Actions(Config{})["http"].Run(ctx, a)
		if se := runtime.AsStepError(err); se.Kind != runtime.ErrKindTimeout {
			t.Errorf("got %+v, want a timeout", se)
		}
	})
	bad := []struct {
		name    string
		args    map[string]string
		headers map[string]string
		want    string
	}{
		{"relative url", map[string]string{"url": `"/x"`}, nil, "not an absolute http or https URL"},
		{"file url", map[string]string{"url": `"file:///etc/passwd"`}, nil, "not an absolute http or https URL"},
		{"bad method", map[string]string{"url": `u`, "method": `"GE T"`}, nil, "invalid method"},
		{"header with newline", map[string]string{"url": `u`}, map[string]string{"X-A": `"a\r\nX-B: b"`}, "line breaks"},
		{"allow_status not ints", map[string]string{"url": `u`, "allow_status": `["404"]`}, nil, "expected an int"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, _ := newAttempt(t, httpStep(tt.args, tt.headers), map[string]any{"u": srv.URL})
			_, err := run(t, Config{}, a)
			se := runtime.AsStepError(err)
			if se == nil || se.Kind != runtime.ErrKindExpr || se.Retry || !strings.Contains(se.Message, tt.want) {
				t.Errorf("got %+v, want a non-retryable expr error mentioning %q", se, tt.want)
			}
		})
	}
}
