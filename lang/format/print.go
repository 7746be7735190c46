package format

import (
	"sort"
	"strings"

	"github.com/smithc/smithc/lang/ast"
)

// file renders the whole file.
func (p *printer) file(f *ast.File) string {
	items := make([]item, 0, len(f.Decls))
	for _, d := range f.Decls {
		items = append(items, p.decl(d))
	}
	out := p.group(0, -1, items, 0, false)
	return strings.TrimLeft(out, "\n")
}

func (p *printer) decl(d ast.Decl) item {
	r := d.Span()
	it := item{start: r.Start.Offset, end: r.End.Offset, node: true}
	ind := ""
	switch d := d.(type) {
	case *ast.ImportDecl:
		it.text = "import " + p.inline(d.KeywordRange.End.Offset, d.PathRange.Start.Offset, ind) + p.raw(d.PathRange)
	case *ast.TypeDecl:
		open := p.openBrace(d.Name.Range.End.Offset)
		it.text = "type " + p.inline(d.KeywordRange.End.Offset, d.Name.Range.Start.Offset, ind) + d.Name.Name + " " +
			p.inline(d.Name.Range.End.Offset, open, ind) + p.fields(open, r.End.Offset-1, d.Fields, 0)
	case *ast.AgentDecl:
		open := p.openBrace(d.Name.Range.End.Offset)
		it.text = "agent " + p.inline(d.KeywordRange.End.Offset, d.Name.Range.Start.Offset, ind) + d.Name.Name + " " +
			p.inline(d.Name.Range.End.Offset, open, ind) + p.group(open, r.End.Offset-1, p.attrsBlocks(d.Attrs, d.Blocks, nil, 1), 0, true)
	case *ast.FragmentDecl:
		params := make([]string, len(d.Params))
		for i, f := range d.Params {
			text, trailing := p.field(f, 1)
			if trailing != "" {
				// inside the parentheses a newline is a blank
				text += " " + strings.ReplaceAll(trailing, "\n", "\n"+indentUnit) + "\n" + indentUnit
			}
			params[i] = p.inline(d.Name.Range.End.Offset, f.Range.Start.Offset, ind) + text
		}
		it.text = "fragment " + p.inline(d.KeywordRange.End.Offset, d.Name.Range.Start.Offset, ind) + d.Name.Name +
			"(" + strings.Join(params, ", ") + ") " + p.inline(d.Name.Range.End.Offset, d.Body.Range.Start.Offset, ind) + p.body(d.Body, nil, 0)
	case *ast.WorkflowDecl:
		var extra []item
		if d.Input != nil {
			in := d.Input
			open := p.openBrace(in.KeywordRange.End.Offset)
			extra = append(extra, item{start: in.Range.Start.Offset, end: in.Range.End.Offset,
				text: "input " + p.inline(in.KeywordRange.End.Offset, open, indentUnit) + p.fields(open, in.Range.End.Offset-1, in.Fields, 1)})
		}
		it.text = "workflow " + p.inline(d.KeywordRange.End.Offset, d.Name.Range.Start.Offset, ind) + d.Name.Name + " " +
			p.inline(d.Name.Range.End.Offset, d.Body.Range.Start.Offset, ind) + p.body(d.Body, extra, 0)
	}
	return it
}

// body renders a body: its attributes and nodes (and extra items, such as
// a workflow's input) in source order.
func (p *printer) body(b *ast.Body, extra []item, depth int) string {
	items := append([]item(nil), extra...)
	for _, a := range b.Attrs {
		items = append(items, p.attr(a, depth+1))
	}
	for _, s := range b.Nodes {
		items = append(items, p.stmt(s, depth+1))
	}
	sortItems(items)
	return p.group(b.Range.Start.Offset, b.Range.End.Offset-1, items, depth, len(b.Nodes) == 0)
}

func sortItems(items []item) {
	sort.SliceStable(items, func(i, j int) bool { return items[i].start < items[j].start })
}

// attrsBlocks renders attributes, blocks and an optional output item in
// source order, at depth.
func (p *printer) attrsBlocks(attrs []*ast.Attr, blocks []*ast.Block, extra []item, depth int) []item {
	items := append([]item(nil), extra...)
	for _, a := range attrs {
		items = append(items, p.attr(a, depth))
	}
	for _, b := range blocks {
		items = append(items, p.block(b, depth))
	}
	sortItems(items)
	return items
}

func (p *printer) attr(a *ast.Attr, depth int) item {
	name := p.raw(a.Name.Range)
	val, trailing := "", ""
	if a.Value != nil {
		var pre string
		pre, trailing = p.split(a.Name.Range.End.Offset, a.Value.Range.Start.Offset)
		val = pre + a.Value.Src
	}
	return item{start: a.Range.Start.Offset, end: a.Range.End.Offset, key: name, text: "= " + val, inlinable: true, trailing: trailing}
}

