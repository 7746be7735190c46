package ir

// EachExpr calls fn for every expression of the program: agent settings,
// workflow outputs, and every expression of every node, template parts
// and fragment parameter bindings included.
func (p *Program) EachExpr(fn func(*Expr)) {
	var visit func(x *Expr)
	visit = func(x *Expr) {
		if x == nil {
			return
		}
		fn(x)
		for _, part := range x.Template {
			visit(part.Expr)
		}
		for _, px := range x.Params {
			visit(px)
		}
	}
	for _, a := range p.Agents {
		visit(a.Model)
		visit(a.Args)
		visit(a.Cwd)
		for _, k := range sortedKeys(a.Env) {
			visit(a.Env[k])
		}
		if a.OpenAI != nil {
			visit(a.OpenAI.BaseURL)
			visit(a.OpenAI.Model)
			visit(a.OpenAI.APIKey)
			visit(a.OpenAI.System)
		}
	}
	for _, w := range p.Workflows {
		visit(w.Output)
		for _, k := range sortedKeys(w.InputDefaults) {
			visit(w.InputDefaults[k])
		}
		Walk(w.Root, func(n *Node) bool {
			n.eachExpr(visit)
			return true
		})
	}
}

// eachSorted calls visit for the expressions of m in the order of their
// keys (without sorting, or a list of keys, when there is one: most
// steps have a single argument).
func eachSorted(m map[string]*Expr, visit func(*Expr)) {
	if len(m) == 1 {
		for _, x := range m {
			visit(x)
		}
		return
	}
	for _, k := range sortedKeys(m) {
		visit(m[k])
	}
}

func (n *Node) eachExpr(visit func(*Expr)) {
	if s := n.Step; s != nil {
		eachSorted(s.Args, visit)
		for _, m := range sortedKeys(s.Maps) {
			eachSorted(s.Maps[m], visit)
		}
		visit(s.SkipIf)
		if s.Retry != nil {
			visit(s.Retry.When)
		}
		if s.Cache != nil {
			visit(s.Cache.Key)
		}
	}
	if a := n.Approval; a != nil {
		visit(a.Title)
		visit(a.Summary)
	}
	if n.Timer != nil {
		visit(n.Timer.Until)
	}
	if n.Match != nil {
		for _, arm := range n.Match.Arms {
			visit(arm.Pred)
		}
	}
	if n.Loop != nil {
		visit(n.Loop.Until)
	}
	if n.For != nil {
		visit(n.For.List)
	}
	if n.Worktree != nil {
		visit(n.Worktree.Branch)
	}
}
