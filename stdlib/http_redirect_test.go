package stdlib

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smithc/smithc/runtime"
)

// headerRecorder is a server that records the headers of every request
// it gets and answers 200.
type headerRecorder struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []http.Header
}

func newHeaderRecorder(t *testing.T, tls bool) *headerRecorder {
	t.Helper()
	h := &headerRecorder{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.got = append(h.got, r.Header.Clone())
		h.mu.Unlock()
		w.Write([]byte("ok"))
	})
	if tls {
		h.srv = httptest.NewTLSServer(handler)
	} else {
		h.srv = httptest.NewServer(handler)
	}
	t.Cleanup(h.srv.Close)
	return h
}

func (h *headerRecorder) requests() []http.Header {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]http.Header(nil), h.got...)
}

// redirector answers every request with a redirect to target(path).
func redirector(t *testing.T, tls bool, status int, target func(r *http.Request) string) *httptest.Server {
	t.Helper()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/final" {
			w.Write([]byte("final " + r.Header.Get("X-Api-Key")))
			return
		}
		http.Redirect(w, r, target(r), status)
	})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(handler)
	} else {
		srv = httptest.NewServer(handler)
	}
	t.Cleanup(srv.Close)
	return srv
}

var secretHeaders = map[string]string{
	"X-Api-Key":     `"key-123"`,
	"Authorization": `"Bearer tok-456"`,
	"Cookie":        `"session=abc"`,
}

// TestHTTPRedirectToAnotherOriginDropsCallerHeaders: a redirect to
// another port or another host gets none of the headers the step set;
// a redirect within the origin keeps them.
func TestHTTPRedirectToAnotherOriginDropsCallerHeaders(t *testing.T) {
	t.Parallel()
	other := newHeaderRecorder(t, false)
	for name, target := range map[string]func(r *http.Request) string{
		"another port": func(*http.Request) string { return other.srv.URL + "/landing" },
		"another host": func(r *http.Request) string {
			return strings.Replace(other.srv.URL, "127.0.0.1", "localhost", 1) + "/landing"
		},
	} {
		t.Run(name, func(t *testing.T) {
			before := len(other.requests())
			from := redirector(t, false, http.StatusFound, target)
			a, _ := newAttempt(t, httpStep(map[string]string{"url": `u`}, secretHeaders), map[string]any{"u": from.URL + "/start"})
			if _, err := run(t, Config{}, a); err != nil {
				t.Fatal(err)
			}
			got := other.requests()
			if len(got) != before+1 {
				t.Fatalf("the other server got %d requests, want 1", len(got)-before)
			}
			for k := range secretHeaders {
				if v := got[len(got)-1].Get(k); v != "" {
					t.Errorf("%s followed the redirect to %s: %q", k, name, v)
				}
			}
		})
	}
	t.Run("same origin keeps them", func(t *testing.T) {
		var srv *httptest.Server
		srv = redirector(t, false, http.StatusFound, func(*http.Request) string { return srv.URL + "/final" })
		a, _ := newAttempt(t, httpStep(map[string]string{"url": `u`}, secretHeaders), map[string]any{"u": srv.URL + "/start"})
		out, err := run(t, Config{}, a)
		if err != nil {
			t.Fatal(err)
		}
		if body := out.(map[string]any)["body"]; body != "final key-123" {
			t.Errorf("same-origin redirect: body %q, want the key kept", body)
		}
	})
}

