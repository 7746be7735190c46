package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/user"
	"sort"
	"strings"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

// session is one command's stay with a run: it shows progress, prompts
// for approvals at a terminal (wait mode auto), and prints the result.
type session struct {
	a        *app
	format   string
	mode     runtime.WaitMode
	progress *progress // plain lines, when stderr is not a terminal
	live     *liveView // the node tree, when stderr is a terminal
	prompt   bool      // ask for approvals inline
}

// newSession prepares a command's stay with a run. Progress goes to
// stderr so that stdout carries only the result: a live node tree at a
// terminal (with --format text), plain lines otherwise.
func (a *app) newSession(f *sessionFlags, mode runtime.WaitMode) *session {
	s := &session{
		a: a, format: f.format, mode: mode,
		progress: newProgress(a.stderr),
		prompt:   mode == runtime.WaitAuto && a.stdinTTY && a.stdoutTTY && f.format == "text",
	}
	if a.stderrTTY && f.format == "text" {
		w, h := terminalSize(a.stderr)
		s.live = newLiveView(a.stderr, nil, time.Now, true, w, h)
	}
	return s
}

func (s *session) observe(ev store.Event) {
	if s.live != nil {
		s.live.observe(ev)
		return
	}
	s.progress.observe(ev)
}

// begin starts the live view, if any, before the engine runs: wf gives
// the tree's shape for a new run; for an existing run (runID set) the
// shape comes from its source and the states from the store. Both are
// best effort: a view without them fills in as events arrive.
func (s *session) begin(ctx context.Context, eng *runtime.Engine, runID string, wf *ir.Workflow) {
	st := eng.Store()
	if s.live == nil {
		return
	}
	if runID != "" {
		if wf == nil {
			wf = runWorkflow(ctx, eng, runID)
		}
		s.live.setWorkflow(wf)
		s.refreshLive(ctx, st, runID)
	} else {
		s.live.setWorkflow(wf)
	}
	s.live.start()
}

// refreshLive sets the live view's states from the store: where a run
// stands when it was continued elsewhere, or waits in ways no event
// shows. Best effort: the view keeps what it had when the store is busy.
func (s *session) refreshLive(ctx context.Context, st store.Store, runID string) {
	if s.live == nil {
		return
	}
	run, err := st.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return
	}
	nodes, err := st.NodeList(ctx, &store.NodeListParams{RunID: runID})
	if err != nil {
		return
	}
	s.live.seed(run, nodes)
}

// end stops the live view, if any, under a summary of the run.
func (s *session) end() {
	if s.live != nil {
		s.live.stop(true)
	}
}

// abort stops the live view without a summary; commands defer it so that
// an error return does not leave it drawing. After end it does nothing.
func (s *session) abort() {
	if s.live != nil {
		s.live.stop(false)
	}
}

func (s *session) engineMode() runtime.WaitMode { return s.mode }

// finish stays with a waiting run while a person is at a terminal (wait
// mode auto): it asks for approvals inline and waits for events, showing
// how to signal them. Then it prints the result and returns the exit
// code as an error.
func (s *session) finish(ctx context.Context, eng *runtime.Engine, r *runtime.Result) error {
	in := bufio.NewReader(s.a.stdin)
	for s.prompt && ctx.Err() == nil {
		var next *runtime.Result
		switch r.Status {
		case store.RunWaitingApproval:
			n, asked, err := s.askApproval(ctx, eng, in, r.RunID)
			if err != nil {
				return exitf(ExitFailed, "%v", err)
			}
			next = n
			if !asked {
				next = nil
			}
		case store.RunWaitingEvent:
			if s.live != nil {
				s.refreshLive(ctx, eng.Store(), r.RunID) // no event says that an event node waits
				s.live.pause()                           // the hint goes below the last frame
			}
			s.explainWait(ctx, eng, r.RunID)
			if s.live != nil {
				s.live.start()
			}
			n, err := s.awaitEvent(ctx, eng, r)
			if err != nil {
				return exitf(ExitFailed, "%v", err)
			}
			if n.Status != store.RunWaitingEvent {
				next = n
			}
		}
		if next == nil {
			break
		}
		r = next
	}
	s.refreshLive(ctx, eng.Store(), r.RunID) // another process may have moved the run on
	s.end()
	if !r.Status.Terminal() {
		owner, fresh := liveOwner(ctx, eng, r.RunID)
		if fresh != nil && (owner == "" || fresh.Status.Terminal()) {
			r = fresh // no process holds it, or the one that did finished it meanwhile
		}
		if owner != "" {
			// A decision or signal handed to the process executing the
			// run (run --wait always, a worker): done here.
			if s.format == "json" {
				s.a.printResult(s.format, r)
			} else {
				s.a.printf("run %s is %s in process %s, which continues it (smithc logs %s -f follows it)\n", r.RunID, r.Status, owner, r.RunID)
			}
			return nil
		}
	}
	s.a.printResult(s.format, r)
	if s.format == "text" {
		switch {
		case r.Status.Waiting():
			s.explainWait(ctx, eng, r.RunID)
		case r.Status == store.RunFailed:
			s.explainFailure(ctx, eng.Store(), r.RunID)
		}
	}
	return exitFor(r.Status)
}

