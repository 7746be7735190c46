package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/user"
	"strings"
	"sync"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
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
	switch {
	case f.progress == "quiet":
		s.progress = nil // no observer: the engine formats and hands over nothing
	case f.progress == "auto" && a.stderrTTY && f.format == "text" && !dumbTerminal():
		w, h := terminalSize(a.stderr)
		s.live = newLiveView(a.stderr, nil, time.Now, colorWanted(), w, h)
		s.live.size = func() (int, int) { return terminalSize(a.stderr) }
	}
	return s
}

// sessionEngine opens the store f names and an engine over it whose
// events a new session shows: what every command that drives a run
// starts with. done closes the store.
func (a *app) sessionEngine(ctx context.Context, f *sessionFlags, mode runtime.WaitMode) (s *session, eng *runtime.Engine, done func(), err error) {
	st, err := a.openStore(ctx, &f.dbFlags)
	if err != nil {
		return nil, nil, nil, err
	}
	s = a.newSession(f, mode)
	if eng, err = a.newEngine(st, engineOptions{maxConcurrency: f.maxConcurrency, observe: s.observer()}); err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return s, eng, func() { st.Close() }, nil
}

// observer is what the engine calls with each committed event: nil with
// --progress quiet, so that the engine does not even queue them.
func (s *session) observer() func(store.Event) {
	if s.live == nil && s.progress == nil {
		return nil
	}
	return s.observe
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
// shape comes from its stored program and the states from the read
// model. Both are best effort: a view without them fills in as events
// arrive.
func (s *session) begin(ctx context.Context, eng *runtime.Engine, runID string, wf *ir.Workflow) {
	if s.live == nil {
		return
	}
	if runID != "" {
		if wf == nil {
			_, wf, _ = eng.RunProgram(ctx, runID) // best effort: no shape until events arrive
		}
		s.live.setWorkflow(wf)
		s.refreshLive(ctx, eng, runID)
	} else {
		s.live.setWorkflow(wf)
	}
	s.live.start()
}

// refreshLive sets the live view's states from the read model: where a
// run stands when it was continued elsewhere, or waits in ways no event
// shows. Best effort: the view keeps what it had when the store is busy.
func (s *session) refreshLive(ctx context.Context, eng *runtime.Engine, runID string) {
	if s.live == nil {
		return
	}
	run, err := eng.RunSummary(ctx, runID)
	if err != nil {
		return
	}
	nodes, err := eng.NodeTable(ctx, runID)
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
	in := s.lineReader()
	for s.prompt && ctx.Err() == nil {
		var next *runtime.Result
		if owner, fresh := liveOwner(ctx, eng, r.RunID); owner != "" && fresh != nil && !fresh.Status.Terminal() {
			// Another shell's command continues the run: follow it until
			// it ends or waits for a person again.
			n, err := s.follow(ctx, eng, fresh, owner)
			if err != nil {
				return exitf(ExitFailed, "%v", err)
			}
			if ctx.Err() != nil {
				r = n
				break
			}
			r = n
			continue
		}
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
				s.refreshLive(ctx, eng, r.RunID) // no event says that an event node waits
				s.live.pause()                   // the hint goes below the last frame
			}
			s.explainWait(ctx, eng, r.RunID)
			if s.live != nil {
				s.live.start()
			}
			n, err := s.awaitEvent(ctx, eng, r)
			if err != nil {
				return exitf(ExitFailed, "%v", err)
			}
			if n.Status != store.RunWaitingEvent || ctx.Err() == nil && n.Status == store.RunWaitingEvent && isLive(ctx, eng, n.RunID) {
				next = n
			}
		}
		if next == nil {
			break
		}
		r = next
	}
	s.refreshLive(ctx, eng, r.RunID) // another process may have moved the run on
	s.end()
	if !r.Status.Terminal() {
		owner, fresh := liveOwner(ctx, eng, r.RunID)
		if fresh != nil {
			r = fresh // where it stands now: another process may have moved it on
		}
		if owner != "" && !r.Status.Terminal() {
			// A decision or signal handed to the process executing the
			// run (run --wait always, a worker): done here.
			if s.format == "json" {
				s.a.printResult(s.format, r, s.waits(ctx, eng, r))
			} else {
				s.a.printf("run %s is %s in process %s, which continues it (smithc logs %s -f follows it)\n", r.RunID, r.Status, owner, r.RunID)
			}
			return nil
		}
	}
	s.a.printResult(s.format, r, s.waits(ctx, eng, r))
	if s.format == "text" {
		switch {
		case r.Status.Waiting():
			s.explainWait(ctx, eng, r.RunID)
		case r.Status == store.RunFailed:
			s.explainFailure(ctx, eng, r)
		}
	}
	return exitFor(r.Status)
}

