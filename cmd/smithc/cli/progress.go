package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

// progress prints one plain line per run event, for people watching a
// run and for logs. It is safe for concurrent use.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	runID string // the first run seen; lines of other runs (call steps' child runs) name theirs
}

func newProgress(w io.Writer) *progress { return &progress{w: w} }

func (p *progress) observe(ev store.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.runID == "" {
		p.runID = ev.RunID
	}
	label := ""
	if ev.RunID != p.runID {
		label = "[" + ev.RunID + "] "
	}
	line := formatEventIn(ev, label)
	if label == "" && (ev.Kind == runtime.EventRunStarted || ev.Kind == runtime.EventRunResumed) {
		line += " run=" + ev.RunID // the first line names the run, terminal or not
	}
	if line != "" {
		fmt.Fprintln(p.w, line)
	}
}

// formatEvent renders an event as one line: time, node (with its scope
// and iteration), what happened, and the interesting data.
func formatEvent(ev store.Event) string { return formatEventIn(ev, "") }

// formatEventIn is formatEvent with a label (another run's id) after the
// time.
func formatEventIn(ev store.Event, label string) string {
	node := ev.NodeID
	if ev.Scope != "" {
		node += "[" + ev.Scope + "]"
	}
	if ev.Iteration > 0 {
		node += fmt.Sprintf("#%d", ev.Iteration)
	}
	var data map[string]any
	_ = json.Unmarshal(ev.Data, &data) // data is optional; absent or odd data prints nothing extra
	detail := ""
	if ev.Attempt > 0 && strings.HasPrefix(ev.Kind, "Attempt") {
		detail += fmt.Sprintf(" attempt=%d", ev.Attempt)
	}
	for _, k := range []string{"workflow", "error", "reason", "arm", "title", "name", "approved", "by", "note", "due",
		"status", "attempt", "duration", "run", "exec", "method", "url", "text", "count", "iteration"} {
		if v, ok := data[k]; ok && v != nil && v != "" {
			detail += fmt.Sprintf(" %s=%v", k, compact(v))
		}
	}
	ts := ev.Time.Local().Format(time.TimeOnly) + "  " + label
	if node == "" {
		return strings.TrimRight(fmt.Sprintf("%s%-18s%s", ts, ev.Kind, detail), " ")
	}
	return fmt.Sprintf("%s%-18s %s%s", ts, ev.Kind, node, detail)
}

func compact(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 200 {
			x = x[:197] + "..."
		}
		return fmt.Sprintf("%q", x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		if len(b) > 200 {
			return string(b[:197]) + "..."
		}
		return string(b)
	}
}
