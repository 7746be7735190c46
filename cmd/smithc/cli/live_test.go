package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

const liveSMW = `workflow demo {
  step prep { run = "echo prep" }
  parallel {
    step a { run = "echo a" }
    step b { run = "echo b" }
  }
  approval go { title = "Ship it?" }
  step done { value = "shipped" }
  output = done
}
`

// liveFixture is a live view over liveSMW with a fake clock and a fake
// terminal (a buffer).
type liveFixture struct {
	t    *testing.T
	term *bytes.Buffer
	now  time.Time
	v    *liveView
	seq  int64
}

func newLiveFixture(t *testing.T, color bool, width, height int) *liveFixture {
	t.Helper()
	file := filepath.Join(t.TempDir(), "demo.smw")
	if err := os.WriteFile(file, []byte(liveSMW), 0o644); err != nil {
		t.Fatal(err)
	}
	res := build(file)
	if res.Program == nil {
		t.Fatalf("demo.smw does not build:\n%s", res.Diagnostics.Error())
	}
	f := &liveFixture{t: t, term: &bytes.Buffer{}, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	f.v = newLiveView(f.term, res.Program.Workflows[0], func() time.Time { return f.now }, color, width, height)
	return f
}

// event feeds one event at the fake clock's time.
func (f *liveFixture) event(kind, node string, attempt int, data map[string]any) {
	f.seq++
	raw, _ := json.Marshal(data) // test data always encodes
	if data == nil {
		raw = nil
	}
	f.v.observe(store.Event{Seq: f.seq, RunID: "r1", NodeID: node, Attempt: attempt, Kind: kind, Time: f.now, Data: raw})
}

func (f *liveFixture) advance(d time.Duration) { f.now = f.now.Add(d) }

// frame is the current frame without colour.
func (f *liveFixture) frame() string {
	f.v.mu.Lock()
	defer f.v.mu.Unlock()
	return f.v.frame(f.now)
}

func TestLiveViewFrames(t *testing.T) {
	t.Parallel()
	f := newLiveFixture(t, false, 100, 40)
	want := `run  demo  running
  · prep        pending
  · parallel:a  pending
  ·   a         pending
  ·   b         pending
  · go          pending
  · done        pending
`
	if got := f.frame(); got != want {
		t.Errorf("before the run:\n%s\nwant:\n%s", got, want)
	}

	f.event(runtime.EventRunStarted, "", 0, map[string]any{"workflow": "demo"})
	f.event(runtime.EventNodeStarted, "prep", 0, nil)
	f.event(runtime.EventAttemptStarted, "prep", 1, nil)
	f.advance(40 * time.Millisecond)
	f.event(runtime.EventNodeFinished, "prep", 1, nil)
	f.event(runtime.EventNodeStarted, "parallel:a", 0, nil)
	f.event(runtime.EventNodeStarted, "a", 0, nil)
	f.event(runtime.EventAttemptStarted, "a", 1, nil)
	f.event(runtime.EventNodeStarted, "b", 0, nil)
	f.event(runtime.EventAttemptStarted, "b", 1, nil)
	f.advance(time.Second)
	f.event(runtime.EventAttemptFailed, "b", 1, map[string]any{"error": "command failed (exit code 1)"})
	f.event(runtime.EventRetryScheduled, "b", 1, nil)
	f.event(runtime.EventAttemptStarted, "b", 2, nil)
	f.advance(500 * time.Millisecond)
	want = `run r1 demo  running  1.5s
  ✓ prep        finished  #1     40ms
  ▸ parallel:a  running          1.5s
  ▸   a         running   #1     1.5s
  ▸   b         running   #2     1.5s
  · go          pending
  · done        pending
`
	if got := f.frame(); got != want {
		t.Errorf("while a and b run:\n%s\nwant:\n%s", got, want)
	}

	f.event(runtime.EventNodeFinished, "a", 1, nil)
	f.event(runtime.EventNodeFinished, "b", 2, nil)
	f.event(runtime.EventNodeFinished, "parallel:a", 0, nil)
	f.event(runtime.EventApprovalRequested, "go", 0, map[string]any{"title": "Ship it?"})
	f.event(runtime.EventRunWaiting, "", 0, map[string]any{"status": "waiting-approval"})
	f.advance(2 * time.Minute)
	want = `run r1 demo  waiting-approval  2m01s
  ✓ prep        finished  #1     40ms
  ✓ parallel:a  finished         1.5s
  ✓   a         finished  #1     1.5s
  ✓   b         finished  #2     1.5s
  ◆ go          waiting         2m00s  approval: Ship it?
  · done        pending
`
	if got := f.frame(); got != want {
		t.Errorf("waiting for the approval:\n%s\nwant:\n%s", got, want)
	}

	f.event(runtime.EventApprovalDecided, "go", 0, map[string]any{"approved": false, "by": "ann"})
	f.event(runtime.EventNodeFailed, "go", 0, map[string]any{"error": "denied by ann"})
	f.event(runtime.EventRunFailed, "", 0, map[string]any{"status": "failed"})
	f.advance(time.Hour) // a finished run's clock stops
	got := f.frame()
	for _, line := range []string{
		"run r1 demo  failed  2m01s",
		"  ✗ go          failed          2m00s  denied by ann",
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("final frame lacks %q:\n%s", line, got)
		}
	}
	f.v.mu.Lock()
	sum := f.v.summary(f.now)
	f.v.mu.Unlock()
	if want := "run r1 failed after 2m01s: 4 finished, 1 failed, 1 pending"; sum != want {
		t.Errorf("summary %q, want %q", sum, want)
	}
}

