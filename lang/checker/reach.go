package checker

import (
	"strings"

	exprparser "github.com/expr-lang/expr/parser"

	exprast "github.com/expr-lang/expr/ast"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
)

// needsAttr returns the needs attribute of a node, or nil.
func needsAttr(n *gnode) *ast.Attr {
	switch s := n.stmt.(type) {
	case *ast.StepStmt:
		return findAttr(s.Attrs, "needs")
	case *ast.ApprovalStmt:
		return findAttr(s.Attrs, "needs")
	case *ast.EventStmt:
		return findAttr(s.Attrs, "needs")
	case *ast.TimerStmt:
		return findAttr(s.Attrs, "needs")
	}
	if n.stmt != nil && n.body != nil {
		return findAttr(n.body.Attrs, "needs")
	}
	return nil
}

// resolveNeeds resolves the needs attribute of every node to nodes of the
// same scope (a mounted node as prefix.id).
func (g *graph) resolveNeeds() {
	for _, n := range g.nodes {
		a := needsAttr(n)
		if a == nil || a.Value == nil {
			continue
		}
		names, ranges := g.needsNames(a, n.home)
		if len(names) == 0 && len(ranges) == 0 && !n.home {
			continue
		}
		var names2 []string
		for i, name := range names {
			t, p := g.lookupPath(n.scope, name)
			if p != nil {
				if n.home {
					g.c.report(diag.Diagnostic{Code: p.code, Summary: p.summary, Hint: p.hint, Detail: p.detail, Subject: ranges[i]})
				}
				continue
			}
			if t == n {
				if n.home {
					g.c.errorf(ranges[i], "needs-cycle", "%s needs itself", n.what())
				}
				continue
			}
			n.needs = append(n.needs, t)
			n.needsAt = append(n.needsAt, ranges[i])
			names2 = append(names2, name)
		}
		if n.home {
			g.c.info.Consts[a] = names2
			var stmts []ast.Stmt
			for _, t := range n.needs {
				stmts = append(stmts, t.stmt)
			}
			g.c.info.Needs[n.stmt] = stmts
		}
	}
}

// needsNames parses a needs value: a list of names (a, api.read).
func (g *graph) needsNames(a *ast.Attr, report bool) ([]string, []diag.Range) {
	bad := func(r diag.Range) {
		if report {
			g.c.report(diag.Diagnostic{Code: "bad-needs", Summary: "needs must be a list of node ids, such as needs = [fetch, api.read]", Subject: r})
		}
	}
	if a.Value.Template != nil {
		bad(a.Value.Range)
		return nil, nil
	}
	tree, err := exprparser.Parse(a.Value.Src)
	if err != nil {
		if report {
			g.c.exprSyntax(a.Value, err)
		}
		return nil, nil
	}
	var items []exprast.Node
	if arr, ok := tree.Node.(*exprast.ArrayNode); ok {
		items = arr.Nodes
	} else {
		items = []exprast.Node{tree.Node}
	}
	var names []string
	var ranges []diag.Range
	seen := map[string]bool{}
	for _, it := range items {
		f, t := span(it)
		r := a.Value.RangeAt(f, t)
		name, ok := dotted(it)
		if !ok {
			bad(r)
			continue
		}
		if seen[name] {
			if report {
				g.c.errorf(r, "duplicate-needs", "duplicate %q in needs: it is listed twice", name)
			}
			continue
		}
		seen[name] = true
		names = append(names, name)
		ranges = append(ranges, r)
	}
	return names, ranges
}

// dotted returns the text of a name or a dotted name (api.read).
func dotted(n exprast.Node) (string, bool) {
	switch n := n.(type) {
	case *exprast.IdentifierNode:
		return n.Value, true
	case *exprast.MemberNode:
		base, ok := dotted(n.Node)
		prop, isName := n.Property.(*exprast.StringNode)
		if !ok || !isName || n.Optional {
			return "", false
		}
		return base + "." + prop.Value, true
	}
	return "", false
}

