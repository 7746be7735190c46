package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// sse writes server-sent events.
type sse struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func newSSE(w http.ResponseWriter) *sse {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	s := &sse{w: w, rc: http.NewResponseController(w)}
	s.flush()
	return s
}

func (s *sse) flush() error { return s.rc.Flush() }

// send writes one event; id may be "".
func (s *sse) send(id, event string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if id != "" {
		fmt.Fprintf(s.w, "id: %s\n", id)
	}
	fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", event, b)
	return s.flush()
}

// comment keeps the connection open through proxies.
func (s *sse) comment() error {
	fmt.Fprint(s.w, ": keep-alive\n\n")
	return s.flush()
}

const keepAlive = 15 * time.Second

// streamEvents streams a run's event log: everything after Last-Event-ID
// (a reconnecting EventSource sends it) or ?after=, then each new event
// as it is committed, as `event: event` with the event's sequence number
// as its id. The store is shared with the processes that execute runs,
// so new events are found by polling it.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	after := int64(0)
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		after, _ = strconv.ParseInt(v, 10, 64)
	} else if v := r.URL.Query().Get("after"); v != "" {
		after, _ = strconv.ParseInt(v, 10, 64)
	}
	// An unknown run is a 404 before the stream starts.
	if _, err := s.eventPage(r.Context(), id, after, 1); err != nil {
		fail(w, r, err)
		return
	}
	out := newSSE(w)
	tick := time.NewTicker(s.opts.PollInterval)
	defer tick.Stop()
	idle := time.Now()
	for {
		evs, err := s.eventPage(r.Context(), id, after, 500)
		if err != nil {
			return
		}
		for _, ev := range evs {
			if err := out.send(strconv.FormatInt(ev.Seq, 10), "event", ev); err != nil {
				return
			}
			after = ev.Seq
			idle = time.Now()
		}
		if len(evs) == 500 {
			continue // more are waiting
		}
		if time.Since(idle) > keepAlive {
			if out.comment() != nil {
				return
			}
			idle = time.Now()
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}

// streamRuns streams the runs list: each run (filtered like GET /runs)
// whose status or update time changed since the last look, as `event:
// run`.
func (s *Server) streamRuns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := listFilter{Status: q.Get("status"), Workflow: q.Get("workflow"), Parent: q.Get("parent"), Limit: 200}
	// The list the page already has is the baseline: only changes are
	// sent.
	seen := map[string]string{}
	runs, _, err := s.runList(r.Context(), f)
	if err != nil {
		fail(w, r, err)
		return
	}
	for _, run := range runs {
		seen[run.ID] = run.version()
	}
	out := newSSE(w)
	tick := time.NewTicker(s.opts.PollInterval)
	defer tick.Stop()
	idle := time.Now()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
		// Unfiltered by status, so a run that leaves the filtered status
		// is sent too (the page drops it).
		all := f
		all.Status = ""
		runs, _, err := s.runList(r.Context(), all)
		if err != nil {
			return
		}
		for i := len(runs) - 1; i >= 0; i-- {
			run := runs[i]
			v := run.version()
			if seen[run.ID] == v {
				continue
			}
			_, known := seen[run.ID]
			seen[run.ID] = v
			if f.Status != "" && run.Status != f.Status && !known {
				continue
			}
			if err := out.send("", "run", run); err != nil {
				return
			}
			idle = time.Now()
		}
		if time.Since(idle) > keepAlive {
			if out.comment() != nil {
				return
			}
			idle = time.Now()
		}
	}
}