func TestLiveViewRedrawsInPlace(t *testing.T) {
	t.Parallel()
	f := newLiveFixture(t, true, 100, 40)
	f.event(runtime.EventRunStarted, "", 0, nil)
	f.event(runtime.EventApprovalRequested, "go", 0, map[string]any{"title": "Ship it?"})
	f.v.mu.Lock()
	f.v.drawLocked()
	first := f.term.String()
	f.term.Reset()
	f.v.drawLocked()
	second := f.term.String()
	f.v.mu.Unlock()

	if strings.Contains(first, "\x1b[7A") || !strings.HasPrefix(first, ansiClear) {
		t.Errorf("the first frame moves the cursor up: %q", first)
	}
	// 1 header + 6 nodes = 7 lines to go back over.
	if !strings.HasPrefix(second, "\r\x1b[7A"+ansiClear) {
		t.Errorf("the second frame does not go back over the first: %q", second)
	}
	// The waiting node is highlighted; pending ones are dim.
	if !strings.Contains(second, ansiBold+ansiYellow+"go") {
		t.Errorf("the waiting node is not highlighted: %q", second)
	}
	if !strings.Contains(second, ansiDim+"·"+ansiReset+" done") {
		t.Errorf("pending nodes are not dim: %q", second)
	}
}

func TestLiveViewFitsTheTerminal(t *testing.T) {
	t.Parallel()
	f := newLiveFixture(t, false, 30, 6) // room for 3 node lines
	f.event(runtime.EventRunStarted, "", 0, nil)
	f.event(runtime.EventNodeStarted, "done", 0, nil)
	f.event(runtime.EventAttemptFailed, "done", 1, map[string]any{"error": strings.Repeat("very long error ", 10)})
	got := f.frame()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 5 {
		t.Errorf("want header, 3 nodes and a 'more' line, got %d lines:\n%s", len(lines), got)
	}
	for _, l := range lines {
		if n := len([]rune(l)); n > 30 {
			t.Errorf("line of %d runes on a 30-column terminal: %q", n, l)
		}
	}
	if !strings.Contains(got, "done") || !strings.Contains(got, "… 3 more nodes") {
		t.Errorf("the running node must stay visible and the rest be counted:\n%s", got)
	}
}

func TestLiveViewIgnoresOtherRuns(t *testing.T) {
	t.Parallel()
	f := newLiveFixture(t, false, 100, 40)
	f.event(runtime.EventRunStarted, "", 0, nil)
	before := f.frame()
	f.v.observe(store.Event{RunID: "r1.child", NodeID: "prep", Kind: runtime.EventNodeFailed, Time: f.now})
	if got := f.frame(); got != before {
		t.Errorf("a child run's event changed the parent's view:\n%s", got)
	}
}

