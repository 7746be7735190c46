package runtime

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// runner executes one session of one run: from a Start or Resume until
// the run finishes, fails, is cancelled or waits.
type runner struct {
	e    *Engine
	run  *store.Run
	prog *ir.Program
	wf   *ir.Workflow
	srcs []Source // the program's files, for child runs (nil: unknown)
	mode WaitMode
	// timeout is the run deadline in force (0: none).
	timeout time.Duration

	input  map[string]any
	stored any              // sessionParams.input, until prepare reads it
	pre    map[*ir.Node]int // pre-order position of every node
	end    map[*ir.Node]int // position just after a node's last descendant
	c      *committer
	sem    chan struct{} // run-wide bound on running attempts
	dir    string
	// paused is set once the run's pause was requested: no new attempt
	// starts, and the session ends paused.
	paused atomic.Bool

	mu    sync.Mutex
	insts map[string]*instance
	// groups are the instances of each loop iteration, for dropping
	// those no node can read any more (bounded history; instance.go).
	groups map[string]*iterGroup
	stuck  []string

	// secrets are the run's secrets (see secrets.go); set before the
	// session starts, safe for concurrent use.
	secrets *schema.Secrets
	// budget is the run's account against its workflow's budget (nil:
	// none); see budget.go.
	budget *budgetState
	// abandoned maps the instances whose attempt a dead owner left
	// running to that attempt's number, and hijacked is the handoff that
	// ends this session (under mu); see hijack.go.
	abandoned map[string]int
	hijacked  *Handoff
	// tasks are the run's attempts executed by workers (task.go); set
	// on first use, guarded by mu.
	tasks *taskState

	// The fixed part of expression environments (initEnv, once).
	envOnce  sync.Once
	runVar   map[string]any
	envFn    func(string) string
	secretFn func(string) (string, error)
	runEnvs  []map[string]any // attemptEnv's, by attempt number (under mu)
}

// outcome is how a node's execution in this session ended.
type outcome struct {
	// state is the node's state: finished, failed or skipped (terminal);
	// waiting; cancelled; or pending when the node could not start.
	state store.NodeState
	// wait is the kind of wait for state waiting.
	wait store.RunStatus
	// fail is set when a failure propagates (not continue_on_fail).
	fail *failure
	// skipRest: an approval denied with on_deny = "skip".
	skipRest bool
}

func (o outcome) terminal() bool { return o.state.Terminal() }

var (
	done    = outcome{state: store.NodeFinished}
	skipped = outcome{state: store.NodeSkipped}
	blocked = outcome{state: store.NodePending}
)

// failure names the node whose failure propagates and its error.
type failure struct {
	node  string
	kind  ir.Kind // what the node is, for the message: an approval is not called a step
	scope string
	err   *StepError
}

func (f *failure) message() string {
	what := "step"
	if f.kind != 0 {
		what = f.kind.String()
	}
	msg := what + " " + f.node
	if f.scope != "" {
		msg += " [" + f.scope + "]"
	}
	return msg + " failed: " + f.err.Error()
}

func failed(f *failure) outcome { return outcome{state: store.NodeFailed, fail: f} }

// fence stops new work after a failure: a run-wide one, and one per try
// body (a failure there stops only that body).
type fence struct {
	parent *fence
	mu     sync.Mutex
	first  *failure
}

func (f *fence) halt(fl *failure) {
	f.mu.Lock()
	if f.first == nil {
		f.first = fl
	}
	f.mu.Unlock()
}

func (f *fence) halted() bool {
	for x := f; x != nil; x = x.parent {
		x.mu.Lock()
		h := x.first != nil
		x.mu.Unlock()
		if h {
			return true
		}
	}
	return false
}

// combine merges the outcomes of concurrent children: a failure wins,
// then cancellation, then a wait (approval before event before timer),
// then a child that could not start; otherwise all finished.
func combine(outs []outcome) outcome {
	var res outcome = done
	rank := func(o outcome) int {
		switch {
		case o.fail != nil:
			return 5
		case o.state == store.NodeCancelled:
			return 4
		case o.state == store.NodeWaiting:
			return 3
		case o.state == store.NodePending:
			return 2
		}
		return 0
	}
	waitRank := map[store.RunStatus]int{store.RunWaitingApproval: 3, store.RunWaitingEvent: 2, store.RunWaitingTimer: 1}
	for _, o := range outs {
		switch ro, rr := rank(o), rank(res); {
		case ro > rr:
			res = o
		case ro == rr && ro == 3 && waitRank[o.wait] > waitRank[res.wait]:
			res = o
		}
	}
	if res.skipRest {
		res.skipRest = false
	}
	return res
}

// event builds an event of the run.
func (r *runner) event(kind string, in *instance, attempt int, data map[string]any) *store.Event {
	ev := &store.Event{}
	r.eventInto(ev, kind, in, attempt, data)
	return ev
}

// eventInto builds an event of the run in ev.
func (r *runner) eventInto(ev *store.Event, kind string, in *instance, attempt int, data map[string]any) {
	*ev = store.Event{RunID: r.run.ID, Kind: kind, Time: r.e.now(), Attempt: attempt}
	if in != nil {
		ev.NodeID, ev.Scope, ev.Iteration = in.node.ID, in.scope, in.row.Iteration
	}
	if data != nil {
		if b, err := schema.EncodeJSON(data); err == nil {
			ev.Data = b
		}
	}
}

// halted reports whether new work must not start: a failure behind the
// fence, a cancelled run, or a failed commit.
func (r *runner) halted(ctx context.Context, f *fence) bool {
	return ctx.Err() != nil || f.halted() || r.c.failed() != nil || r.paused.Load()
}