// askApproval asks about the first pending approval and records the
// answer, continuing the run. asked is false when nothing was pending or
// the person gave no answer (end of input).
func (s *session) askApproval(ctx context.Context, eng *runtime.Engine, in *bufio.Reader, runID string) (*runtime.Result, bool, error) {
	aps, err := eng.Store().ApprovalList(ctx, &store.ApprovalListParams{RunID: runID})
	sortApprovals(aps)
	if err != nil {
		return nil, false, err
	}
	for _, ap := range aps {
		if ap.Decided {
			continue
		}
		if s.live != nil {
			s.live.pause() // the question goes below the last frame
		}
		w := s.a.stdout
		fmt.Fprintf(w, "\napproval %s: %s\n", ap.NodeID, ap.Title)
		if ap.Summary != "" {
			fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(ap.Summary, "\n", "\n  "))
		}
		var approved bool
		for {
			fmt.Fprintf(w, "approve? [y/n] ")
			answer, err := readLine(ctx, in)
			switch strings.ToLower(strings.TrimSpace(answer)) {
			case "y", "yes":
				approved = true
			case "n", "no":
				approved = false
			default:
				if err != nil { // end of input or Ctrl-C: leave the approval waiting
					fmt.Fprintln(w)
					return nil, false, nil
				}
				fmt.Fprintf(w, "please answer y or n\n")
				continue
			}
			break
		}
		fmt.Fprintf(w, "note (optional): ")
		note, err := readLine(ctx, in)
		if err != nil && ctx.Err() != nil {
			fmt.Fprintln(w)
			return nil, false, nil
		}
		if s.live != nil {
			s.live.start()
		}
		d := runtime.Decision{By: whoami(), Note: strings.TrimSpace(note)}
		var r *runtime.Result
		if approved {
			r, err = eng.Approve(ctx, runID, ap.NodeID, d, true)
		} else {
			r, err = eng.Deny(ctx, runID, ap.NodeID, d, true)
		}
		return r, true, err
	}
	return nil, false, nil
}