// waits returns what a waiting run waits on, for its JSON result; nil
// otherwise. Best effort: a result without them is still the result.
func (s *session) waits(ctx context.Context, eng *runtime.Engine, r *runtime.Result) []*runtime.Wait {
	if !r.Status.Waiting() || s.format != "json" {
		return nil
	}
	ws, _ := eng.Waits(ctx, r.RunID) // best effort, see above
	return ws
}

// isLive reports whether another process executes the run.
func isLive(ctx context.Context, eng *runtime.Engine, runID string) bool {
	owner, _ := liveOwner(ctx, eng, runID)
	return owner != ""
}

// follow stays with a run another process executes (a decision or
// signal made from another shell continued it there) until that process
// lets it go (it ended or waits again) or ctx ends; it returns the run
// as it then stands.
func (s *session) follow(ctx context.Context, eng *runtime.Engine, r *runtime.Result, owner string) (*runtime.Result, error) {
	if s.live != nil {
		s.live.pause()
	}
	fmt.Fprintf(s.a.stdout, "run %s was continued by process %s; following it (Ctrl-C stops following, the run goes on)\n", r.RunID, owner)
	if s.live != nil {
		s.live.start()
	}
	t := time.NewTicker(awaitPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return r, nil
		case <-t.C:
		}
		o, fresh := liveOwner(ctx, eng, r.RunID)
		if fresh == nil {
			continue // a busy store: try again
		}
		r = fresh
		s.refreshLive(ctx, eng, r.RunID)
		if o == "" || r.Status.Terminal() {
			return r, nil
		}
	}
}

// askApproval asks about the first pending approval, and for the
// fields it declares, and records the answer, continuing the run. asked
// is false when nothing was pending or the person gave no answer (end of
// input).
func (s *session) askApproval(ctx context.Context, eng *runtime.Engine, in *lines, runID string) (*runtime.Result, bool, error) {
	aps, err := eng.PendingApprovals(ctx, runID)
	if err != nil {
		return nil, false, err
	}
	for _, ap := range aps {
		if s.live != nil {
			s.live.pause() // the question goes below the last frame
		}
		w := s.a.stdout
		fmt.Fprintf(w, "\napproval %s: %s\n", ap.NodeID, ap.Title)
		if ap.Summary != "" {
			fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(ap.Summary, "\n", "\n  "))
		}
		if !ap.Deadline.IsZero() {
			fmt.Fprintf(w, "  (times out at %s)\n", ap.Deadline.Local().Format(time.DateTime))
		}
		// A decision made from another shell meanwhile ends the question.
		elsewhere := func() bool {
			still, err := eng.PendingApprovals(ctx, runID)
			if err != nil {
				return false
			}
			for _, x := range still {
				if x.NodeID == ap.NodeID && x.Scope == ap.Scope {
					return false
				}
			}
			return true
		}
		var approved bool
		for {
			fmt.Fprintf(w, "approve? [y/n] ")
			answer, err := in.read(ctx, elsewhere)
			if errors.Is(err, errElsewhere) {
				fmt.Fprintf(w, "\napproval %s was decided from another shell\n", ap.NodeID)
				return s.standing(ctx, eng, runID)
			}
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
		var data map[string]any
		if approved && ap.Fields != nil {
			var ok bool
			if data, ok = askFields(ctx, w, in, ap.NodeID, ap.Fields, elsewhere); !ok {
				if elsewhere() {
					fmt.Fprintf(w, "\napproval %s was decided from another shell\n", ap.NodeID)
					return s.standing(ctx, eng, runID)
				}
				fmt.Fprintln(w)
				return nil, false, nil
			}
		}
		fmt.Fprintf(w, "note (optional): ")
		note, err := in.read(ctx, elsewhere)
		if errors.Is(err, errElsewhere) {
			fmt.Fprintf(w, "\napproval %s was decided from another shell\n", ap.NodeID)
			return s.standing(ctx, eng, runID)
		}
		if err != nil && ctx.Err() != nil {
			fmt.Fprintln(w)
			return nil, false, nil
		}
		if s.live != nil {
			s.live.start()
		}
		d := runtime.Decision{By: whoami(), Note: strings.TrimSpace(note), Data: data, Scope: ap.Scope}
		var r *runtime.Result
		if approved {
			r, err = eng.Approve(ctx, runID, ap.NodeID, d, true)
		} else {
			r, err = eng.Deny(ctx, runID, ap.NodeID, d, true)
		}
		if err != nil && (errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound)) {
			// Decided from another shell meanwhile (or timed out): say so
			// and follow the run as it stands.
			fmt.Fprintf(w, "approval %s was decided elsewhere meanwhile: %v\n", ap.NodeID, err)
			return s.standing(ctx, eng, runID)
		}
		return r, true, err
	}
	return nil, false, nil
}

