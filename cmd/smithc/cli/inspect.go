package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

func (a *app) newPsCmd() *cobra.Command {
	var (
		f        dbFlags
		statuses []string
		limit    int
		format   string
	)
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
			}
			ctx := cmd.Context()
			var ss []store.RunStatus
			for _, s := range statuses {
				rs := store.RunStatus(s)
				if !validStatus(rs) {
					return exitf(ExitUsage, "--status %q: want running, waiting-approval, waiting-event, waiting-timer, paused, finished, failed or cancelled", s)
				}
				ss = append(ss, rs)
			}
			st, err := a.openStoreReadOnly(ctx, &f)
			if err != nil {
				return err
			}
			defer st.Close()
			eng, err := a.newEngine(st, engineOptions{})
			if err != nil {
				return err
			}
			runs, truncated, err := eng.RunList(ctx, runtime.RunListParams{Statuses: ss, Limit: limit})
			if err != nil {
				return exitf(ExitFailed, "%v", err)
			}
			usages := make([]runtime.Usage, len(runs))
			for i, r := range runs {
				u, err := eng.Usage(ctx, r.ID)
				if err != nil {
					return exitf(ExitFailed, "%v", err)
				}
				usages[i] = u.Total
			}
			if format == "json" {
				out := make([]map[string]any, 0, len(runs))
				for i, r := range runs {
					m := runJSON(r)
					m["tokens"], m["cost_usd"] = usages[i].Tokens(), usages[i].CostUSD
					out = append(out, m)
				}
				return writeJSON(a.stdout, out)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN ID\tWORKFLOW\tSTATUS\tSTARTED\tELAPSED\tTOKENS\tCOST\tPARENT\tERROR")
			for i, r := range runs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Workflow, r.Status,
					r.CreatedAt.Local().Format("2006-01-02 15:04:05"), roundDuration(r.Elapsed),
					formatTokens(usages[i].Tokens()), formatCost(usages[i].CostUSD), orDash(r.ParentRunID), truncate(r.Error, 60))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if truncated {
				fmt.Fprintf(a.stderr, "(showing the newest %d runs; --limit 0 shows all)\n", limit)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringSliceVar(&statuses, "status", nil, "only runs with these statuses (comma-separated)")
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many runs (0: all)")
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

func validStatus(s store.RunStatus) bool {
	switch s {
	case store.RunRunning, store.RunWaitingApproval, store.RunWaitingEvent, store.RunWaitingTimer,
		store.RunFinished, store.RunFailed, store.RunCancelled, store.RunPaused:
		return true
	}
	return false
}

// roundDuration renders a duration to the millisecond under a minute
// and to the second above.
func roundDuration(d time.Duration) string {
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func truncate(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func runJSON(r *runtime.RunSummary) map[string]any {
	return map[string]any{
		"run_id": r.ID, "workflow": r.Workflow, "status": r.Status, "error": nullIfEmpty(r.Error),
		"parent_run_id": nullIfEmpty(r.ParentRunID), "parent_node": nullIfEmpty(r.ParentNode), "source": r.SourcePath,
		"input": json.RawMessage(orNull(r.Input)), "output": json.RawMessage(orNull(r.Output)),
		"created_at": r.CreatedAt, "finished_at": timeOrNil(r.FinishedAt), "owner": nullIfEmpty(r.Owner),
		"elapsed_ms": r.Elapsed.Milliseconds(), "waiting_since": timeOrNil(r.WaitingSince),
	}
}

func orNull(b []byte) []byte {
	if len(b) == 0 {
		return []byte("null")
	}
	return b
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func (a *app) newInspectCmd() *cobra.Command {
	var (
		f      dbFlags
		format string
		page   inspectPage
	)
	cmd := &cobra.Command{
		Use:   "inspect RUN_ID",
		Short: "Show a run and its nodes: states, attempts, durations, outputs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
			}
			ctx := cmd.Context()
			p := runtime.InspectParams{Head: page.nodes, Tail: page.nodes}
			if page.all || format == "json" && !cmd.Flags().Changed("nodes") {
				p = runtime.InspectParams{}
			}
			return a.withEngine(ctx, &f, true, func(eng *runtime.Engine) error { return a.inspect(ctx, eng, args[0], format, p) })
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	cmd.Flags().IntVar(&page.nodes, "nodes", 20, "show the first and the last N node instances of a larger run")
	cmd.Flags().BoolVar(&page.all, "all", false, "show every node instance")
	return cmd
}

// inspectPage is how much of a run's node table inspect shows.
type inspectPage struct {
	nodes int
	all   bool
}

func (a *app) inspect(ctx context.Context, eng *runtime.Engine, runID, format string, p runtime.InspectParams) error {
	in, err := eng.InspectPage(ctx, runID, p)
	if err != nil {
		return a.runError(runID, err)
	}
	usage, err := eng.Usage(ctx, runID)
	if err != nil {
		return a.runError(runID, err)
	}
	run := in.Run
	if format == "json" {
		out := runJSON(run)
		out["usage"] = usageJSON(usage.Total)
		ns := []map[string]any{}
		for _, n := range in.Nodes {
			ns = append(ns, map[string]any{
				"usage":   nodeUsageJSON(usage.Node(n.NodeID, n.Scope)),
				"node_id": n.NodeID, "scope": n.Scope, "iteration": n.Iteration, "kind": n.Kind, "state": n.State,
				"attempts": n.Attempts, "output": json.RawMessage(orNull(n.Output)), "error": nullIfEmpty(n.Error),
				"error_kind": nullIfEmpty(n.ErrorKind), "data": json.RawMessage(orNull(n.Data)), "started_at": timeOrNil(n.StartedAt),
				"finished_at": timeOrNil(n.FinishedAt), "duration_ms": n.Duration.Milliseconds(), "child_run_id": nullIfEmpty(n.ChildRunID),
				"session": sessionJSON(n.Session), "handoff": handoffJSON(n.Handoff),
			})
		}
		out["nodes"] = ns
		out["node_count"], out["nodes_omitted"] = in.NodeCount, in.NodesOmitted
		aps := []map[string]any{}
		for _, ap := range in.Approvals {
			aps = append(aps, map[string]any{"node_id": ap.NodeID, "scope": ap.Scope, "title": ap.Title, "decided": ap.Decided,
				"approved": ap.Approved, "by": ap.By, "note": ap.Note, "decided_at": timeOrNil(ap.DecidedAt),
				"deadline": timeOrNil(ap.Deadline)})
		}
		out["approvals"] = aps
		out["waiting"] = waitsJSON(in.Waits)
		out["forked_from"] = nil
		if in.ForkedFrom != nil {
			out["forked_from"] = map[string]any{"run_id": in.ForkedFrom.RunID, "node": in.ForkedFrom.Node}
		}
		return writeJSON(a.stdout, out)
	}
	a.printf("run       %s\n", run.ID)
	a.printf("workflow  %s (%s)\n", run.Workflow, run.SourcePath)
	a.printf("status    %s\n", run.Status)
	if run.Error != "" {
		a.printf("error     %s\n", run.Error)
	}
	if run.ParentRunID != "" {
		a.printf("parent    %s (node %s)\n", run.ParentRunID, run.ParentNode)
	}
	if f := in.ForkedFrom; f != nil {
		a.printf("forked    from run %s at node %s\n", f.RunID, f.Node)
	}
	a.printf("started   %s  (%s)\n", run.CreatedAt.Local().Format(time.DateTime), roundDuration(run.Elapsed))
	if run.Owner != "" && run.OwnerLive {
		a.printf("owner     %s (lease until %s)\n", run.Owner, run.LeaseExpiresAt.Local().Format(time.TimeOnly))
	}
	if usage.Total.Replies > 0 {
		a.printf("agents    %s\n", usageLine(usage.Total))
	}
	a.printf("input     %s\n", truncate(string(orNull(run.Input)), 200))
	if len(run.Output) > 0 && string(run.Output) != "null" {
		a.printf("output    %s\n", truncate(string(run.Output), 200))
	}
	a.printf("\n")
	tw := tabwriter.NewWriter(a.stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tKIND\tSTATE\tATTEMPTS\tDURATION\tOUTPUT / ERROR")
	for i, n := range in.Nodes {
		if in.NodesOmitted > 0 && i == p.Head {
			fmt.Fprintf(tw, "…\t\t\t\t\t%d more\n", in.NodesOmitted)
		}
		id := strings.Repeat("  ", n.Depth) + n.NodeID
		if n.Scope != "" {
			id += "[" + n.Scope + "]"
		}
		if n.Iteration > 0 {
			id += fmt.Sprintf("#%d", n.Iteration)
		}
		dur := ""
		if n.Duration > 0 || !n.FinishedAt.IsZero() {
			dur = roundDuration(n.Duration)
		}
		detail := string(n.Output)
		if n.Error != "" {
			detail = "error: " + n.Error
		}
		if detail == "null" {
			detail = ""
		}
		if n.ChildRunID != "" {
			detail = strings.TrimSpace("child run " + n.ChildRunID + "  " + detail)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", id, n.Kind, n.State, n.Attempts, dur, truncate(detail, 80))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if in.NodesOmitted > 0 {
		a.printf("(the first %d and the last %d of %d node instances; --all shows every one, --nodes N the first and last N)\n",
			p.Head, p.Tail, in.NodeCount)
	}
	for _, n := range in.Nodes {
		if h := n.Handoff; h != nil {
			a.printf("hijacked %s: attempt %d's %s session %s (in %s) handed over at %s by %s\n", instLabel(h.NodeID, h.Scope), h.Attempt,
				h.Session.Kind, h.Session.ID, h.Session.Dir, h.Time.Local().Format(time.DateTime), h.By)
		}
	}
	for _, ap := range in.Approvals {
		state := "waiting"
		if ap.Decided {
			state = map[bool]string{true: "approved", false: "denied"}[ap.Approved] + " by " + ap.By
			if ap.Note != "" {
				state += " (" + ap.Note + ")"
			}
		} else if !ap.Deadline.IsZero() {
			state += ", times out at " + ap.Deadline.Local().Format(time.DateTime)
		}
		a.printf("approval %s: %s — %s\n", ap.NodeID, ap.Title, state)
	}
	if usage.Total.Replies > 0 {
		a.printf("\n")
		if err := writeUsage(a.stdout, usage); err != nil {
			return err
		}
	}
	if len(in.Waits) > 0 {
		a.printf("\n")
		writeWaits(a.stdout, run.ID, in.Waits, time.Now())
	}
	return nil
}

// logsPage is how many events logs reads at a time.
const logsPage = 2000

func (a *app) newLogsCmd() *cobra.Command {
	var (
		f      dbFlags
		follow bool
		format string
	)
	cmd := &cobra.Command{
		Use:   "logs RUN_ID",
		Short: "Print a run's event log (-f follows it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := a.openStoreReadOnly(ctx, &f)
			if err != nil {
				return err
			}
			defer st.Close()
			eng, err := a.newEngine(st, engineOptions{})
			if err != nil {
				return err
			}
			if _, err := eng.RunSummary(ctx, args[0]); err != nil {
				return a.runError(args[0], err)
			}
			// One write per page, not per line: written out before each
			// wait for more and at the end.
			out := bufio.NewWriterSize(a.stdout, 64<<10)
			defer out.Flush()
			enc := json.NewEncoder(out)
			enc.SetEscapeHTML(false)
			var after int64
			ended := false // the run had ended before the last read began
			for {
				if follow && !ended {
					// Read before the events: a run that has ended has
					// committed its last event, so the reads that follow
					// get all of them (read after, the end could fall
					// between the two reads and its events be missed).
					run, err := eng.RunSummary(ctx, args[0])
					ended = err == nil && run.Status.Terminal()
				}
				// In pages: a run of 10⁵ steps has 4×10⁵ events, printed
				// as they are read, in bounded memory.
				evs, err := eng.Events(ctx, args[0], after, logsPage)
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return exitf(ExitFailed, "%v", err)
				}
				for _, ev := range evs {
					after = ev.Seq
					if format == "json" {
						if err := enc.Encode(eventJSON(ev)); err != nil {
							return err
						}
						continue
					}
					out.WriteString(formatEvent(*ev))
					out.WriteByte('\n')
				}
				if err := out.Flush(); err != nil {
					return err
				}
				if len(evs) == logsPage {
					continue // more to read now
				}
				if !follow || ended {
					return nil
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(250 * time.Millisecond):
				}
			}
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new events until the run ends")
	cmd.Flags().StringVar(&format, "format", "text", "text, or json for NDJSON")
	return cmd
}

func eventJSON(ev *store.Event) map[string]any {
	return map[string]any{
		"seq": ev.Seq, "run_id": ev.RunID, "node_id": nullIfEmpty(ev.NodeID), "scope": nullIfEmpty(ev.Scope),
		"iteration": ev.Iteration, "attempt": ev.Attempt, "kind": ev.Kind, "time": ev.Time,
		"data": json.RawMessage(orNull(ev.Data)),
	}
}

// sessionJSON is an agent step's session as inspect --format json shows
// it (null when none).
func sessionJSON(s *runtime.AgentSession) any {
	if s == nil {
		return nil
	}
	return map[string]any{"agent": s.Agent, "kind": s.Kind, "session_id": s.ID, "dir": s.Dir, "attempt": s.Attempt}
}

// handoffJSON is a hijack's handoff record (null when none).
func handoffJSON(h *runtime.Handoff) any {
	if h == nil {
		return nil
	}
	return map[string]any{"attempt": h.Attempt, "agent": h.Session.Agent, "kind": h.Session.Kind, "session_id": h.Session.ID,
		"dir": h.Session.Dir, "by": h.By, "time": h.Time}
}
