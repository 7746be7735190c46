package runtime

import (
	"fmt"
	"strings"

	"github.com/smithc/smithc/compiler/ir"
)

// validateGraph rejects a workflow whose dependencies could never be
// satisfied: a dependency on no node, on a node that runs only after the
// dependent one in an ordered block, or a cycle. The checker rejects such
// programs; this keeps a faulty IR from hanging a run.
func validateGraph(wf *ir.Workflow) error {
	pre := map[*ir.Node]int{}
	k := 0
	ir.Walk(wf.Root, func(n *ir.Node) bool { pre[n] = k; k++; return true })
	var problems []string
	if wf.Root == nil {
		return fmt.Errorf("runtime: workflow %s has no body", wf.Name)
	}
	ir.Walk(wf.Root, func(n *ir.Node) bool {
		if msg := malformed(n); msg != "" {
			problems = append(problems, fmt.Sprintf("%s node %q %s", n.Kind, n.ID, msg))
		}
		for _, id := range n.Deps {
			d := wf.Lookup(id)
			switch {
			case d == nil:
				problems = append(problems, fmt.Sprintf("%s depends on %q, which does not exist", n.ID, id))
			case d == n || isAncestor(d, n) || isAncestor(n, d):
				problems = append(problems, fmt.Sprintf("%s depends on %s, which encloses it or is inside it", n.ID, id))
			case pre[d] > pre[n] && lca(n, d).Kind != ir.KindParallel:
				problems = append(problems, fmt.Sprintf("%s depends on %s, which runs after it", n.ID, id))
			}
		}
		return true
	})
	if len(problems) == 0 {
		if cyc := depCycle(wf); cyc != nil {
			problems = append(problems, "dependency cycle: "+strings.Join(cyc, " → "))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("runtime: workflow %s has an invalid graph: %s", wf.Name, strings.Join(problems, "; "))
	}
	return nil
}

func isAncestor(a, n *ir.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p == a {
			return true
		}
	}
	return false
}

// lca returns the lowest common ancestor of a and b.
func lca(a, b *ir.Node) *ir.Node {
	seen := map[*ir.Node]bool{}
	for p := a.Parent; p != nil; p = p.Parent {
		seen[p] = true
	}
	for p := b.Parent; p != nil; p = p.Parent {
		if seen[p] {
			return p
		}
	}
	return &ir.Node{}
}

// depCycle returns a cycle of Deps edges, if any.
func depCycle(wf *ir.Workflow) []string {
	const (
		unseen = iota
		onPath
		doneState
	)
	state := map[string]int{}
	var path []string
	var visit func(id string) []string
	visit = func(id string) []string {
		switch state[id] {
		case onPath:
			for i, p := range path {
				if p == id {
					return append(append([]string(nil), path[i:]...), id)
				}
			}
		case doneState:
			return nil
		}
		state[id] = onPath
		path = append(path, id)
		if n := wf.Lookup(id); n != nil {
			for _, d := range n.Deps {
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[id] = doneState
		return nil
	}
	var cyc []string
	ir.Walk(wf.Root, func(n *ir.Node) bool {
		if cyc == nil && n.ID != "" {
			cyc = visit(n.ID)
		}
		return cyc == nil
	})
	return cyc
}

// malformed says what a node lacks that its kind needs ("" when whole).
func malformed(n *ir.Node) string {
	missing := func(what string) string { return "has no " + what }
	switch n.Kind {
	case ir.KindStep:
		if n.Step == nil {
			return missing("step")
		}
	case ir.KindApproval:
		if n.Approval == nil {
			return missing("approval settings")
		}
	case ir.KindTimer:
		if n.Timer == nil {
			return missing("timer settings")
		}
	case ir.KindEvent:
		if n.Event == nil {
			return missing("event settings")
		}
	case ir.KindMatch, ir.KindBranch:
		if n.Match == nil {
			return missing("arms")
		}
		for _, a := range n.Match.Arms {
			if a == nil || a.Pred == nil || a.Body == nil {
				return "has an arm without a predicate or body"
			}
		}
	case ir.KindLoop:
		if n.Loop == nil || n.Loop.MaxIterations < 1 {
			return missing("max_iterations")
		}
	case ir.KindFor:
		if n.For == nil || n.For.List == nil {
			return missing("list")
		}
	case ir.KindTry:
		if n.Try == nil || n.Try.Try == nil {
			return missing("try body")
		}
	case ir.KindWorktree:
		if n.Worktree == nil {
			return missing("worktree settings")
		}
	case ir.KindSequence:
	case ir.KindParallel:
	default:
		return "has an unknown kind"
	}
	if n.Kind != ir.KindSequence && n.Kind != ir.KindStep && n.ID == "" && n.Parent != nil {
		return "has no id"
	}
	return ""
}
