package lsp

import (
	"github.com/smithc/smithc/lang/ast"
)

// children lists the direct syntax children of n, in no particular order.
// Expressions are leaves (their insides are expr-lang's); a template's
// interpolations are its children.
func children(n ast.Node) []ast.Node {
	var out []ast.Node
	add := func(ns ...ast.Node) {
		for _, c := range ns {
			if c != nil && !isNil(c) {
				out = append(out, c)
			}
		}
	}
	addBody := func(b *ast.Body) {
		if b != nil {
			add(b)
		}
	}
	switch n := n.(type) {
	case *ast.File:
		for _, d := range n.Decls {
			add(d)
		}
	case *ast.TypeDecl:
		for _, f := range n.Fields {
			add(f)
		}
	case *ast.AgentDecl:
		for _, a := range n.Attrs {
			add(a)
		}
		for _, b := range n.Blocks {
			add(b)
		}
	case *ast.FragmentDecl:
		for _, f := range n.Params {
			add(f)
		}
		addBody(n.Body)
	case *ast.WorkflowDecl:
		if n.Input != nil {
			add(n.Input)
		}
		addBody(n.Body)
	case *ast.InputDecl:
		for _, f := range n.Fields {
			add(f)
		}
	case *ast.Field:
		if n.Type != nil {
			add(n.Type)
		}
		if n.Default != nil {
			add(n.Default)
		}
	case *ast.ListType:
		add(n.Elem)
	case *ast.ObjectType:
		for _, f := range n.Fields {
			add(f)
		}
	case *ast.Attr:
		if n.Value != nil {
			add(n.Value)
		}
	case *ast.Expr:
		if n.Template != nil {
			for _, p := range n.Template.Parts {
				if p.Expr != nil {
					add(p.Expr)
				}
			}
		}
	case *ast.Block:
		for _, a := range n.Attrs {
			add(a)
		}
		for _, b := range n.Blocks {
			add(b)
		}
	case *ast.Body:
		for _, a := range n.Attrs {
			add(a)
		}
		for _, s := range n.Nodes {
			add(s)
		}
	case *ast.StepStmt:
		add(n.Output)
		for _, a := range n.Attrs {
			add(a)
		}
		for _, b := range n.Blocks {
			add(b)
		}
	case *ast.ApprovalStmt:
		add(n.Output)
		for _, a := range n.Attrs {
			add(a)
		}
		for _, b := range n.Blocks {
			add(b)
		}
	case *ast.EventStmt:
		add(n.Output)
		for _, a := range n.Attrs {
			add(a)
		}
	case *ast.TimerStmt:
		for _, a := range n.Attrs {
			add(a)
		}
	case *ast.SequenceStmt:
		addBody(n.Body)
	case *ast.ParallelStmt:
		addBody(n.Body)
	case *ast.LoopStmt:
		addBody(n.Body)
	case *ast.WorktreeStmt:
		addBody(n.Body)
	case *ast.ForStmt:
		if n.List != nil {
			add(n.List)
		}
		addBody(n.Body)
	case *ast.BranchStmt:
		if n.Pred != nil {
			add(n.Pred)
		}
		addBody(n.Then)
		if n.Else != nil {
			add(n.Else)
		}
	case *ast.ElseArm:
		addBody(n.Body)
	case *ast.WhenArm:
		if n.Pred != nil {
			add(n.Pred)
		}
		addBody(n.Body)
	case *ast.MatchStmt:
		for _, a := range n.Arms {
			add(a)
		}
		if n.Else != nil {
			add(n.Else)
		}
	case *ast.UseStmt:
		for _, a := range n.Args {
			add(a)
		}
	case *ast.TryStmt:
		addBody(n.Try)
		addBody(n.Catch)
		addBody(n.Finally)
	}
	return out
}

// isNil reports whether an interface holds a typed nil pointer.
func isNil(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.Body:
		return n == nil
	case *ast.Expr:
		return n == nil
	case *ast.InputDecl:
		return n == nil
	case *ast.ElseArm:
		return n == nil
	}
	return false
}

// contains reports whether off is inside n or at its end (where the
// cursor is after typing its last character).
func contains(n ast.Node, off int) bool {
	r := n.Span()
	return r.Start.Offset <= off && off <= r.End.Offset
}

// pathAt returns the nodes that contain off, outermost first, starting
// with the file.
func pathAt(f *ast.File, off int) []ast.Node {
	if f == nil {
		return nil
	}
	path := []ast.Node{f}
	var n ast.Node = f
	for {
		var next ast.Node
		for _, c := range children(n) {
			if contains(c, off) {
				// prefer a child that starts later (the innermost of
				// adjacent ones)
				if next == nil || c.Span().Start.Offset >= next.Span().Start.Offset {
					next = c
				}
			}
		}
		if next == nil {
			return path
		}
		path = append(path, next)
		n = next
	}
}

// within reports whether off is inside the identifier (or just after it).
func within(id ast.Ident, off int) bool {
	return id.Range.IsValid() && id.Range.Start.Offset <= off && off <= id.Range.End.Offset
}

// stmtID is the id of a node that has one.
func stmtID(s ast.Stmt) (ast.Ident, bool) {
	switch s := s.(type) {
	case *ast.StepStmt:
		return s.ID, true
	case *ast.ApprovalStmt:
		return s.ID, true
	case *ast.EventStmt:
		return s.ID, true
	case *ast.TimerStmt:
		return s.ID, true
	case *ast.LoopStmt:
		return s.ID, true
	case *ast.WorktreeStmt:
		return s.ID, true
	case *ast.UseStmt:
		return s.Prefix, true
	}
	return ast.Ident{}, false
}

// walkStmts calls fn for every node of b, depth first, in source order.
func walkStmts(b *ast.Body, fn func(ast.Stmt)) {
	if b == nil {
		return
	}
	for _, s := range b.Nodes {
		fn(s)
		for _, c := range children(s) {
			switch c := c.(type) {
			case *ast.Body:
				walkStmts(c, fn)
			case *ast.ElseArm:
				walkStmts(c.Body, fn)
			case *ast.WhenArm:
				walkStmts(c.Body, fn)
			}
		}
	}
}

// enclosingDecl is the declaration of path, or nil.
func enclosingDecl(path []ast.Node) ast.Decl {
	for _, n := range path {
		if d, ok := n.(ast.Decl); ok {
			return d
		}
	}
	return nil
}

// declBody is the body of a workflow or fragment.
func declBody(d ast.Decl) *ast.Body {
	switch d := d.(type) {
	case *ast.WorkflowDecl:
		return d.Body
	case *ast.FragmentDecl:
		return d.Body
	}
	return nil
}
