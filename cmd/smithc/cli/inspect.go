package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/smithc/smithc/compiler/ir"
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
					return exitf(ExitUsage, "--status %q: want running, waiting-approval, waiting-event, waiting-timer, finished, failed or cancelled", s)
				}
				ss = append(ss, rs)
			}
			st, err := a.openStoreReadOnly(ctx, &f)
			if err != nil {
				return err
			}
			defer st.Close()
			runs, err := st.RunList(ctx, &store.RunListParams{Statuses: ss, Limit: limit})
			if err != nil {
				return exitf(ExitFailed, "%v", err)
			}
			if format == "json" {
				out := make([]map[string]any, 0, len(runs))
				for _, r := range runs {
					out = append(out, runJSON(r))
				}
				return writeJSON(a.stdout, out)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN ID\tWORKFLOW\tSTATUS\tSTARTED\tDURATION\tERROR")
			for _, r := range runs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Workflow, r.Status,
					r.CreatedAt.Local().Format("2006-01-02 15:04:05"), runDuration(r), truncate(r.Error, 60))
			}
			return tw.Flush()
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
		store.RunFinished, store.RunFailed, store.RunCancelled:
		return true
	}
	return false
}

func runDuration(r *store.Run) string {
	end := r.FinishedAt
	if end.IsZero() {
		end = r.UpdatedAt
	}
	return end.Sub(r.CreatedAt).Round(time.Millisecond).String()
}