// TestHTTPRedirectFromHTTPSToHTTPIsRefused: an https server redirecting
// to plain http fails the step (not retried), and the plain server never
// sees the request or its Authorization header.
func TestHTTPRedirectFromHTTPSToHTTPIsRefused(t *testing.T) {
	t.Parallel()
	plain := newHeaderRecorder(t, false)
	secure := redirector(t, true, http.StatusMovedPermanently, func(*http.Request) string { return plain.srv.URL + "/landing" })
	a, _ := newAttempt(t, httpStep(map[string]string{"url": `u`}, secretHeaders), map[string]any{"u": secure.URL + "/start"})
	_, err := run(t, Config{HTTPClient: secure.Client()}, a)
	se := runtime.AsStepError(err)
	if se == nil || se.Kind != runtime.ErrKindHTTP || se.Retry || se.Status != http.StatusMovedPermanently || !strings.Contains(se.Message, "https to http") {
		t.Fatalf("got %+v, want a non-retryable http error naming the downgrade", se)
	}
	if n := len(plain.requests()); n != 0 {
		t.Errorf("the plain http server got %d requests", n)
	}

	// https → https on another port is followed, without the headers.
	other := newHeaderRecorder(t, true)
	secure2 := redirector(t, true, http.StatusFound, func(*http.Request) string { return other.srv.URL + "/landing" })
	a, _ = newAttempt(t, httpStep(map[string]string{"url": `u`}, secretHeaders), map[string]any{"u": secure2.URL + "/start"})
	if _, err := run(t, Config{HTTPClient: secure2.Client()}, a); err != nil {
		t.Fatal(err)
	}
	got := other.requests()
	if len(got) != 1 || got[0].Get("Authorization") != "" || got[0].Get("X-Api-Key") != "" {
		t.Errorf("https redirect to another port: requests %v", got)
	}
}

// TestHTTPFollowRedirectsFalse: the redirect response is the step's
// result (a failure unless allowed) and the target is never asked.
func TestHTTPFollowRedirectsFalse(t *testing.T) {
	t.Parallel()
	target := newHeaderRecorder(t, false)
	from := redirector(t, false, http.StatusFound, func(*http.Request) string { return target.srv.URL + "/landing" })
	env := map[string]any{"u": from.URL + "/start"}

	a, _ := newAttempt(t, httpStep(map[string]string{"url": `u`, "follow_redirects": `false`, "allow_status": `[302]`}, nil), env)
	out, err := run(t, Config{}, a)
	if err != nil {
		t.Fatal(err)
	}
	m := out.(map[string]any)
	if m["status"] != int64(302) || m["headers"].(map[string]any)["location"] != target.srv.URL+"/landing" {
		t.Errorf("output %v, want the 302 with its location", m)
	}

	a, _ = newAttempt(t, httpStep(map[string]string{"url": `u`, "follow_redirects": `false`}, nil), env)
	_, err = run(t, Config{}, a)
	if se := runtime.AsStepError(err); se == nil || se.Kind != runtime.ErrKindHTTP || se.Status != 302 {
		t.Errorf("a 302 not allowed: %+v, want an http failure", se)
	}
	if n := len(target.requests()); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}

// TestHTTPDefaultTimeout: a step without a timeout is bounded by the
// default one, which the message names; a step with its own timeout is
// not.
func TestHTTPDefaultTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stall" {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		time.Sleep(300 * time.Millisecond)
		w.Write([]byte("late"))
	}))
	t.Cleanup(func() { close(release); srv.Close() })

	a, _ := newAttempt(t, httpStep(map[string]string{"url": `u`}, nil), map[string]any{"u": srv.URL + "/stall"})
	_, err := run(t, Config{HTTPTimeout: 100 * time.Millisecond}, a)
	if se := runtime.AsStepError(err); se == nil || se.Kind != runtime.ErrKindTimeout || !strings.Contains(se.Message, "default timeout of 100ms") {
		t.Fatalf("stalled server: %+v, want a timeout naming the default", se)
	}

	step := httpStep(map[string]string{"url": `u`}, nil)
	step.Timeout = time.Minute
	a, _ = newAttempt(t, step, map[string]any{"u": srv.URL + "/late"})
	out, err := run(t, Config{HTTPTimeout: 50 * time.Millisecond}, a)
	if err != nil {
		t.Fatalf("a step with its own timeout got the default one: %v", err)
	}
	if out.(map[string]any)["body"] != "late" {
		t.Errorf("output %v", out)
	}
}