func (p *printer) block(b *ast.Block, depth int) item {
	ind := strings.Repeat(indentUnit, depth)
	head := p.raw(b.Kind.Range)
	after := b.Kind.Range.End.Offset
	if b.Label != nil {
		head += " " + p.inline(after, b.Label.Range.Start.Offset, ind) + b.Label.Name
		after = b.Label.Range.End.Offset
	}
	open := p.openBrace(after)
	text := head + " " + p.inline(after, open, ind) + p.group(open, b.Range.End.Offset-1, p.attrsBlocks(b.Attrs, b.Blocks, nil, depth+1), depth, true)
	return item{start: b.Range.Start.Offset, end: b.Range.End.Offset, text: text, inlinable: true}
}

// fields renders a braced list of fields.
func (p *printer) fields(open, close int, fs []*ast.Field, depth int) string {
	items := make([]item, len(fs))
	for i, f := range fs {
		text, trailing := p.field(f, depth+1)
		items[i] = item{start: f.Range.Start.Offset, end: f.Range.End.Offset, text: text, inlinable: true, trailing: trailing}
	}
	return p.group(open, close, items, depth, true)
}

// field renders a field and returns the line comments from inside it.
func (p *printer) field(f *ast.Field, depth int) (string, string) {
	s := f.Name.Name
	if f.Optional {
		s += "?"
	}
	s += ": "
	var trailing string
	if f.Type != nil {
		pre, tr := p.split(f.Name.Range.End.Offset, f.Type.Span().Start.Offset)
		s += pre + p.typeExpr(f.Type, depth)
		trailing = tr
	}
	if f.Default != nil {
		pre, tr := p.split(f.Type.Span().End.Offset, f.Default.Range.Start.Offset)
		s += " = " + pre + f.Default.Src
		trailing = joinLines(trailing, tr)
	}
	return s, trailing
}

func (p *printer) typeExpr(t ast.TypeExpr, depth int) string {
	ind := strings.Repeat(indentUnit, depth)
	switch t := t.(type) {
	case *ast.NamedType:
		return t.Name
	case *ast.ListType:
		return "[" + p.inline(t.Range.Start.Offset, t.Elem.Span().Start.Offset, ind) + p.typeExpr(t.Elem, depth) + p.inline(t.Elem.Span().End.Offset, t.Range.End.Offset-1, ind) + "]"
	case *ast.ObjectType:
		return p.fields(t.Range.Start.Offset, t.Range.End.Offset-1, t.Fields, depth)
	case *ast.EnumType:
		vals := make([]string, len(t.Values))
		for i, v := range t.Values {
			pre := ""
			if i > 0 {
				pre = p.inline(t.Values[i-1].Range.End.Offset, v.Range.Start.Offset, ind)
			}
			vals[i] = pre + p.raw(v.Range)
		}
		return strings.Join(vals, " | ")
	}
	return ""
}

// output renders a step's "output: T" or "output { ... }" as an item.
func (p *printer) output(t ast.TypeExpr, depth int) item {
	r := t.Span()
	// The keyword "output" and, in the first form, ":" precede the type.
	kw := p.tokenAt(r.Start.Offset) - 1
	colon := false
	if kw >= 0 && p.toks.List[kw].Value == ":" {
		colon = true
		kw--
	}
	start := r.Start.Offset
	if kw >= 0 {
		start = p.toks.List[kw].Pos.Offset
	}
	ind := strings.Repeat(indentUnit, depth)
	text := "output "
	if colon {
		text = "output: "
	}
	text += p.inline(start, r.Start.Offset, ind) + p.typeExpr(t, depth)
	return item{start: start, end: r.End.Offset, text: text, inlinable: true}
}

// stepLike renders "KEYWORD id { output, attrs, blocks }".
func (p *printer) stepLike(kw string, s ast.Node, id ast.Ident, out ast.TypeExpr, attrs []*ast.Attr, blocks []*ast.Block, depth int) string {
	ind := strings.Repeat(indentUnit, depth)
	var extra []item
	if out != nil {
		extra = append(extra, p.output(out, depth+1))
	}
	open := p.openBrace(id.Range.End.Offset)
	r := s.Span()
	return kw + " " + p.inline(r.Start.Offset+len(kw), id.Range.Start.Offset, ind) + id.Name + " " + p.inline(id.Range.End.Offset, open, ind) +
		p.group(open, r.End.Offset-1, p.attrsBlocks(attrs, blocks, extra, depth+1), depth, true)
}

