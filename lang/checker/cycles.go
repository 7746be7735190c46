package checker

import (
	"fmt"
	"strings"

	"github.com/smithc/smithc/lang/diag"
)

// checkNeedsCycles reports needs that can never be satisfied: a cycle of
// needs, a need of a node that runs after (or contains) the needing node.
// A cycle is reported once, at its first need in source order, naming
// every node of it.
func (g *graph) checkNeedsCycles() {
	if g.isAcyclic() {
		return
	}
	comp := g.components()
	reported := map[[2]int]bool{}
	for _, n := range g.nodes {
		if !n.home {
			continue
		}
		for i, t := range n.needs {
			if reported[[2]int{n.n, t.n}] || comp[start(n)] != comp[end(t)] {
				continue // not on a cycle: the need can be met
			}
			path := g.path(start(n), end(t))
			if path == nil {
				continue
			}
			reported[[2]int{n.n, t.n}] = true
			cycle := []string{n.full, t.full}
			var others []diag.Related
			for j := len(path) - 1; j > 0; j-- {
				a, b := path[j-1], path[j] // a happens before b
				if a%2 == 1 && b%2 == 0 {
					x, y := g.nodes[a/2], g.nodes[b/2]
					if k := indexNode(y.needs, x); k >= 0 {
						if y != n {
							cycle = append(cycle, x.full)
							// The cycle is reported once, here: its other
							// needs are part of this message.
							reported[[2]int{y.n, x.n}] = true
							if y.home {
								others = append(others, diag.Related{Range: y.needsAt[k], Message: fmt.Sprintf("%s needs %q here", y.what(), x.full)})
							}
						}
					}
				}
			}
			g.reportCycle(n, t, i, cycle, others)
		}
	}
}

func (g *graph) reportCycle(n, t *gnode, i int, cycle []string, others []diag.Related) {
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
			Related: others,
		})
	}
}

// components numbers the strongly connected components of the event
// graph (Tarjan, without recursion): a need lies on a cycle exactly when
// the start of the needing node and the end of the needed one share a
// component.
func (g *graph) components() []int32 {
	n := len(g.preds)
	index := make([]int32, n) // 0: not visited; else visit order + 1
	low := make([]int32, n)
	comp := make([]int32, n)
	onStack := make([]bool, n)
	var stack []int32
	type frame struct {
		v int32
		i int // next predecessor to look at
	}
	var next, ncomp int32
	for root := range g.preds {
		if index[root] != 0 {
			continue
		}
		next++
		index[root], low[root] = next, next
		stack = append(stack, int32(root))
		onStack[root] = true
		call := []frame{{v: int32(root)}}
		for len(call) > 0 {
			f := &call[len(call)-1]
			if f.i < len(g.preds[f.v]) {
				w := g.preds[f.v][f.i]
				f.i++
				switch {
				case index[w] == 0:
					next++
					index[w], low[w] = next, next
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{v: w})
				case onStack[w]:
					low[f.v] = min(low[f.v], index[w])
				}
				continue
			}
			v := f.v
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] == index[v] {
				ncomp++
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = ncomp
					if w == v {
						break
					}
				}
			}
		}
	}
	return comp
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

func indexNode(list []*gnode, n *gnode) int {
	for i, x := range list {
		if x == n {
			return i
		}
	}
	return -1
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