func TestLiveViewSeedsFromTheStore(t *testing.T) {
	t.Parallel()
	f := newLiveFixture(t, false, 100, 40)
	start := f.now.Add(-time.Minute)
	f.v.seed(&runtime.RunSummary{ID: "r9", Workflow: "demo", Status: store.RunWaitingApproval, CreatedAt: start}, []*runtime.NodeView{
		{NodeID: "prep", Kind: "step", State: store.NodeFinished, Attempts: 1, StartedAt: start, FinishedAt: start.Add(time.Second)},
		{NodeID: "go", Kind: "approval", State: store.NodeWaiting, StartedAt: start.Add(2 * time.Second)},
	})
	got := f.frame()
	for _, line := range []string{
		"run r9 demo  waiting-approval  1m00s",
		"  ✓ prep        finished  #1     1.0s",
		"  ◆ go          waiting         58.0s",
	} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("seeded frame lacks %q:\n%s", line, got)
		}
	}
}

func TestFormatElapsed(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		-time.Second: "0ms", 80 * time.Millisecond: "80ms", 1200 * time.Millisecond: "1.2s",
		123 * time.Second: "2m03s", 65 * time.Minute: "1h05m",
	} {
		if got := formatElapsed(d); got != want {
			t.Errorf("formatElapsed(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestLiveViewSumsInstances(t *testing.T) {
	t.Parallel()
	f := newLiveFixture(t, false, 100, 40)
	f.event(runtime.EventRunStarted, "", 0, nil)
	for i, scope := range []string{"0", "1", "2"} {
		f.v.observe(store.Event{RunID: "r1", NodeID: "a", Scope: scope, Attempt: 1, Kind: runtime.EventAttemptStarted, Time: f.now})
		if i < 2 {
			f.v.observe(store.Event{RunID: "r1", NodeID: "a", Scope: scope, Kind: runtime.EventNodeFinished, Time: f.now.Add(time.Second)})
		}
	}
	f.advance(2 * time.Second)
	if got := f.frame(); !strings.Contains(got, "▸   a         running   #1     2.0s  ×3\n") {
		t.Errorf("three instances, one running, should read as one running row ×3:\n%s", got)
	}
	f.v.observe(store.Event{RunID: "r1", NodeID: "a", Scope: "2", Kind: runtime.EventNodeFinished, Time: f.now})
	if got := f.frame(); !strings.Contains(got, "✓   a         finished  #1     2.0s  ×3\n") {
		t.Errorf("all three finished:\n%s", got)
	}
}

// TestLiveViewShowsTheLastOutputLine: a running step's row shows the
// last line it printed, until it ends.
func TestLiveViewShowsTheLastOutputLine(t *testing.T) {
	t.Parallel()
	f := newLiveFixture(t, false, 80, 20)
	f.event(runtime.EventRunStarted, "", 0, nil)
	f.event(runtime.EventNodeStarted, "done", 0, nil)
	f.event(runtime.EventAttemptStarted, "done", 1, nil)
	f.event("StepOutput", "done", 1, map[string]any{"stream": "stdout", "text": "compiling\nlinking 3/7\n\n"})
	if got := f.frame(); !strings.Contains(got, "linking 3/7") || strings.Contains(got, "compiling") {
		t.Errorf("the running row should show the last output line only:\n%s", got)
	}
	f.event(runtime.EventNodeFinished, "done", 1, nil)
	if got := f.frame(); strings.Contains(got, "linking") {
		t.Errorf("a finished row keeps no output line:\n%s", got)
	}
}

// TestLiveViewFollowsATerminalResize: the frame is fitted to the size the
// terminal has when it is drawn, so a smaller terminal gets a frame that
// fits and the next one is drawn over it, not below it.
func TestLiveViewFollowsATerminalResize(t *testing.T) {
	t.Parallel()
	f := newLiveFixture(t, false, 80, 40)
	height := 40
	f.v.size = func() (int, int) { return 30, height }
	f.event(runtime.EventRunStarted, "", 0, nil)
	f.event(runtime.EventNodeStarted, "done", 0, nil)
	f.v.mu.Lock()
	f.v.drawLocked()
	tall := f.v.lines
	height = 6
	f.term.Reset()
	f.v.drawLocked()
	short := f.v.lines
	f.v.mu.Unlock()
	if short > 5 || short >= tall {
		t.Errorf("after the terminal shrank to 6 rows the frame has %d lines (before: %d)", short, tall)
	}
	if !strings.HasPrefix(f.term.String(), fmt.Sprintf("\r\x1b[%dA", tall)) {
		t.Errorf("the smaller frame must be drawn over the last one (cursor up %d lines): %q", tall, f.term.String()[:min(20, f.term.Len())])
	}
}
