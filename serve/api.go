package serve

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

//go:embed web
var webFS embed.FS

func (s *Server) routes() {
	static, _ := fs.Sub(webFS, "web")
	files := http.FileServerFS(static)
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", files))
	s.mux.HandleFunc("GET /login", s.login)
	s.mux.Handle("GET /{$}", s.page())
	s.mux.Handle("GET /metrics", s.guard(false, s.metrics.handler().ServeHTTP))

	s.mux.Handle("GET /api/v1/runs", s.guard(false, s.listRuns))
	s.mux.Handle("POST /api/v1/runs", s.guard(true, s.startRun))
	s.mux.Handle("GET /api/v1/workflows", s.guard(false, s.listWorkflows))
	s.mux.Handle("GET /api/v1/stream", s.guard(false, s.streamRuns))
	s.mux.Handle("GET /api/v1/runs/{id}", s.guard(false, s.getRun))
	s.mux.Handle("GET /api/v1/runs/{id}/events", s.guard(false, s.listEvents))
	s.mux.Handle("GET /api/v1/runs/{id}/stream", s.guard(false, s.streamEvents))
	s.mux.Handle("GET /api/v1/runs/{id}/graph", s.guard(false, s.graph))
	s.mux.Handle("POST /api/v1/runs/{id}/approvals/{node}/approve", s.guard(true, s.decide(true)))
	s.mux.Handle("POST /api/v1/runs/{id}/approvals/{node}/deny", s.guard(true, s.decide(false)))
	s.mux.Handle("POST /api/v1/runs/{id}/signals/{name}", s.guard(true, s.signal))
	s.mux.Handle("POST /api/v1/runs/{id}/cancel", s.guard(true, s.cancel))
	s.mux.Handle("POST /api/v1/runs/{id}/pause", s.guard(true, s.pause))
	s.mux.Handle("POST /api/v1/runs/{id}/resume", s.guard(true, s.resume))
	s.mux.Handle("POST /api/v1/runs/{id}/nodes/{node}/retry", s.guard(true, s.retry))
	s.mux.Handle("POST /api/v1/runs/{id}/fork", s.guard(true, s.fork))
	s.mux.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "", fmt.Sprintf("no API call %s %s (see docs/api.md)", r.Method, r.URL.Path))
	}))
}

// page serves the single page; without the token it sends the browser to
// the login page.
func (s *Server) page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		b, err := webFS.ReadFile("web/index.html")
		if err != nil {
			http.Error(w, "page missing from the build", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
		w.Write(b)
	})
}

// fail answers an error from the runtime with the status a REST user
// expects, and the message without the layers' prefixes. A run the
// store does not have is said as the CLI says it, once ("no run \"x\""),
// not as the layers' messages repeat it.
func fail(w http.ResponseWriter, r *http.Request, err error) {
	var br *badRequest
	msg := userMessage(err)
	switch {
	case errors.As(err, &br):
		writeError(w, http.StatusBadRequest, br.field, br.msg)
	case errors.Is(err, runtime.ErrInvalidDecision), errors.Is(err, runtime.ErrInvalidSignal), errors.Is(err, runtime.ErrInvalidRunID):
		writeError(w, http.StatusBadRequest, fieldOf(msg), msg)
	case errors.Is(err, store.ErrNotFound) && !errors.Is(err, runtime.ErrUnknownNode) && r.PathValue("id") != "":
		writeError(w, http.StatusNotFound, "", fmt.Sprintf("no run %q (GET /api/v1/runs lists the runs)", r.PathValue("id")))
	case errors.Is(err, store.ErrNotFound), errors.Is(err, runtime.ErrUnknownNode):
		writeError(w, http.StatusNotFound, "", msg)
	case errors.Is(err, store.ErrConflict), errors.Is(err, runtime.ErrRunLive), errors.Is(err, runtime.ErrExpired), errors.Is(err, runtime.ErrRunFinished):
		writeError(w, http.StatusConflict, "", msg)
	case errors.Is(err, store.ErrUnavailable):
		writeError(w, http.StatusServiceUnavailable, "", msg)
	default:
		writeError(w, http.StatusInternalServerError, "", msg)
	}
}

