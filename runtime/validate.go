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
	ir.Walk(wf.Root, func(n *ir.Node) bool {
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
