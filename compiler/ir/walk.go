package ir

// Index builds the id → node index and sets Parent links. The compiler
// calls it once; Lookup uses it.
func (w *Workflow) Index() {
	ids := 0
	Walk(w.Root, func(n *Node) bool {
		if n.ID != "" {
			ids++
		}
		return true
	})
	w.nodes = make(map[string]*Node, ids)
	var visit func(parent, n *Node)
	visit = func(parent, n *Node) {
		if n == nil {
			return
		}
		n.Parent = parent
		if n.ID != "" {
			w.nodes[n.ID] = n
		}
		for _, c := range n.Body() {
			visit(n, c)
		}
	}
	visit(nil, w.Root)
}

// Lookup returns the node with the given durable id, or nil.
func (w *Workflow) Lookup(id string) *Node {
	if w.nodes == nil {
		w.Index()
	}
	return w.nodes[id]
}

// Body returns every direct child of n, in source order: Children, then
// the arms and else of a match/branch, then try, catch and finally. The
// list may share the array of Children (with no room to append into it):
// do not change its elements.
func (n *Node) Body() []*Node {
	if n.Match == nil && n.Try == nil {
		return n.Children[:len(n.Children):len(n.Children)]
	}
	out := append([]*Node(nil), n.Children...)
	if n.Match != nil {
		for _, a := range n.Match.Arms {
			out = append(out, a.Body)
		}
		if n.Match.Else != nil {
			out = append(out, n.Match.Else)
		}
	}
	if n.Try != nil {
		for _, b := range []*Node{n.Try.Try, n.Try.Catch, n.Try.Finally} {
			if b != nil {
				out = append(out, b)
			}
		}
	}
	return out
}

// Walk calls fn for n and every node below it, parents first, in source
// order. It stops descending where fn returns false.
func Walk(n *Node, fn func(*Node) bool) {
	if n == nil || !fn(n) {
		return
	}
	for _, c := range n.Body() {
		Walk(c, fn)
	}
}
