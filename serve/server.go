// Package serve is smithc's HTTP server: a JSON API under /api/v1 and a
// web page to watch runs live, decide approvals, send signals, cancel,
// pause, resume and retry (docs/serve.md, docs/api.md).
//
// The server is a client of the runtime, like the CLI: every answer comes
// from the runtime's read model and every change goes through the
// runtime's commands, never through store rows.
//
// Security model: every request but the login page and the static assets
// needs the server's token, as a bearer header or as the HttpOnly,
// SameSite=Strict cookie the login page sets; every mutating request must
// also come from the page's own origin (net/http's CrossOriginProtection:
// Sec-Fetch-Site, then Origin against Host), so another site cannot make a
// logged-in browser act. The token is generated when none is given and is
// printed in the login URL, as Jupyter does.
package serve

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/schema"
)

// Options configure a Server.
type Options struct {
	// Token authenticates requests; "" generates one (see Server.Token).
	Token string
	// ReadOnly refuses every mutating request with 403.
	ReadOnly bool
	// Log receives one structured line per request; nil logs nothing.
	Log *slog.Logger
	// Registry is where /metrics reads from; nil makes a new one.
	Registry *prometheus.Registry
	// PollInterval is how often live streams look for new events (the
	// store is shared with other processes, so it is read, not pushed).
	// Zero means 250ms.
	PollInterval time.Duration
}

// Server serves the API and the page for one engine.
type Server struct {
	eng     *runtime.Engine
	opts    Options
	token   string
	mux     *http.ServeMux
	csrf    *http.CrossOriginProtection
	metrics *metrics
	// bg is the context of runs the server continues in the background
	// (a resume, a decision on a run no process holds); Close cancels it.
	bg     context.Context
	stopBG context.CancelFunc
	bgRuns sync.WaitGroup
}

// New returns a server over eng.
func New(eng *runtime.Engine, opts Options) (*Server, error) {
	if opts.Token == "" {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("serve: make a token: %w", err)
		}
		opts.Token = hex.EncodeToString(b)
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 250 * time.Millisecond
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	s := &Server{eng: eng, opts: opts, token: opts.Token, mux: http.NewServeMux(), csrf: http.NewCrossOriginProtection()}
	s.bg, s.stopBG = context.WithCancel(context.Background())
	s.metrics = newMetrics(opts.Registry, eng)
	s.routes()
	return s, nil
}

// Token is the token requests must carry.
func (s *Server) Token() string { return s.token }

// Close stops the runs the server continues in the background and waits
// (up to wait) for them to end cancelled, as after SIGTERM of `smithc
// run`: resumable by anyone. A run that has not ended by then is left to
// the lease rules (`smithc resume` continues it).
func (s *Server) Close(wait time.Duration) {
	s.stopBG()
	done := make(chan struct{})
	go func() { s.bgRuns.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
	}
}

// Handler is the whole server: access log, authentication, CSRF, routes.
func (s *Server) Handler() http.Handler { return s.logged(s.mux) }

// Loopback reports whether addr (host:port) binds only to the loopback
// interface; binding anywhere else requires an explicit token.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

const cookieName = "smithc_token"

// authorized reports whether r carries the token.
func (s *Server) authorized(r *http.Request) bool {
	got := ""
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		got = strings.TrimPrefix(h, "Bearer ")
	} else if c, err := r.Cookie(cookieName); err == nil {
		got = c.Value
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) == 1
}

// guard wraps an API handler: the token always, and for a mutating one
// the same-origin check and read-only mode.
func (s *Server) guard(mutating bool, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			writeError(w, http.StatusUnauthorized, "", "this server needs its token: open the login URL `smithc serve` printed, or send Authorization: Bearer TOKEN")
			return
		}
		if mutating {
			if err := s.csrf.Check(r); err != nil {
				writeError(w, http.StatusForbidden, "", "cross-origin request refused: changes are accepted only from the server's own page")
				return
			}
			if s.opts.ReadOnly {
				writeError(w, http.StatusForbidden, "", "the server runs with --read-only: nothing can be changed through it")
				return
			}
		}
		h(w, r)
	})
}

// login sets the token cookie from ?token= and sends the browser on to
// the page (or to ?next=, a path of this server).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	if tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) != 1 {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, loginPage)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: s.token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	next := r.URL.Query().Get("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

const loginPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>smithc — log in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/static/app.css"></head>
<body><main class="login"><h1>smithc</h1><form method="get" action="/login">
<label for="token">Token</label> <input id="token" name="token" type="password" autocomplete="off" required>
<button type="submit">Log in</button></form>
<p>The token is printed by <code>smithc serve</code> when it starts (or was given with <code>--token</code> / <code>SMITHC_TOKEN</code>).</p></main></body></html>`

// statusWriter records the status code for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Flush lets server-sent events through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.metrics.requests.WithLabelValues(r.Method, strconv.Itoa(sw.status)).Inc()
		if s.opts.Log != nil {
			s.opts.Log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", sw.status), slog.Int("bytes", sw.bytes),
				slog.Duration("duration", time.Since(start)), slog.String("remote", r.RemoteAddr))
		}
	})
}

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
	// Field is the path of the offending field of the request, if any
	// ("fields.reason", "data.count").
	Field string `json:"field,omitempty"`
}

func writeError(w http.ResponseWriter, status int, field, msg string) {
	writeJSON(w, status, apiError{Error: msg, Field: field})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// readJSON decodes a request body into v; unknown fields are an error so
// a misspelt field is not silently dropped.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	dec.UseNumber() // a value of any type (an approval's fields) keeps its integers exact
	err := dec.Decode(v)
	if err == nil {
		if _, more := dec.Token(); more != io.EOF {
			writeError(w, http.StatusBadRequest, "", "the request body must be one JSON object, with nothing after it")
			return false
		}
	}
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			writeError(w, http.StatusRequestEntityTooLarge, "", "the request body is larger than 4 MiB")
		case errors.Is(err, io.EOF):
			writeError(w, http.StatusBadRequest, "", "the request needs a JSON body")
		default:
			writeError(w, http.StatusBadRequest, "", "the request body is not valid JSON for this call: "+schema.JSONProblem(err))
		}
		return false
	}
	return true
}
