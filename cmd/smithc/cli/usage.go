package cli

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/smithc/smithc/runtime"
)

// What a run's agents consumed, as inspect and ps show it (the figures
// come from the runtime's read model, Engine.Usage).

// usageJSON is a usage in JSON: tokens (input and output), the input's
// parts from the prompt cache, and the cost the agents reported.
func usageJSON(u runtime.Usage) map[string]any {
	return map[string]any{
		"tokens": u.Tokens(), "input_tokens": u.InputTokens, "output_tokens": u.OutputTokens,
		"cache_read_tokens": u.CacheReadTokens, "cache_creation_tokens": u.CacheCreationTokens,
		"cost_usd": u.CostUSD, "replies": u.Replies,
	}
}

// nodeUsageJSON is a node instance's usage with its attempts, nil when
// it has none.
func nodeUsageJSON(n *runtime.NodeUsage) any {
	if n == nil {
		return nil
	}
	out := usageJSON(n.Usage)
	atts := []map[string]any{}
	for _, a := range n.Attempts {
		m := usageJSON(a.Usage)
		m["attempt"], m["agent"], m["session_id"], m["turns"] = a.Attempt, a.Agent, nullIfEmpty(a.SessionID), a.Turns
		delete(m, "replies")
		atts = append(atts, m)
	}
	out["attempts"] = atts
	return out
}

// formatCost renders a cost in dollars, "-" for none.
func formatCost(c float64) string {
	if c <= 0 {
		return "-"
	}
	if c < 0.01 {
		return "$" + strconv.FormatFloat(c, 'f', 4, 64)
	}
	return "$" + strconv.FormatFloat(c, 'f', 2, 64)
}

// formatTokens renders a token count, "-" for none.
func formatTokens(n int64) string {
	if n == 0 {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}

// usageLine is a usage on one line: "1200 tokens (1000 in, 200 out, 800
// cached), $0.0123".
func usageLine(u runtime.Usage) string {
	s := fmt.Sprintf("%d tokens (%d in, %d out", u.Tokens(), u.InputTokens, u.OutputTokens)
	if c := u.CacheTokens(); c > 0 {
		s += fmt.Sprintf(", %d cached", c)
	}
	s += ")"
	if u.CostUSD > 0 {
		s += ", " + formatCost(u.CostUSD)
	}
	return s
}

// writeUsage prints a run's agent usage table: one row per attempt, a
// total row per node with several, and the run's total.
func writeUsage(w io.Writer, u *runtime.RunUsage) error {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "AGENT STEP\tATTEMPT\tAGENT\tIN\tCACHED\tOUT\tCOST\tSESSION")
	row := func(node, att, agent string, v runtime.Usage, session string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", node, att, agent, formatTokens(v.InputTokens),
			formatTokens(v.CacheTokens()), formatTokens(v.OutputTokens), formatCost(v.CostUSD), orDash(session))
	}
	for _, n := range u.Nodes {
		id := n.NodeID
		if n.Scope != "" {
			id += "[" + n.Scope + "]"
		}
		for _, a := range n.Attempts {
			row(id, strconv.Itoa(a.Attempt), a.Agent, a.Usage, a.SessionID)
		}
		if len(n.Attempts) > 1 {
			row(id, "all", "", n.Usage, "")
		}
	}
	row("(run)", "", "", u.Total, "")
	return tw.Flush()
}