// lookupPath finds the node called name (a or api.read) from scope sc.
func (g *graph) lookupPath(sc *idScope, name string) (*gnode, *problem) {
	parts := strings.Split(name, ".")
	cur := sc
	for i, p := range parts {
		n := cur.ids[p]
		if n == nil {
			prefix := strings.Join(parts[:i], ".")
			summary := "undefined step " + quote(name) + ": unknown id in needs"
			if prefix != "" {
				summary = "undefined step " + quote(name) + ": the mount " + quote(prefix) + " has no node " + quote(p)
			}
			return nil, &problem{code: "undefined-step", summary: summary, hint: didYouMean(p, cur.order)}
		}
		if i == len(parts)-1 {
			return n, nil
		}
		if n.kind != gUse || n.mount == nil {
			return nil, &problem{code: "unknown-node", summary: quote(strings.Join(parts[:i+1], ".")) + " is a " + kindName(n.kind) + ", not a use mount"}
		}
		cur = n.mount
	}
	return nil, &problem{code: "unknown-node", summary: "unknown id " + quote(name)}
}

func start(n *gnode) int32 { return int32(2 * n.n) }
func end(n *gnode) int32   { return int32(2*n.n + 1) }

// buildEdges records, for each event (start or end of a node), the events
// that happen before it.
func (g *graph) buildEdges() {
	g.preds = make([][]int32, 2*len(g.nodes))
	for _, n := range g.nodes {
		if len(n.kids) == 0 {
			g.preds[end(n)] = append(g.preds[end(n)], start(n))
		}
		for i, k := range n.kids {
			g.preds[start(k)] = append(g.preds[start(k)], start(n))
			g.preds[end(n)] = append(g.preds[end(n)], end(k))
			if n.kind.ordered() && i > 0 {
				g.preds[start(k)] = append(g.preds[start(k)], end(n.kids[i-1]))
			}
		}
		if n.kind == gTry {
			var try, catch *gnode
			for _, k := range n.kids {
				switch k.kind {
				case gTryPart:
					try = k
				case gCatch:
					catch = k
					if try != nil {
						g.preds[start(k)] = append(g.preds[start(k)], end(try))
					}
				case gFinally:
					if try != nil {
						g.preds[start(k)] = append(g.preds[start(k)], end(try))
					}
					if catch != nil {
						g.preds[start(k)] = append(g.preds[start(k)], end(catch))
					}
				}
			}
		}
		for _, t := range n.needs {
			g.preds[start(n)] = append(g.preds[start(n)], end(t))
		}
	}
}

// reachOf returns the set of events that happen before event ev. On an
// acyclic graph the sets are computed once per event from the sets of its
// predecessors; a graph with a cycle (a needs contradiction, reported
// elsewhere) is searched event by event.
func (g *graph) reachOf(ev int32) []uint64 {
	if g.memo == nil {
		g.memo = make([][]uint64, len(g.preds))
		g.acyclic = g.isAcyclic()
	}
	if r := g.memo[ev]; r != nil {
		return r
	}
	words := (len(g.preds) + 63) / 64
	set := make([]uint64, words)
	if g.acyclic {
		for _, p := range g.preds[ev] {
			for i, w := range g.reachOf(p) {
				set[i] |= w
			}
			set[p/64] |= 1 << (uint(p) % 64)
		}
		g.memo[ev] = set
		return set
	}
	stack := []int32{ev}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range g.preds[e] {
			if set[p/64]&(1<<(uint(p)%64)) == 0 {
				set[p/64] |= 1 << (uint(p) % 64)
				stack = append(stack, p)
			}
		}
	}
	g.memo[ev] = set
	return set
}

// isAcyclic reports whether the event graph has no cycle (Kahn).
func (g *graph) isAcyclic() bool {
	succs := make([][]int32, len(g.preds))
	indeg := make([]int, len(g.preds))
	for e, ps := range g.preds {
		for _, p := range ps {
			succs[p] = append(succs[p], int32(e))
			indeg[e]++
		}
	}
	var queue []int32
	for e, d := range indeg {
		if d == 0 {
			queue = append(queue, int32(e))
		}
	}
	seen := 0
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		seen++
		for _, s := range succs[e] {
			indeg[s]--
			if indeg[s] == 0 {
				queue = append(queue, s)
			}
		}
	}
	return seen == len(g.preds)
}

// before reports whether t is guaranteed to be finished when the reader
// event happens.
func (g *graph) before(t *gnode, reader int32) bool {
	set := g.reachOf(reader)
	e := end(t)
	return set[e/64]&(1<<(uint(e)%64)) != 0
}
