package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/smithc/smithc/runtime/store"
)

// formatEventInBefore is the progress formatter as it was before it was
// made to build its line in one buffer: the lines must not change.
func formatEventInBefore(ev store.Event, label string) string {
	node := ev.NodeID
	if ev.Scope != "" {
		node += "[" + ev.Scope + "]"
	}
	if ev.Iteration > 0 {
		node += fmt.Sprintf("#%d", ev.Iteration)
	}
	var data map[string]any
	_ = json.Unmarshal(ev.Data, &data)
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

func TestFormatEventLinesUnchanged(t *testing.T) {
	times := []time.Time{
		time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 7, 9, 5, 7, 999, time.UTC),
		time.Date(2026, 12, 7, 23, 59, 59, 0, time.FixedZone("x", 5*3600+1800)),
	}
	datas := []string{"", "null", "{}", " { } ", `{"workflow":"fan"}`, `{"count":3}`, `{"error":"boom","attempt":2,"duration":"1ms"}`,
		`{"text":"` + strings.Repeat("a", 300) + `"}`, `{"arm":null,"name":""}`, `{"status":{"a":[1,2]}}`, `not json`, `[1,2]`}
	kinds := []string{"RunStarted", "NodeStarted", "AttemptStarted", "AttemptFailed", "NodeFinished", "ARatherLongEventKindName"}
	nodes := []struct {
		id, scope string
		iter      int
	}{{"", "", 0}, {"w", "", 0}, {"w", "for:v:w[12]", 0}, {"w", "", 3}, {"", "s", 0}, {"", "", 2}, {"w", "loop:l[1]", 14}}
	n := 0
	for _, tm := range times {
		for _, d := range datas {
			for _, k := range kinds {
				for _, nd := range nodes {
					for _, attempt := range []int{0, 1, 12} {
						for _, label := range []string{"", "[child-run] "} {
							ev := store.Event{RunID: "r", Kind: k, NodeID: nd.id, Scope: nd.scope, Iteration: nd.iter, Attempt: attempt, Time: tm}
							if d != "" {
								ev.Data = json.RawMessage(d)
							}
							got, want := formatEventIn(ev, label), formatEventInBefore(ev, label)
							if got != want {
								t.Fatalf("event %+v label %q:\n got %q\nwant %q", ev, label, got, want)
							}
							n++
						}
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no events compared")
	}
}

func BenchmarkFormatEvent(b *testing.B) {
	ev := store.Event{RunID: "r", Kind: "AttemptStarted", NodeID: "w", Scope: "for:v:w[1234]", Attempt: 1, Time: time.Now()}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = formatEventIn(ev, "")
	}
}
