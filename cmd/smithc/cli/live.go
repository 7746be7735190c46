package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

// liveInterval bounds the redraw rate of the live view (10 per second).
const liveInterval = 100 * time.Millisecond

// liveView shows a run's node tree on a terminal and redraws it in place
// (ANSI cursor movement) as the engine's events arrive: state symbols,
// attempt numbers, elapsed times, waiting nodes highlighted. It redraws
// at most every liveInterval, from its own goroutine, and is safe for
// concurrent use.
type liveView struct {
	w      io.Writer
	now    func() time.Time
	color  bool
	width  int // characters per line; longer lines are cut so they never wrap
	height int // rows of the terminal; the frame keeps below it
	// size, when set, reads the terminal's size again before each frame,
	// so a terminal made smaller still gets a frame that fits (and is
	// redrawn in place rather than scrolled).
	size func() (width, height int)

	mu       sync.Mutex
	runID    string // the run shown; events of other runs (child runs) are ignored
	workflow string
	status   store.RunStatus
	started  time.Time
	ended    time.Time
	rows     []*liveRow
	byID     map[string]*liveRow
	lines    int  // lines of the frame on screen, to move back over
	dirty    bool // something changed since the last draw
	ticking  bool
	stopTick chan struct{}
	tickDone chan struct{}
}

// liveRow is one node of the tree. Nodes inside a for or loop have one
// instance per element or iteration; the row sums them up.
type liveRow struct {
	id, kind  string
	depth     int
	instances map[string]*liveInstance
	order     []string // instance keys in first-seen order
	attempt   int
	note      string
}

// liveInstance is one instance of a node.
type liveInstance struct {
	state          store.NodeState
	started, ended time.Time
}

// newLiveView returns a live view writing to w. wf, when known, gives the
// tree its shape before anything runs; nodes it does not list appear as
// their events arrive.
func newLiveView(w io.Writer, wf *ir.Workflow, now func() time.Time, color bool, width, height int) *liveView {
	v := &liveView{w: w, now: now, color: color, width: width, height: height, byID: map[string]*liveRow{}, status: store.RunRunning}
	v.setWorkflow(wf)
	return v
}

// setWorkflow lays out the rows of wf's tree (all pending).
func (v *liveView) setWorkflow(wf *ir.Workflow) {
	if wf == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.workflow = wf.Name
	var walk func(n *ir.Node, depth int)
	walk = func(n *ir.Node, depth int) {
		for _, c := range n.Body() {
			if c.ID == "" { // an arm's or block's anonymous body: its children sit at this depth
				walk(c, depth)
				continue
			}
			v.row(c.ID, c.Kind.String(), depth)
			walk(c, depth+1)
		}
	}
	walk(wf.Root, 0)
}

// row returns the row of id, adding it when new.
func (v *liveView) row(id, kind string, depth int) *liveRow {
	if r := v.byID[id]; r != nil {
		return r
	}
	r := &liveRow{id: id, kind: kind, depth: depth, instances: map[string]*liveInstance{}}
	v.rows = append(v.rows, r)
	v.byID[id] = r
	return r
}

// seed sets the rows from a run's stored nodes (for resume, approve, …).
func (v *liveView) seed(run *runtime.RunSummary, nodes []*runtime.NodeView) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.runID, v.workflow, v.status, v.started, v.ended = run.ID, run.Workflow, run.Status, run.CreatedAt, run.FinishedAt
	for _, n := range nodes {
		r := v.row(n.NodeID, n.Kind, 0)
		in := r.instance(n.Scope, n.Iteration)
		in.state, in.started, in.ended = n.State, n.StartedAt, n.FinishedAt
		if n.Attempts > r.attempt {
			r.attempt = n.Attempts
		}
		if n.State == store.NodeFailed {
			r.note = n.Error
		}
	}
	v.dirty = true
}

func (r *liveRow) instance(scope string, iteration int) *liveInstance {
	key := fmt.Sprintf("%s#%d", scope, iteration)
	in := r.instances[key]
	if in == nil {
		in = &liveInstance{state: store.NodePending}
		r.instances[key] = in
		r.order = append(r.order, key)
	}
	return in
}