// userMessage is err's message without the layers' package prefixes
// (runtime.UserText).
func userMessage(err error) string { return runtime.UserText(err.Error()) }

// fieldOf finds the field path a validation message names: the word
// before the first ": " that looks like a path (fields.x, data.a[2]).
func fieldOf(msg string) string {
	for _, part := range strings.Split(msg, ": ") {
		if strings.ContainsAny(part, " \t\"") || part == "" {
			continue
		}
		if strings.Contains(part, ".") || strings.Contains(part, "[") {
			return part
		}
	}
	return ""
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, offset := 50, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeError(w, http.StatusBadRequest, "limit", "limit must be a whole number from 1 to 500")
			return
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "offset", "offset must be a whole number, 0 or more")
			return
		}
		offset = n
	}
	runs, more, err := s.runList(r.Context(), listFilter{Status: q.Get("status"), Workflow: q.Get("workflow"),
		Parent: q.Get("parent"), Offset: offset, Limit: limit})
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": runs, "more": more})
}

// defaultNodePage is how many node instances GET /runs/{id} returns from
// each end of the run's node table unless ?nodes= says otherwise: a loop
// of 10⁵ iterations answered 55 MB of JSON in 2.5-3.3 s, and the page
// asks again after every burst of events.
const defaultNodePage = 100

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := runtime.InspectParams{Head: defaultNodePage, Tail: defaultNodePage, Node: q.Get("node")}
	switch v := q.Get("nodes"); v {
	case "":
	case "all":
		p.Head, p.Tail = 0, 0
	default:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 {
			writeError(w, http.StatusBadRequest, "nodes", "nodes must be a whole number from 1 to 100000 (instances from each end of the node table), or all")
			return
		}
		p.Head, p.Tail = n, n
	}
	d, err := s.runDetail(r.Context(), r.PathValue("id"), p)
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, limit := int64(0), 500
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "after", "after must be an event sequence number (0 or more)")
			return
		}
		after = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 5000 {
			writeError(w, http.StatusBadRequest, "limit", "limit must be a whole number from 1 to 5000")
			return
		}
		limit = n
	}
	evs, err := s.eventPage(r.Context(), r.PathValue("id"), after, limit)
	if err != nil {
		fail(w, r, err)
		return
	}
	last := after
	if len(evs) > 0 {
		last = evs[len(evs)-1].Seq
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs, "last": last, "more": len(evs) == limit})
}

func (s *Server) graph(w http.ResponseWriter, r *http.Request) {
	_, wf, err := s.eng.RunProgram(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-store")
	ir.SVG(w, wf)
}

type decideBody struct {
	Scope  string         `json:"scope"`
	Note   string         `json:"note"`
	By     string         `json:"by"`
	Fields map[string]any `json:"fields"`
}

func (s *Server) decide(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b decideBody
		if !readJSON(w, r, &b) {
			return
		}
		if b.By == "" {
			b.By = "web"
		}
		d := runtime.Decision{By: b.By, Note: b.Note, Data: b.Fields, Scope: b.Scope}
		var res *runtime.Result
		var err error
		id, node := r.PathValue("id"), r.PathValue("node")
		if approve {
			res, err = s.eng.Approve(r.Context(), id, node, d, false)
		} else {
			res, err = s.eng.Deny(r.Context(), id, node, d, false)
		}
		if errors.Is(err, runtime.ErrInvalidDecision) {
			// The runtime names the field by the approval's id
			// (ship.channel); in this request it is fields.channel.
			msg := userMessage(err)
			field := fieldOf(msg)
			if rest, ok := strings.CutPrefix(field, node+"."); ok {
				field = "fields." + rest
			}
			writeError(w, http.StatusBadRequest, field, msg)
			return
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		s.continueInBackground(id, res)
		writeJSON(w, http.StatusOK, resultJSON(res))
	}
}

func (s *Server) signal(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Data json.RawMessage `json:"data"`
	}
	if !readJSON(w, r, &b) {
		return
	}
	var data any
	if len(b.Data) > 0 {
		if err := json.Unmarshal(b.Data, &data); err != nil {
			writeError(w, http.StatusBadRequest, "data", "data is not valid JSON")
			return
		}
	}
	id := r.PathValue("id")
	res, err := s.eng.Signal(r.Context(), id, r.PathValue("name"), data, false)
	if err != nil {
		fail(w, r, err)
		return
	}
	s.continueInBackground(id, res)
	writeJSON(w, http.StatusOK, resultJSON(res))
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) {
	res, err := s.eng.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resultJSON(res))
}

