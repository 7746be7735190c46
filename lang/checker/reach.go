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

// The happens-before relation is answered without materialising it: a
// graph of 10⁵ nodes has 2·10⁵ events, and a set of predecessors per
// event would cost O(n²) memory. Two parts make up every path:
//
//   - tree order (structBefore): parent and kids, siblings of an ordered
//     block, the parts of a try. The end of a node leaves its subtree only
//     through its own end, and a subtree is entered only through its
//     start, so one walk to the lowest common ancestor decides it;
//   - needs edges that tree order does not already imply (g.edges): a path
//     is tree order from the source to the end of a needed node, the
//     edge, tree order again, and so on. The edges reachable from a node's
//     end are computed once per node, on demand (firedFrom).
//
// Both are exact, with or without a needs cycle.

// needEdge is a needs entry that tree order does not imply: the end of
// from happens before the start of to.
type needEdge struct{ from, to *gnode }

func evNode(g *graph, ev int32) *gnode { return g.nodes[ev/2] }
func isEnd(ev int32) bool              { return ev%2 == 1 }

// structBefore reports whether event a happens strictly before event b by
// tree order alone (needs ignored).
func (g *graph) structBefore(a, b int32) bool {
	u, r := evNode(g, a), evNode(g, b)
	if !isEnd(a) {
		// start(u) precedes every event inside u but itself, and through
		// end(u) whatever end(u) precedes.
		if isAncestor(u, r) || u == r {
			return !(u == r && !isEnd(b))
		}
		// From here on only u's place in the tree matters: what its end
		// precedes, start(u) precedes too.
	}
	l, cu, cr := lcaKids(u, r)
	switch {
	case l == u: // r is u or inside it: after u's end comes nothing of u
		return false
	case l == r: // r contains u: r ends after u
		return isEnd(b)
	}
	return sibBefore(l, cu, cr)
}

// sibBefore reports whether kid a of l ends before kid s of l starts.
func sibBefore(l, a, s *gnode) bool {
	if l.kind.ordered() {
		return a.idx < s.idx
	}
	if l.kind == gTry {
		return (a.kind == gTryPart && (s.kind == gCatch || s.kind == gFinally)) || (a.kind == gCatch && s.kind == gFinally)
	}
	return false
}

// lcaKids returns the lowest common ancestor l of a and b (one of them if
// it contains the other) and the kids of l on the way to a and to b (nil
// for the one that is l).
func lcaKids(a, b *gnode) (l, ka, kb *gnode) {
	for a.depth > b.depth {
		ka, a = a, a.parent
	}
	for b.depth > a.depth {
		kb, b = b, b.parent
	}
	for a != b {
		ka, a = a, a.parent
		kb, b = b, b.parent
	}
	return a, ka, kb
}

// initEdges collects the needs edges that tree order does not imply.
func (g *graph) initEdges() {
	if g.edgesDone {
		return
	}
	g.edgesDone = true
	for _, n := range g.nodes {
		for _, t := range n.needs {
			if !g.structBefore(end(t), start(n)) {
				g.edges = append(g.edges, needEdge{from: t, to: n})
			}
		}
	}
}

// firedFrom returns the set of g.edges that the end of t reaches (tree
// order to the end of the edge's needed node, possibly through other
// edges), computed once per t.
func (g *graph) firedFrom(t *gnode) []uint64 {
	if set, ok := g.fired[t]; ok {
		return set
	}
	set := make([]uint64, (len(g.edges)+63)/64)
	var queue []int
	mark := func(j int) {
		if set[j/64]&(1<<(uint(j)%64)) == 0 {
			set[j/64] |= 1 << (uint(j) % 64)
			queue = append(queue, j)
		}
	}
	for j, ed := range g.edges {
		if ed.from == t || g.structBefore(end(t), end(ed.from)) {
			mark(j)
		}
	}
	for len(queue) > 0 {
		i := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		s := start(g.edges[i].to)
		for j, ed := range g.edges {
			if set[j/64]&(1<<(uint(j)%64)) == 0 && g.structBefore(s, end(ed.from)) {
				mark(j)
			}
		}
	}
	if g.fired == nil {
		g.fired = map[*gnode][]uint64{}
	}
	g.fired[t] = set
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
		e := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
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
	e := end(t)
	if g.structBefore(e, reader) {
		return true
	}
	// The common case of needs: the reader, or a block around it, needs t
	// or a node that t precedes.
	for u := evNode(g, reader); u != nil; u = u.parent {
		for _, b := range u.needs {
			if b == t || g.structBefore(e, end(b)) {
				return true
			}
		}
	}
	g.initEdges()
	if len(g.edges) == 0 {
		return false
	}
	set := g.firedFrom(t)
	for i, ed := range g.edges {
		if set[i/64]&(1<<(uint(i)%64)) != 0 {
			if s := start(ed.to); s == reader || g.structBefore(s, reader) {
				return true
			}
		}
	}
	return false
}