func truncate(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func runJSON(r *store.Run) map[string]any {
	return map[string]any{
		"run_id": r.ID, "workflow": r.Workflow, "status": r.Status, "error": nullIfEmpty(r.Error),
		"parent_run_id": nullIfEmpty(r.ParentRunID), "source": r.SourcePath,
		"input": json.RawMessage(orNull(r.Input)), "output": json.RawMessage(orNull(r.Output)),
		"created_at": r.CreatedAt, "finished_at": timeOrNil(r.FinishedAt), "owner": nullIfEmpty(r.Owner),
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
			st, err := a.openStoreReadOnly(ctx, &f)
			if err != nil {
				return err
			}
			defer st.Close()
			return a.inspect(ctx, st, args[0], format)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

func (a *app) inspect(ctx context.Context, st store.Store, runID, format string) error {
	run, err := st.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return runError(runID, err)
	}
	nodes, err := st.NodeList(ctx, &store.NodeListParams{RunID: runID})
	if err != nil {
		return exitf(ExitFailed, "%v", err)
	}
	depth := treeOrder(runWorkflow(ctx, st, runID), nodes)
	approvals, err := st.ApprovalList(ctx, &store.ApprovalListParams{RunID: runID})
	if err != nil {
		return exitf(ExitFailed, "%v", err)
	}
	if format == "json" {
		out := runJSON(run)
		ns := []map[string]any{}
		for _, n := range nodes {
			ns = append(ns, map[string]any{
				"node_id": n.NodeID, "scope": n.Scope, "iteration": n.Iteration, "kind": n.Kind, "state": n.State,
				"attempts": n.Attempts, "output": json.RawMessage(orNull(n.Output)), "error": nullIfEmpty(n.Error),
				"error_kind": nullIfEmpty(n.ErrorKind), "data": json.RawMessage(orNull(n.Data)), "started_at": timeOrNil(n.StartedAt), "finished_at": timeOrNil(n.FinishedAt),
			})
		}
		out["nodes"] = ns
		aps := []map[string]any{}
		for _, ap := range approvals {
			aps = append(aps, map[string]any{"node_id": ap.NodeID, "scope": ap.Scope, "title": ap.Title, "decided": ap.Decided,
				"approved": ap.Approved, "by": ap.By, "note": ap.Note, "decided_at": timeOrNil(ap.DecidedAt)})
		}
		out["approvals"] = aps
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
	a.printf("started   %s  (%s)\n", run.CreatedAt.Local().Format(time.DateTime), runDuration(run))
	if run.Owner != "" && !run.Status.Terminal() {
		a.printf("owner     %s (lease until %s)\n", run.Owner, run.LeaseExpiresAt.Local().Format(time.TimeOnly))
	}
	a.printf("input     %s\n", truncate(string(orNull(run.Input)), 200))
	if len(run.Output) > 0 && string(run.Output) != "null" {
		a.printf("output    %s\n", truncate(string(run.Output), 200))
	}
	a.printf("\n")
	tw := tabwriter.NewWriter(a.stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tKIND\tSTATE\tATTEMPTS\tDURATION\tOUTPUT / ERROR")
	for _, n := range nodes {
		id := strings.Repeat("  ", depth[n.NodeID]) + n.NodeID
		if n.Scope != "" {
			id += "[" + n.Scope + "]"
		}
		if n.Iteration > 0 {
			id += fmt.Sprintf("#%d", n.Iteration)
		}
		dur := ""
		if !n.StartedAt.IsZero() && !n.FinishedAt.IsZero() {
			dur = n.FinishedAt.Sub(n.StartedAt).Round(time.Millisecond).String()
		}
		detail := string(n.Output)
		if n.Error != "" {
			detail = "error: " + n.Error
		}
		if detail == "null" {
			detail = ""
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", id, n.Kind, n.State, n.Attempts, dur, truncate(detail, 80))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, ap := range approvals {
		state := "waiting"
		if ap.Decided {
			state = map[bool]string{true: "approved", false: "denied"}[ap.Approved] + " by " + ap.By
			if ap.Note != "" {
				state += " (" + ap.Note + ")"
			}
		}
		a.printf("approval %s: %s — %s\n", ap.NodeID, ap.Title, state)
	}
	return nil
}

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
			if _, err := st.RunGetByID(ctx, &store.RunGetByIDParams{ID: args[0]}); err != nil {
				return runError(args[0], err)
			}
			var after int64
			for {
				evs, err := st.EventList(ctx, &store.EventListParams{RunID: args[0], AfterSeq: after})
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return exitf(ExitFailed, "%v", err)
				}
				for _, ev := range evs {
					after = ev.Seq
					if format == "json" {
						enc := json.NewEncoder(a.stdout)
						enc.SetEscapeHTML(false)
						if err := enc.Encode(eventJSON(ev)); err != nil {
							return err
						}
						continue
					}
					a.printf("%s\n", formatEvent(*ev))
				}
				if !follow {
					return nil
				}
				run, err := st.RunGetByID(ctx, &store.RunGetByIDParams{ID: args[0]})
				if err == nil && run.Status.Terminal() && len(evs) == 0 {
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

// treeOrder sorts nodes in the workflow's source order (parents before
// children, instances by scope and iteration) and returns each node's
// depth in the tree. Without the workflow (its source is gone or no
// longer checks) the store's order stands and every depth is 0.
func treeOrder(wf *ir.Workflow, nodes []*store.Node) map[string]int {
	depth := map[string]int{}
	if wf == nil {
		return depth
	}
	pos := map[string]int{}
	var walk func(n *ir.Node, d int)
	walk = func(n *ir.Node, d int) {
		for _, c := range n.Body() {
			if c.ID == "" { // an anonymous block: its children sit at this depth
				walk(c, d)
				continue
			}
			pos[c.ID], depth[c.ID] = len(pos), d
			walk(c, d+1)
		}
	}
	walk(wf.Root, 0)
	sort.SliceStable(nodes, func(i, j int) bool {
		a, b := nodes[i], nodes[j]
		pa, oka := pos[a.NodeID]
		pb, okb := pos[b.NodeID]
		switch {
		case oka != okb:
			return oka // nodes the workflow no longer has go last
		case pa != pb:
			return pa < pb
		case a.Scope != b.Scope:
			return a.Scope < b.Scope
		}
		return a.Iteration < b.Iteration
	})
	return depth
}