func (s *Server) pause(w http.ResponseWriter, r *http.Request) {
	res, err := s.eng.Pause(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resultJSON(res))
}

func (s *Server) resume(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.startBackground(id, func() (*runtime.Result, error) {
		return s.eng.Resume(s.bg, id, runtime.ResumeParams{Wait: runtime.WaitAlways})
	}); err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"run_id": id, "status": "running"})
}

func (s *Server) retry(w http.ResponseWriter, r *http.Request) {
	var b struct{}
	if !readJSON(w, r, &b) {
		return
	}
	id, node := r.PathValue("id"), r.PathValue("node")
	if err := s.startBackground(id, func() (*runtime.Result, error) {
		return s.eng.Retry(s.bg, id, node, runtime.ResumeParams{Wait: runtime.WaitAlways})
	}); err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"run_id": id, "status": "running"})
}

// fork starts a new run from a run, keeping what came before a node (as
// smithc fork does), and executes it in the server.
func (s *Server) fork(w http.ResponseWriter, r *http.Request) {
	var b struct {
		From  string `json:"from"`
		RunID string `json:"run_id"`
	}
	if !readJSON(w, r, &b) {
		return
	}
	if b.From == "" {
		writeError(w, http.StatusBadRequest, "from", "from: the node the new run starts again from is required")
		return
	}
	id := r.PathValue("id")
	if b.RunID == "" {
		b.RunID = runtime.NewRunID()
	}
	if err := s.startBackground(b.RunID, func() (*runtime.Result, error) {
		return s.eng.Fork(s.bg, id, runtime.ForkParams{From: b.From, RunID: b.RunID, Wait: runtime.WaitAlways})
	}); err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"run_id": b.RunID, "status": "running", "forked_from": id})
}

// continueInBackground continues a run after a decision or a signal when
// no live process holds it (a live one picks the decision up itself).
func (s *Server) continueInBackground(id string, res *runtime.Result) {
	if res == nil || res.LiveOwner != "" {
		return
	}
	_ = s.startBackground(id, func() (*runtime.Result, error) {
		return s.eng.Resume(s.bg, id, runtime.ResumeParams{Wait: runtime.WaitAlways})
	})
}

// startBackground runs fn (a resume or retry of run id) in a goroutine
// that lives as long as the server. It waits briefly so that a call the
// runtime refuses at once (the run is live elsewhere, finished, unknown)
// is answered as an error rather than accepted.
func (s *Server) startBackground(id string, fn func() (*runtime.Result, error)) error {
	done := make(chan error, 1)
	s.bgRuns.Add(1)
	go func() {
		defer s.bgRuns.Done()
		_, err := fn()
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(150 * time.Millisecond):
		return nil
	}
}

func resultJSON(r *runtime.Result) map[string]any {
	out := map[string]any{"run_id": r.RunID, "status": string(r.Status)}
	if r.Error != "" {
		out["error"] = r.Error
	}
	if r.Output != nil {
		out["output"] = r.Output
	}
	if r.LiveOwner != "" {
		out["live_owner"] = r.LiveOwner
	}
	return out
}