// askFields asks for each field an approval declares, typed: enum
// choices and defaults are shown, an empty answer takes the default (or
// leaves an optional field out), a value that does not fit is asked
// again. ok is false at the end of input.
func askFields(ctx context.Context, w io.Writer, in *lines, node string, fields *schema.Type, elsewhere func() bool) (map[string]any, bool) {
	data := map[string]any{}
	for _, f := range fields.Fields {
		for {
			fmt.Fprintf(w, "  %s (%s", f.Name, f.Type) // an enum reads as its choices: "low" | "high"
			switch {
			case f.HasDefault:
				b, _ := json.Marshal(f.Default) // defaults are JSON-like values
				fmt.Fprintf(w, ", default %s", b)
			case f.Optional:
				fmt.Fprintf(w, ", optional")
			}
			fmt.Fprintf(w, "): ")
			answer, err := in.read(ctx, elsewhere)
			answer = strings.TrimSpace(answer)
			if answer == "" {
				if err != nil {
					return nil, false
				}
				if f.HasDefault || f.Optional {
					break // the runtime applies the default
				}
				fmt.Fprintf(w, "  %s is required\n", f.Name)
				continue
			}
			v, cerr := schema.Coerce(f.Type, answer, node+"."+f.Name)
			if cerr != nil {
				fmt.Fprintf(w, "  %v\n", cerr)
				if err != nil {
					return nil, false
				}
				continue
			}
			data[f.Name] = v
			break
		}
	}
	return data, true
}

// decodeRaw decodes a stored JSON value, keeping large integers exact.
func decodeRaw(raw []byte) any {
	if len(raw) == 0 {
		return nil
	}
	v, err := schema.DecodeJSON(raw)
	if err != nil {
		return nil
	}
	return v
}

// errElsewhere: the question was answered from another shell meanwhile.
var errElsewhere = errors.New("decided elsewhere")

// lines reads the person's answers, one line at a time, from one
// goroutine for the whole session, so that a question given up (Ctrl-C,
// a decision from another shell) does not swallow the next answer. The
// goroutine starts at the first question: a session that asks nothing
// (most runs) never reads standard input.
type lines struct {
	ch    chan line
	in    io.Reader
	start sync.Once
}

type line struct {
	s   string
	err error
}

// lineReader is the session's reader of standard input.
func (s *session) lineReader() *lines {
	return &lines{ch: make(chan line), in: s.a.stdin}
}