// readLine reads a line of the person's answer; Ctrl-C (the end of ctx)
// interrupts it. The reading goroutine of an interrupted read is left
// to the process's exit.
func readLine(ctx context.Context, in *bufio.Reader) (string, error) {
	type line struct {
		s   string
		err error
	}
	ch := make(chan line, 1)
	go func() {
		s, err := in.ReadString('\n')
		ch <- line{s, err}
	}()
	select {
	case l := <-ch:
		return l.s, l.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// explainWait tells the person what the run waits for and how to act.
// It reads the store and, for event names, the run's source; both are
// best effort, since these are hints.
func (s *session) explainWait(ctx context.Context, eng *runtime.Engine, runID string) {
	st := eng.Store()
	w := s.a.stdout
	aps, _ := st.ApprovalList(ctx, &store.ApprovalListParams{RunID: runID}) // best effort: hints only
	sortApprovals(aps)
	pending := map[string]int{} // waiting instances per node
	for _, ap := range aps {
		if !ap.Decided {
			pending[ap.NodeID]++
		}
	}
	for _, ap := range aps {
		if !ap.Decided {
			target := ap.NodeID
			if ap.Scope != "" && pending[ap.NodeID] > 1 {
				target += " --scope '" + ap.Scope + "'"
				fmt.Fprintf(w, "  waiting for approval %s (%s): %s\n", ap.NodeID, ap.Scope, ap.Title)
			} else {
				fmt.Fprintf(w, "  waiting for approval %s: %s\n", ap.NodeID, ap.Title)
			}
			fmt.Fprintf(w, "    smithc approve %s %s [--note ...]   or   smithc deny %s %s\n", runID, target, runID, target)
		}
	}
	nodes, _ := st.NodeList(ctx, &store.NodeListParams{RunID: runID}) // best effort: hints only
	var wf *ir.Workflow
	for _, n := range nodes {
		if n.State != store.NodeWaiting {
			continue
		}
		var data struct {
			Due      time.Time `json:"due"`
			Deadline time.Time `json:"deadline"`
		}
		_ = json.Unmarshal(n.Data, &data) // absent data only drops the time from the hint
		switch n.Kind {
		case "event":
			if wf == nil {
				wf = runWorkflow(ctx, eng, runID)
			}
			name := "NAME"
			if node := lookup(wf, n.NodeID); node != nil && node.Event != nil {
				name = node.Event.Name
			}
			fmt.Fprintf(w, "  waiting for event %s (signal %q)", n.NodeID, name)
			if !data.Deadline.IsZero() {
				fmt.Fprintf(w, ", times out at %s", data.Deadline.Local().Format(time.DateTime))
			}
			fmt.Fprintf(w, "\n    smithc signal %s %s --data '{...}'\n", runID, name)
		case "timer":
			fmt.Fprintf(w, "  waiting for timer %s", n.NodeID)
			if !data.Due.IsZero() {
				fmt.Fprintf(w, ", due at %s", data.Due.Local().Format(time.DateTime))
			}
			fmt.Fprintf(w, "\n    smithc resume %s continues it once it is due (or run with --wait auto or always)\n", runID)
		}
	}
}

// explainFailure adds what to do about a failed run: a denied approval
// stands until retry re-opens it; anything else is resumed.
func (s *session) explainFailure(ctx context.Context, st store.Store, runID string) {
	w := s.a.stdout
	aps, _ := st.ApprovalList(ctx, &store.ApprovalListParams{RunID: runID}) // best effort: hints only
	sortApprovals(aps)
	for _, ap := range aps {
		if ap.Decided && !ap.Approved {
			fmt.Fprintf(w, "  approval %s was denied by %s; a denial stands: `smithc retry %s %s` re-opens it\n", ap.NodeID, ap.By, runID, ap.NodeID)
			return
		}
	}
	fmt.Fprintf(w, "  fix the cause, then `smithc resume %s` re-runs the failed nodes (finished ones stay finished)\n", runID)
}

// runWorkflow reads a run's workflow, compiled from its stored sources;
// nil when that is not possible.
func runWorkflow(ctx context.Context, eng *runtime.Engine, runID string) *ir.Workflow {
	_, wf, err := eng.RunProgram(ctx, runID)
	if err != nil {
		return nil
	}
	return wf
}

// liveOwner returns the process executing a run when that is another
// process or another engine ("" otherwise), and the run as it stands now
// (nil when it cannot be read).
func liveOwner(ctx context.Context, eng *runtime.Engine, runID string) (string, *runtime.Result) {
	run, err := eng.Store().RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return "", nil
	}
	res := &runtime.Result{RunID: run.ID, Status: run.Status, Error: run.Error}
	if len(run.Output) > 0 {
		dec := json.NewDecoder(bytes.NewReader(run.Output))
		dec.UseNumber()             // keep large integers exact
		_ = dec.Decode(&res.Output) // the output was validated JSON when stored
	}
	if run.Status.Terminal() {
		return "", res
	}
	if eng.Executing(runID) {
		return "", res // this command's own engine
	}
	owner, err := eng.LiveOwner(ctx, runID)
	if err != nil {
		return "", res
	}
	return owner, res
}

// lookup finds a node of wf by id; wf may be nil.
func lookup(wf *ir.Workflow, id string) *ir.Node {
	if wf == nil {
		return nil
	}
	return wf.Lookup(id)
}

func whoami() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

// sortApprovals orders approvals by node id and scope, so that hints and
// prompts do not depend on which of several concurrent approvals was
// requested first.
func sortApprovals(aps []*store.Approval) {
	sort.SliceStable(aps, func(i, j int) bool {
		if aps[i].NodeID != aps[j].NodeID {
			return aps[i].NodeID < aps[j].NodeID
		}
		return aps[i].Scope < aps[j].Scope
	})
}
