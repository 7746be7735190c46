package checker

import (
	"fmt"
	"strings"

	"github.com/smithc/smithc/lang/diag"
)

// checkNeedsCycles reports needs that can never be satisfied: a cycle of
// needs, a need of a node that runs after (or contains) the needing node.
// Every need of a cycle is reported, each with the cycle seen from it.
func (g *graph) checkNeedsCycles() {
	if g.memo == nil {
		g.reachOf(0)
	}
	if g.acyclic {
		return
	}
	reported := map[[2]int]bool{}
	for _, n := range g.nodes {
		if !n.home {
			continue
		}
		for i, t := range n.needs {
			if reported[[2]int{n.n, t.n}] {
				continue
			}
			path := g.path(start(n), end(t))
			if path == nil {
				continue
			}
			reported[[2]int{n.n, t.n}] = true
			cycle := []string{n.full, t.full}
			for j := len(path) - 1; j > 0; j-- {
				a, b := path[j-1], path[j] // a happens before b
				if a%2 == 1 && b%2 == 0 {
					x, y := g.nodes[a/2], g.nodes[b/2]
					if containsNode(y.needs, x) {
						if y != n {
							cycle = append(cycle, x.full)
						}
					}
				}
			}
			g.reportCycle(n, t, i, cycle)
		}
	}
}

func (g *graph) reportCycle(n, t *gnode, i int, cycle []string) {
	r := n.needsAt[i]
	switch {
	case isAncestor(t, n):
		g.c.report(diag.Diagnostic{
			Code:    "needs-cycle",
			Summary: fmt.Sprintf("%s cannot need %q: it is inside %s", n.what(), t.full, t.what()),
			Detail:  "A node inside a loop, worktree or other block cannot wait for that block to finish; remove the need.",
			Subject: r,
		})
	case len(cycle) <= 2:
		g.c.report(diag.Diagnostic{
			Code:    "needs-order",
			Summary: fmt.Sprintf("needs cycle: %s needs %q, which runs after it", n.what(), t.full),
			Detail:  fmt.Sprintf("%q comes later in an enclosing sequence, so it cannot finish first; move %q after it or remove the need.", t.full, n.full),
			Subject: r,
		})
	default:
		if cycle[len(cycle)-1] != n.full {
			cycle = append(cycle, n.full)
		}
		g.c.report(diag.Diagnostic{
			Code:    "needs-cycle",
			Summary: "needs cycle: " + strings.Join(cycle, " -> "),
			Detail:  "Each node in the cycle waits for the next one, so none can start; remove one of the needs.",
			Subject: r,
		})
	}
}

// path returns the events of a path from event a to event b (a happens
// before b), or nil.
func (g *graph) path(a, b int32) []int32 {
	parent := map[int32]int32{b: -1}
	queue := []int32{b}
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		if e == a {
			var out []int32 // from a to b: parent[x] happens after x
			for x := a; x != -1; x = parent[x] {
				out = append(out, x)
			}
			return out
		}
		for _, p := range g.preds[e] {
			if _, seen := parent[p]; !seen {
				parent[p] = e
				queue = append(queue, p)
			}
		}
	}
	return nil
}

func containsNode(list []*gnode, n *gnode) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

// isAncestor reports whether a contains n.
func isAncestor(a, n *gnode) bool {
	for p := n.parent; p != nil; p = p.parent {
		if p == a {
			return true
		}
	}
	return false
}