// observe applies one engine event.
func (v *liveView) observe(ev store.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.runID == "" {
		v.runID = ev.RunID
	}
	if ev.RunID != v.runID {
		return
	}
	var data map[string]any
	_ = json.Unmarshal(ev.Data, &data) // data is optional; absent data leaves notes empty
	str := func(k string) string {
		if s, ok := data[k].(string); ok {
			return s
		}
		return ""
	}
	v.dirty = true
	switch ev.Kind {
	case runtime.EventRunStarted, runtime.EventRunResumed, runtime.EventRunForked:
		v.status, v.ended = store.RunRunning, time.Time{}
		if v.started.IsZero() {
			v.started = ev.Time
		}
		if w := str("workflow"); w != "" {
			v.workflow = w
		}
		return
	case runtime.EventRunWaiting:
		v.status = store.RunStatus(str("status"))
		if v.status == store.RunWaitingEvent {
			for _, r := range v.rows {
				for _, in := range r.instances {
					if r.kind == "event" && in.state == store.NodeRunning {
						in.state = store.NodeWaiting
					}
				}
			}
		}
		return
	case runtime.EventRunFinished, runtime.EventRunFailed, runtime.EventRunCancelled:
		v.status, v.ended = runStatusOf(ev.Kind), ev.Time
		return
	}
	if ev.NodeID == "" {
		return
	}
	r := v.row(ev.NodeID, "", 0)
	in := r.instance(ev.Scope, ev.Iteration)
	switch ev.Kind {
	case runtime.EventNodeStarted:
		in.state, in.started, in.ended = store.NodeRunning, ev.Time, time.Time{}
		r.note = ""
	case runtime.EventAttemptStarted:
		in.state = store.NodeRunning
		if in.started.IsZero() {
			in.started = ev.Time
		}
		r.attempt, r.note = ev.Attempt, ""
	case runtime.EventAttemptFailed:
		r.note = fmt.Sprintf("attempt %d failed: %s", ev.Attempt, str("error"))
	case runtime.EventRetryScheduled:
		r.note = "retrying: " + strings.TrimPrefix(r.note, "retrying: ")
	case runtime.EventNodeFinished:
		in.state, in.ended = store.NodeFinished, ev.Time
		r.note = ""
	case runtime.EventNodeFailed:
		in.state, in.ended, r.note = store.NodeFailed, ev.Time, str("error")
	case runtime.EventNodeSkipped:
		in.state, in.ended, r.note = store.NodeSkipped, ev.Time, str("reason")
	case runtime.EventNodeCancelled:
		in.state, in.ended, r.note = store.NodeCancelled, ev.Time, "cancelled"
	case runtime.EventApprovalRequested:
		in.state, r.note = store.NodeWaiting, "approval: "+str("title")
		if in.started.IsZero() {
			in.started = ev.Time
		}
	case runtime.EventApprovalDecided:
		verdict := "denied"
		if b, _ := data["approved"].(bool); b {
			verdict = "approved"
		}
		r.note = verdict + " by " + str("by")
	case runtime.EventTimerScheduled:
		in.state = store.NodeWaiting
		if in.started.IsZero() {
			in.started = ev.Time
		}
		if due, err := time.Parse(time.RFC3339Nano, str("due")); err == nil {
			r.note = "until " + due.Local().Format(time.TimeOnly)
		}
	case runtime.EventTimerFired:
		r.note = "fired"
	case runtime.EventSignalReceived:
		r.note = "signal " + str("name")
	case "StepOutput", "AgentActivity":
		// What a running step prints last is what a person watches for.
		if in.state == store.NodeRunning {
			if l := lastLine(str("text")); l != "" {
				r.note = l
			} else if tool := str("tool"); tool != "" {
				r.note = "tool " + tool
			}
		}
	}
}

// lastLine is the last line of s that is not blank, trimmed.
func lastLine(s string) string {
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return ""
}

func runStatusOf(kind string) store.RunStatus {
	switch kind {
	case runtime.EventRunFinished:
		return store.RunFinished
	case runtime.EventRunFailed:
		return store.RunFailed
	}
	return store.RunCancelled
}

// start begins redrawing, every liveInterval, whenever something changed
// or a node is active (its elapsed time moves).
func (v *liveView) start() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.ticking {
		return
	}
	v.ticking = true
	v.stopTick, v.tickDone = make(chan struct{}), make(chan struct{})
	go v.loop(v.stopTick, v.tickDone)
}

func (v *liveView) loop(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(liveInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			v.mu.Lock()
			if v.dirty || v.activeLocked() {
				v.drawLocked()
			}
			v.mu.Unlock()
		}
	}
}

// activeLocked reports whether a node is running or waiting. v.mu must
// be held.
func (v *liveView) activeLocked() bool {
	for _, r := range v.rows {
		if st := r.state(); st == store.NodeRunning || st == store.NodeWaiting {
			return true
		}
	}
	return false
}

// pause stops redrawing and leaves the last frame on screen, so that what
// follows (a prompt) is written below it; start draws a new frame under it.
func (v *liveView) pause() {
	v.mu.Lock()
	if !v.ticking {
		v.mu.Unlock()
		return
	}
	stop, done := v.stopTick, v.tickDone
	v.ticking = false
	v.mu.Unlock()
	close(stop)
	<-done
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.dirty || v.lines > 0 { // nothing to show before the first event
		v.drawLocked()
	}
	v.lines = 0
}

// stop draws the final frame and, with summary, a summary line under
// it. It is idempotent; the view is not used after.
func (v *liveView) stop(summary bool) {
	v.mu.Lock()
	ticking := v.ticking
	v.mu.Unlock()
	if !ticking {
		return
	}
	v.pause()
	if !summary {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	_, _ = io.WriteString(v.w, v.paint(ansiBold, v.summary(v.now()))+"\n") // a terminal that went away only loses the picture
}