func (l *lines) run() {
	in := bufio.NewReader(l.in)
	for {
		text, err := in.ReadString('\n')
		l.ch <- line{text, err}
		if err != nil {
			close(l.ch)
			return
		}
	}
}

// read returns the next line; Ctrl-C (the end of ctx) interrupts it, and
// so does elsewhere (polled every awaitPoll, when set) reporting true,
// with errElsewhere. The reading goroutine is left to the process's exit.
func (l *lines) read(ctx context.Context, elsewhere func() bool) (string, error) {
	l.start.Do(func() { go l.run() })
	t := time.NewTicker(awaitPoll)
	defer t.Stop()
	for {
		select {
		case ln, ok := <-l.ch:
			if !ok {
				return "", io.EOF
			}
			return ln.s, ln.err
		case <-ctx.Done():
			return "", ctx.Err()
		case <-t.C:
			if elsewhere != nil && elsewhere() {
				return "", errElsewhere
			}
		}
	}
}

// standing returns a run as it stands now, after a question was given
// up because it was answered elsewhere.
func (s *session) standing(ctx context.Context, eng *runtime.Engine, runID string) (*runtime.Result, bool, error) {
	if s.live != nil {
		s.live.start()
	}
	fresh, err := eng.RunSummary(ctx, runID)
	if err != nil {
		return nil, true, err
	}
	return &runtime.Result{RunID: runID, Status: fresh.Status, Error: fresh.Error, Output: decodeRaw(fresh.Output), TimedOut: fresh.TimedOut}, true, nil
}

// explainWait tells the person what the run waits for and how to act.
// Best effort: these are hints.
func (s *session) explainWait(ctx context.Context, eng *runtime.Engine, runID string) {
	ws, _ := eng.Waits(ctx, runID) // best effort: hints only
	writeWaits(s.a.stdout, runID, ws, time.Time{})
}

// explainFailure adds what to do about a failed run: a denied approval
// stands until retry re-opens it; anything else is resumed.
func (s *session) explainFailure(ctx context.Context, eng *runtime.Engine, r *runtime.Result) {
	w := s.a.stdout
	if r.TimedOut {
		fmt.Fprintf(w, "  the run hit its deadline: `smithc resume %s --timeout DURATION` continues it with a new one (finished nodes stay finished)\n", r.RunID)
		return
	}
	aps, _ := eng.Approvals(ctx, r.RunID) // best effort: hints only
	for _, ap := range aps {
		if ap.Decided && !ap.Approved {
			fmt.Fprintf(w, "  approval %s was denied by %s; a denial stands: `smithc retry %s %s` re-opens it\n", ap.NodeID, ap.By, r.RunID, ap.NodeID)
			return
		}
	}
	if loop := failedLoop(ctx, eng, r.RunID); loop != "" {
		// The loop's own error says to retry it: resuming would fail the
		// same way.
		return
	}
	fmt.Fprintf(w, "  fix the cause, then `smithc resume %s` re-runs the failed nodes (finished ones stay finished)\n", r.RunID)
}

// failedLoop returns the loop that failed a run by reaching its
// max_iterations ("" when none did): resume cannot change that, only
// `smithc retry RUN LOOP` can.
func failedLoop(ctx context.Context, eng *runtime.Engine, runID string) string {
	loop, _ := eng.FailedLoop(ctx, runID) // best effort: hints only
	return loop
}

// liveOwner returns the process executing a run when that is another
// process or another engine ("" otherwise), and the run as it stands now
// (nil when it cannot be read).
func liveOwner(ctx context.Context, eng *runtime.Engine, runID string) (string, *runtime.Result) {
	run, err := eng.RunSummary(ctx, runID)
	if err != nil {
		return "", nil
	}
	res := &runtime.Result{RunID: run.ID, Status: run.Status, Error: run.Error, Output: decodeRaw(run.Output)}
	if run.Status.Terminal() || eng.Executing(runID) || !run.OwnerLive {
		return "", res
	}
	return run.Owner, res
}

func whoami() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}
