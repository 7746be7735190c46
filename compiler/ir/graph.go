package ir

import (
	"fmt"
	"io"
	"strings"
)

// Mermaid writes the workflow as a Mermaid flowchart: steps as boxes,
// approvals as hexagons, timers as circles, events as flags, match and
// branch as diamonds whose labelled edges lead to their arms, and
// parallel groups, loops, fan-outs, worktrees and try blocks as
// subgraphs. Edges are dependencies (sequence order and needs).
func Mermaid(w io.Writer, wf *Workflow) error {
	g := newGraph(wf)
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	var visit func(n *Node, depth int)
	visit = func(n *Node, depth int) {
		ind := strings.Repeat("  ", depth)
		id := g.id(n)
		if g.isCluster(n) {
			fmt.Fprintf(&b, "%ssubgraph %s[\"%s\"]\n", ind, id, mermaidText(g.label(n)))
			fmt.Fprintf(&b, "%s  direction TB\n", ind)
			for _, c := range g.members(n) {
				visit(c, depth+1)
			}
			fmt.Fprintf(&b, "%send\n", ind)
			return
		}
		fmt.Fprintf(&b, "%s%s%s\n", ind, id, mermaidShape(n.Kind, mermaidText(g.label(n))))
		if n.Match != nil {
			for _, arm := range n.Match.Arms {
				visit(arm.Body, depth)
			}
			if n.Match.Else != nil {
				visit(n.Match.Else, depth)
			}
		}
	}
	for _, n := range wf.Root.Children {
		visit(n, 1)
	}
	for _, e := range g.edges() {
		if e.label != "" {
			fmt.Fprintf(&b, "  %s -->|\"%s\"| %s\n", e.from, mermaidText(e.label), e.to)
		} else {
			fmt.Fprintf(&b, "  %s --> %s\n", e.from, e.to)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DOT writes the workflow in Graphviz DOT with the same conventions as
// Mermaid: clusters for groups, shapes by kind, labelled arm edges.
func DOT(w io.Writer, wf *Workflow) error {
	g := newGraph(wf)
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", dotQuote(wf.Name))
	b.WriteString("  compound=true;\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=11];\n")
	var visit func(n *Node, depth int)
	visit = func(n *Node, depth int) {
		ind := strings.Repeat("  ", depth)
		id := g.id(n)
		if g.isCluster(n) {
			fmt.Fprintf(&b, "%ssubgraph cluster_%s {\n", ind, id)
			fmt.Fprintf(&b, "%s  label=%s; style=rounded;\n", ind, dotQuote(g.label(n)))
			fmt.Fprintf(&b, "%s  %s [shape=point, style=invis, width=0, height=0];\n", ind, id)
			for _, c := range g.members(n) {
				visit(c, depth+1)
			}
			fmt.Fprintf(&b, "%s}\n", ind)
			return
		}
		fmt.Fprintf(&b, "%s%s [label=%s, shape=%s];\n", ind, id, dotQuote(g.label(n)), dotShape(n.Kind))
		if n.Match != nil {
			for _, arm := range n.Match.Arms {
				visit(arm.Body, depth)
			}
			if n.Match.Else != nil {
				visit(n.Match.Else, depth)
			}
		}
	}
	for _, n := range wf.Root.Children {
		visit(n, 1)
	}
	for _, e := range g.edges() {
		attrs := []string{}
		if e.label != "" {
			attrs = append(attrs, "label="+dotQuote(e.label))
		}
		if e.toCluster {
			attrs = append(attrs, "lhead=cluster_"+e.to)
		}
		if e.fromCluster {
			attrs = append(attrs, "ltail=cluster_"+e.from)
		}
		if len(attrs) > 0 {
			fmt.Fprintf(&b, "  %s -> %s [%s];\n", e.from, e.to, strings.Join(attrs, ", "))
		} else {
			fmt.Fprintf(&b, "  %s -> %s;\n", e.from, e.to)
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

type graph struct {
	wf    *Workflow
	ids   map[*Node]string
	byID  map[string]*Node
	order []*Node
}

type edge struct {
	from, to               string
	label                  string
	fromCluster, toCluster bool
}

func newGraph(wf *Workflow) *graph {
	g := &graph{wf: wf, ids: map[*Node]string{}, byID: map[string]*Node{}}
	for _, top := range wf.Root.Children {
		Walk(top, func(n *Node) bool {
			g.ids[n] = fmt.Sprintf("n%d", len(g.order))
			g.order = append(g.order, n)
			if n.ID != "" {
				g.byID[n.ID] = n
			}
			return true
		})
	}
	return g
}

func (g *graph) id(n *Node) string { return g.ids[n] }

// isCluster reports whether n is drawn as a group of its members.
func (g *graph) isCluster(n *Node) bool {
	switch n.Kind {
	case KindSequence, KindParallel, KindLoop, KindFor, KindWorktree, KindTry:
		return true
	}
	return false
}

func (g *graph) members(n *Node) []*Node {
	if n.Kind == KindTry {
		return n.Body()
	}
	return n.Children
}

func (g *graph) label(n *Node) string {
	switch n.Kind {
	case KindStep:
		l := n.ID + "\n" + n.Step.Action
		if n.Step.Agent != "" {
			l += " · " + n.Step.Agent
		}
		if n.Step.Call != "" {
			l += " → " + n.Step.Call
		}
		return l
	case KindApproval:
		return n.ID + "\napproval"
	case KindTimer:
		if n.Timer.Duration > 0 {
			return n.ID + "\ntimer " + n.Timer.Duration.String()
		}
		return n.ID + "\ntimer"
	case KindEvent:
		return n.ID + "\nevent " + n.Event.Name
	case KindMatch:
		return "match " + n.Match.Source
	case KindBranch:
		return "branch"
	case KindParallel:
		if n.Parallel.MaxConcurrency > 0 {
			return fmt.Sprintf("parallel (max %d)", n.Parallel.MaxConcurrency)
		}
		return "parallel"
	case KindLoop:
		return fmt.Sprintf("loop %s (max %d)", n.ID, n.Loop.MaxIterations)
	case KindFor:
		return "for " + n.For.Var + " in " + oneLine(n.For.List.Src)
	case KindWorktree:
		return "worktree " + n.ID + " " + n.Worktree.Path
	case KindTry:
		return "try"
	case KindSequence:
		if i := strings.LastIndex(n.ID, "/"); i >= 0 {
			return n.ID[i+1:]
		}
		if n.ID != "" && !strings.Contains(n.ID, ":") {
			return "use " + n.ID
		}
		return "sequence"
	}
	return n.ID
}

func (g *graph) edges() []edge {
	var out []edge
	for _, n := range g.order {
		for _, dep := range n.Deps {
			from := g.byID[dep]
			if from == nil {
				continue
			}
			out = append(out, edge{from: g.id(from), to: g.id(n), fromCluster: g.isCluster(from), toCluster: g.isCluster(n)})
		}
		if n.Match != nil {
			for _, arm := range n.Match.Arms {
				out = append(out, edge{from: g.id(n), to: g.id(arm.Body), label: oneLine(arm.Pred.Src), toCluster: true})
			}
			if n.Match.Else != nil {
				out = append(out, edge{from: g.id(n), to: g.id(n.Match.Else), label: "else", toCluster: true})
			}
		}
	}
	return out
}

func mermaidShape(k Kind, text string) string {
	q := "\"" + text + "\""
	switch k {
	case KindApproval:
		return "{{" + q + "}}"
	case KindTimer:
		return "((" + q + "))"
	case KindEvent:
		return ">" + q + "]"
	case KindMatch, KindBranch:
		return "{" + q + "}"
	}
	return "[" + q + "]"
}

// mermaidText escapes text for a quoted Mermaid label (node, subgraph
// or edge). Mermaid reads #name; and #123; as entity codes, so a literal
// # is written as one too; & is coded so the text is not taken for an
// HTML entity; the rest would end the quoted string or be read as HTML.
var mermaidEscaper = strings.NewReplacer(
	"#", "#35;", "&", "#38;", "\"", "#quot;", "\n", "<br/>",
	"|", "#124;", "<", "#lt;", ">", "#gt;",
)

func mermaidText(s string) string { return mermaidEscaper.Replace(s) }

// dotQuote writes s as a DOT quoted string. Go's %q is not DOT: DOT has
// no \t or \u escapes, and Graphviz reads &name; in any label as an
// HTML entity, so & is coded to keep the text literal.
var dotEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "", "&", "&amp;")

func dotQuote(s string) string { return `"` + dotEscaper.Replace(s) + `"` }

func dotShape(k Kind) string {
	switch k {
	case KindApproval:
		return "hexagon"
	case KindTimer:
		return "circle"
	case KindEvent:
		return "cds"
	case KindMatch, KindBranch:
		return "diamond"
	}
	return "box"
}
