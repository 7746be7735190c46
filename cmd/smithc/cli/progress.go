package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

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
	if label == "" && (ev.Kind == runtime.EventRunStarted || ev.Kind == runtime.EventRunResumed || ev.Kind == runtime.EventRunForked) {
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
// time. It is on the path of every event of a run (three per step of a
// for), so it builds the line in one buffer and decodes the data only when
// there is some.
func formatEventIn(ev store.Event, label string) string {
	b := make([]byte, 0, 96)
	h, m, s := ev.Time.Local().Clock()
	b = append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+s/10), byte('0'+s%10))
	b = append(b, "  "...)
	b = append(b, label...)
	b = append(b, ev.Kind...)
	for n := len(ev.Kind); n < 18; n++ {
		b = append(b, ' ')
	}
	hasNode := ev.NodeID != "" || ev.Scope != "" || ev.Iteration > 0
	if hasNode {
		b = append(b, ' ')
		b = append(b, ev.NodeID...)
		if ev.Scope != "" {
			b = append(b, '[')
			b = append(b, ev.Scope...)
			b = append(b, ']')
		}
		if ev.Iteration > 0 {
			b = append(b, '#')
			b = strconv.AppendInt(b, int64(ev.Iteration), 10)
		}
	}
	if ev.Attempt > 0 && strings.HasPrefix(ev.Kind, "Attempt") {
		b = append(b, " attempt="...)
		b = strconv.AppendInt(b, int64(ev.Attempt), 10)
	}
	if hasData(ev.Data) {
		var data map[string]any
		_ = json.Unmarshal(ev.Data, &data) // data is optional; absent or odd data prints nothing extra
		for _, k := range eventDetailKeys {
			if v, ok := data[k]; ok && v != nil && v != "" {
				b = append(b, ' ')
				b = append(b, k...)
				b = append(b, '=')
				b = append(b, compact(v)...)
			}
		}
	}
	if !hasNode {
		return strings.TrimRight(string(b), " ")
	}
	return string(b)
}

// eventDetailKeys are the data fields a progress line shows, in order.
var eventDetailKeys = []string{"workflow", "from_run", "from_node", "error", "reason", "arm", "title", "name", "approved", "by", "note", "due",
	"status", "attempt", "duration", "run", "exec", "method", "url", "text", "count", "iteration"}

// hasData reports whether raw event data can hold a field: not empty,
// not null, not an empty object.
func hasData(raw []byte) bool {
	t := bytes.TrimSpace(raw)
	switch string(t) {
	case "", "null", "{}":
		return false
	}
	return true
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
