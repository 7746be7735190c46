package parser

import (
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/grammar"
)

// body converts a braced list of attributes and nodes.
func (c *converter) body(g *grammar.Body) *ast.Body {
	if g == nil {
		return nil
	}
	b := &ast.Body{Range: c.rng(g.Pos, g.EndPos)}
	for _, it := range g.Items {
		switch {
		case it == nil:
		case it.Node != nil:
			if n := c.node(it.Node); n != nil {
				b.Nodes = append(b.Nodes, n)
			}
		case it.Attr != nil:
			b.Attrs = append(b.Attrs, c.attr(it.Attr))
		}
	}
	return b
}

// node converts one workflow node; nil when the grammar node is empty.
func (c *converter) node(g *grammar.Node) ast.Stmt {
	switch {
	case g.Step != nil:
		s := &ast.StepStmt{KeywordRange: c.word(g.Step.Pos, len("step")), ID: c.ident(g.Step.ID), Range: c.rng(g.Step.Pos, g.Step.EndPos)}
		s.Output, s.Attrs, s.Blocks = c.stepItems(g.Step.Items)
		return s
	case g.Approval != nil:
		a := g.Approval
		s := &ast.ApprovalStmt{KeywordRange: c.word(a.Pos, len("approval")), ID: c.ident(a.ID), Range: c.rng(a.Pos, a.EndPos)}
		s.Output, s.Attrs, s.Blocks = c.stepItems(a.Items)
		return s
	case g.Sequence != nil:
		return &ast.SequenceStmt{KeywordRange: c.word(g.Sequence.Pos, len("sequence")), Body: c.body(g.Sequence.Body), Range: c.rng(g.Sequence.Pos, g.Sequence.EndPos)}
	case g.Parallel != nil:
		return &ast.ParallelStmt{KeywordRange: c.word(g.Parallel.Pos, len("parallel")), Body: c.body(g.Parallel.Body), Range: c.rng(g.Parallel.Pos, g.Parallel.EndPos)}
	case g.Match != nil:
		return c.match(g.Match)
	case g.Branch != nil:
		b := g.Branch
		return &ast.BranchStmt{KeywordRange: c.word(b.Pos, len("branch")), Pred: c.expr(b.Pred), Then: c.body(b.Then), Else: c.elseArm(b.Else), Range: c.rng(b.Pos, b.EndPos)}
	case g.Loop != nil:
		return &ast.LoopStmt{KeywordRange: c.word(g.Loop.Pos, len("loop")), ID: c.ident(g.Loop.ID), Body: c.body(g.Loop.Body), Range: c.rng(g.Loop.Pos, g.Loop.EndPos)}
	case g.For != nil:
		f := g.For
		return &ast.ForStmt{KeywordRange: c.word(f.Pos, len("for")), Var: c.ident(f.Var), List: c.expr(f.List), Body: c.body(f.Body), Range: c.rng(f.Pos, f.EndPos)}
	case g.Timer != nil:
		t := g.Timer
		s := &ast.TimerStmt{KeywordRange: c.word(t.Pos, len("timer")), ID: c.ident(t.ID), Range: c.rng(t.Pos, t.EndPos)}
		for _, a := range t.Attrs {
			if a != nil {
				s.Attrs = append(s.Attrs, c.attr(a))
			}
		}
		return s
	case g.Event != nil:
		return c.event(g.Event)
	case g.Worktree != nil:
		w := g.Worktree
		return &ast.WorktreeStmt{KeywordRange: c.word(w.Pos, len("worktree")), ID: c.ident(w.ID), Body: c.body(w.Body), Range: c.rng(w.Pos, w.EndPos)}
	case g.Use != nil:
		u := g.Use
		s := &ast.UseStmt{KeywordRange: c.word(u.Pos, len("use")), Fragment: c.ident(u.Fragment), Prefix: c.ident(u.Prefix), Range: c.rng(u.Pos, u.EndPos)}
		for _, a := range u.Args {
			if a != nil {
				s.Args = append(s.Args, c.expr(&lexer.Token{Type: grammar.Expr, Value: a.Src, Pos: a.Pos}))
			}
		}
		return s
	case g.Try != nil:
		return c.try(g.Try)
	}
	return nil
}

// stepItems splits the items of a step or approval.
func (c *converter) stepItems(items []*grammar.StepItem) (out ast.TypeExpr, attrs []*ast.Attr, blocks []*ast.Block) {
	var rest []*grammar.Item
	for _, it := range items {
		switch {
		case it == nil:
		case it.Output != nil:
			t := c.output(it.Output)
			if out != nil {
				c.errorf(c.word(it.Output.Pos, len("output")), "duplicate", "duplicate output declaration")
				continue
			}
			out = t
		case it.Item != nil:
			rest = append(rest, it.Item)
		}
	}
	attrs, blocks = c.items(rest, false)
	return out, attrs, blocks
}

// output converts "output: T" or "output { fields }".
func (c *converter) output(g *grammar.Output) ast.TypeExpr {
	if g.Fields != nil {
		return &ast.ObjectType{Fields: c.fields(g.Fields.List), Range: c.rng(g.Fields.Pos, g.Fields.EndPos)}
	}
	return c.typeExpr(g.Type)
}

func (c *converter) event(g *grammar.Event) *ast.EventStmt {
	s := &ast.EventStmt{KeywordRange: c.word(g.Pos, len("event")), ID: c.ident(g.ID), Range: c.rng(g.Pos, g.EndPos)}
	for _, it := range g.Items {
		switch {
		case it == nil:
		case it.Output != nil:
			t := c.output(it.Output)
			if s.Output != nil {
				c.errorf(c.word(it.Output.Pos, len("output")), "duplicate", "duplicate output declaration")
				continue
			}
			s.Output = t
		case it.Attr != nil:
			s.Attrs = append(s.Attrs, c.attr(it.Attr))
		}
	}
	return s
}

func (c *converter) match(g *grammar.Match) *ast.MatchStmt {
	s := &ast.MatchStmt{KeywordRange: c.word(g.Pos, len("match")), Source: c.ident(g.Source), Else: c.elseArm(g.Else), Range: c.rng(g.Pos, g.EndPos)}
	for _, w := range g.Arms {
		if w == nil {
			continue
		}
		s.Arms = append(s.Arms, &ast.WhenArm{KeywordRange: c.word(w.Pos, len("when")), Pred: c.expr(w.Pred), Body: c.body(w.Body), Range: c.rng(w.Pos, w.EndPos)})
	}
	return s
}

func (c *converter) elseArm(g *grammar.Else) *ast.ElseArm {
	if g == nil {
		return nil
	}
	return &ast.ElseArm{KeywordRange: c.word(g.Pos, len("else")), Body: c.body(g.Body), Range: c.rng(g.Pos, g.EndPos)}
}

func (c *converter) try(g *grammar.Try) *ast.TryStmt {
	s := &ast.TryStmt{KeywordRange: c.word(g.Pos, len("try")), Try: c.body(g.Body), Range: c.rng(g.Pos, g.EndPos)}
	if g.Catch != nil {
		s.CatchRange = c.word(g.Catch.Pos, len("catch"))
		s.Catch = c.body(g.Catch.Body)
	}
	if g.Finally != nil {
		s.FinallyRange = c.word(g.Finally.Pos, len("finally"))
		s.Finally = c.body(g.Finally.Body)
	}
	return s
}