func (p *printer) stmt(s ast.Stmt, depth int) item {
	r := s.Span()
	it := item{start: r.Start.Offset, end: r.End.Offset, node: true}
	ind := strings.Repeat(indentUnit, depth)
	kwEnd := func(k int) int { return r.Start.Offset + k }
	switch s := s.(type) {
	case *ast.StepStmt:
		it.text = p.stepLike("step", s, s.ID, s.Output, s.Attrs, s.Blocks, depth)
	case *ast.ApprovalStmt:
		it.text = p.stepLike("approval", s, s.ID, s.Output, s.Attrs, s.Blocks, depth)
	case *ast.EventStmt:
		it.text = p.stepLike("event", s, s.ID, s.Output, s.Attrs, nil, depth)
	case *ast.TimerStmt:
		it.text = p.stepLike("timer", s, s.ID, nil, s.Attrs, nil, depth)
	case *ast.SequenceStmt:
		it.text = "sequence " + p.inline(kwEnd(8), s.Body.Range.Start.Offset, ind) + p.body(s.Body, nil, depth)
	case *ast.ParallelStmt:
		it.text = "parallel " + p.inline(kwEnd(8), s.Body.Range.Start.Offset, ind) + p.body(s.Body, nil, depth)
	case *ast.LoopStmt:
		it.text = "loop " + p.inline(kwEnd(4), s.ID.Range.Start.Offset, ind) + s.ID.Name + " " +
			p.inline(s.ID.Range.End.Offset, s.Body.Range.Start.Offset, ind) + p.body(s.Body, nil, depth)
	case *ast.WorktreeStmt:
		it.text = "worktree " + p.inline(kwEnd(8), s.ID.Range.Start.Offset, ind) + s.ID.Name + " " +
			p.inline(s.ID.Range.End.Offset, s.Body.Range.Start.Offset, ind) + p.body(s.Body, nil, depth)
	case *ast.ForStmt:
		in := s.List.Range.Start.Offset
		if i := p.tokenAt(s.Var.Range.End.Offset); i < len(p.toks.List) {
			in = p.toks.List[i].Pos.Offset // the "in"
		}
		it.text = "for " + p.inline(kwEnd(3), s.Var.Range.Start.Offset, ind) + s.Var.Name + " " + p.inline(s.Var.Range.End.Offset, in, ind) + "in " +
			p.inline(in, s.List.Range.Start.Offset, ind) + s.List.Src + " " +
			p.inline(s.List.Range.End.Offset, s.Body.Range.Start.Offset, ind) + p.body(s.Body, nil, depth)
	case *ast.BranchStmt:
		text := "branch " + p.inline(kwEnd(6), s.Pred.Range.Start.Offset, ind) + s.Pred.Src + " " +
			p.inline(s.Pred.Range.End.Offset, s.Then.Range.Start.Offset, ind) + p.body(s.Then, nil, depth)
		if s.Else != nil {
			text += " " + p.inline(s.Then.Range.End.Offset, s.Else.Range.Start.Offset, ind) + p.elseArm(s.Else, depth)
		}
		it.text = text
	case *ast.MatchStmt:
		open := p.openBrace(s.Source.Range.End.Offset)
		var arms []item
		for _, a := range s.Arms {
			arms = append(arms, item{start: a.Range.Start.Offset, end: a.Range.End.Offset,
				text: "when " + p.inline(a.KeywordRange.End.Offset, a.Pred.Range.Start.Offset, ind+indentUnit) + a.Pred.Src + " " +
					p.inline(a.Pred.Range.End.Offset, a.Body.Range.Start.Offset, ind+indentUnit) + p.body(a.Body, nil, depth+1)})
		}
		if s.Else != nil {
			arms = append(arms, item{start: s.Else.Range.Start.Offset, end: s.Else.Range.End.Offset, text: p.elseArm(s.Else, depth+1)})
		}
		it.text = "match " + p.inline(kwEnd(5), s.Source.Range.Start.Offset, ind) + s.Source.Name + " " +
			p.inline(s.Source.Range.End.Offset, open, ind) + p.group(open, r.End.Offset-1, arms, depth, false)
	case *ast.UseStmt:
		args := make([]string, len(s.Args))
		prev := s.Fragment.Range.End.Offset
		for i, a := range s.Args {
			args[i] = p.inline(prev, a.Range.Start.Offset, ind) + a.Src
			prev = a.Range.End.Offset
		}
		close := prev
		if n := p.tokenAt(prev); n < len(p.toks.List) {
			close = p.toks.List[n].Pos.Offset
		}
		it.text = "use " + p.inline(kwEnd(3), s.Fragment.Range.Start.Offset, ind) + s.Fragment.Name + "(" + strings.Join(args, ", ") +
			p.inline(prev, close, ind) + ") as " + p.inline(close, s.Prefix.Range.Start.Offset, ind) + s.Prefix.Name
	case *ast.TryStmt:
		text := "try " + p.inline(kwEnd(3), s.Try.Range.Start.Offset, ind) + p.body(s.Try, nil, depth)
		prev := s.Try.Range.End.Offset
		if s.Catch != nil {
			text += " " + p.inline(prev, s.CatchRange.Start.Offset, ind) + "catch " +
				p.inline(s.CatchRange.End.Offset, s.Catch.Range.Start.Offset, ind) + p.body(s.Catch, nil, depth)
			prev = s.Catch.Range.End.Offset
		}
		if s.Finally != nil {
			text += " " + p.inline(prev, s.FinallyRange.Start.Offset, ind) + "finally " +
				p.inline(s.FinallyRange.End.Offset, s.Finally.Range.Start.Offset, ind) + p.body(s.Finally, nil, depth)
		}
		it.text = text
	}
	return it
}

func (p *printer) elseArm(e *ast.ElseArm, depth int) string {
	ind := strings.Repeat(indentUnit, depth)
	return "else " + p.inline(e.KeywordRange.End.Offset, e.Body.Range.Start.Offset, ind) + p.body(e.Body, nil, depth)
}
