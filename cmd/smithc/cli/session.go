package cli

import (
	"bufio"
	"context"
	"fmt"
	"os/user"
	"strings"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

// session is one command's stay with a run: it shows progress, prompts
// for approvals at a terminal (wait mode auto), and prints the result.
type session struct {
	a        *app
	format   string
	mode     runtime.WaitMode
	progress *progress
	prompt   bool // ask for approvals inline
}

func (a *app) newSession(f *sessionFlags, mode runtime.WaitMode) *session {
	return &session{
		a: a, format: f.format, mode: mode,
		// Progress goes to stderr so that stdout carries only the result.
		progress: newProgress(a.stderr),
		prompt:   mode == runtime.WaitAuto && a.isTerminal && f.format == "text",
	}
}

func (s *session) observe(ev store.Event) { s.progress.observe(ev) }

func (s *session) engineMode() runtime.WaitMode { return s.mode }

// finish prompts for pending approvals while at a terminal, then prints
// the result and returns the exit code as an error.
func (s *session) finish(ctx context.Context, eng *runtime.Engine, r *runtime.Result) error {
	in := bufio.NewReader(s.a.stdin)
	for s.prompt && r.Status == store.RunWaitingApproval && ctx.Err() == nil {
		next, asked, err := s.askApproval(ctx, eng, in, r.RunID)
		if err != nil {
			return exitf(ExitFailed, "%v", err)
		}
		if !asked {
			break
		}
		r = next
	}
	s.a.printResult(s.format, r)
	if r.Status.Waiting() && s.format == "text" {
		s.explainWait(ctx, eng.Store(), r.RunID)
	}
	return exitFor(r.Status)
}

// askApproval asks about the first pending approval and records the
// answer, continuing the run. asked is false when nothing was pending or
// the person gave no answer (end of input).
func (s *session) askApproval(ctx context.Context, eng *runtime.Engine, in *bufio.Reader, runID string) (*runtime.Result, bool, error) {
	aps, err := eng.Store().ApprovalList(ctx, &store.ApprovalListParams{RunID: runID})
	if err != nil {
		return nil, false, err
	}
	for _, ap := range aps {
		if ap.Decided {
			continue
		}
		w := s.a.stdout
		fmt.Fprintf(w, "\napproval %s: %s\n", ap.NodeID, ap.Title)
		if ap.Summary != "" {
			fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(ap.Summary, "\n", "\n  "))
		}
		fmt.Fprintf(w, "approve? [y/n] ")
		answer, err := in.ReadString('\n')
		answer = strings.ToLower(strings.TrimSpace(answer))
		if answer == "" && err != nil {
			fmt.Fprintln(w)
			return nil, false, nil
		}
		fmt.Fprintf(w, "note (optional): ")
		note, _ := in.ReadString('\n') // an empty note is fine
		d := runtime.Decision{By: whoami(), Note: strings.TrimSpace(note)}
		var r *runtime.Result
		if answer == "y" || answer == "yes" {
			r, err = eng.Approve(ctx, runID, ap.NodeID, d, true)
		} else {
			r, err = eng.Deny(ctx, runID, ap.NodeID, d, true)
		}
		return r, true, err
	}
	return nil, false, nil
}

// explainWait tells the person what the run waits for and how to act.
func (s *session) explainWait(ctx context.Context, st store.Store, runID string) {
	w := s.a.stdout
	aps, _ := st.ApprovalList(ctx, &store.ApprovalListParams{RunID: runID}) // best effort: hints only
	for _, ap := range aps {
		if !ap.Decided {
			fmt.Fprintf(w, "  waiting for approval %s: %s\n", ap.NodeID, ap.Title)
			fmt.Fprintf(w, "    smithc approve %s %s [--note ...]   or   smithc deny %s %s\n", runID, ap.NodeID, runID, ap.NodeID)
		}
	}
	nodes, _ := st.NodeList(ctx, &store.NodeListParams{RunID: runID}) // best effort: hints only
	for _, n := range nodes {
		if n.State != store.NodeWaiting {
			continue
		}
		switch n.Kind {
		case "event":
			fmt.Fprintf(w, "  waiting for event %s %s\n", n.NodeID, string(n.Data))
			fmt.Fprintf(w, "    smithc signal %s NAME --data '{...}'\n", runID)
		case "timer":
			fmt.Fprintf(w, "  waiting for timer %s %s\n", n.NodeID, string(n.Data))
			fmt.Fprintf(w, "    smithc resume %s  (or run with --wait always) continues it when it is due\n", runID)
		}
	}
}

func whoami() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}
