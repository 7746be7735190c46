package ast

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/smithc/smithc/lang/diag"
)

// Fprint writes a deterministic, indented dump of f: one line per node
// or field, each node with its range as line:col-line:col, absent
// optional parts as "-", expressions with their exact source and
// templates part by part. It is the format of the parser's goldens.
func Fprint(w io.Writer, f *File) error {
	p := &printer{}
	if f == nil {
		p.line("file -")
	} else {
		p.file(f)
	}
	_, err := io.WriteString(w, p.b.String())
	return err
}

type printer struct {
	b     strings.Builder
	depth int
}

func (p *printer) line(format string, args ...any) {
	for i := 0; i < p.depth; i++ {
		p.b.WriteString("  ")
	}
	fmt.Fprintf(&p.b, format, args...)
	p.b.WriteByte('\n')
}

func (p *printer) in()  { p.depth++ }
func (p *printer) out() { p.depth-- }

// rng renders a range as line:col-line:col.
func rng(r diag.Range) string {
	return fmt.Sprintf("%d:%d-%d:%d", r.Start.Line, r.Start.Col, r.End.Line, r.End.Col)
}

func (p *printer) ident(label string, id Ident) {
	p.line("%s %s %s", label, id.Name, rng(id.Range))
}

func (p *printer) keyword(r diag.Range) { p.line("keyword %s", rng(r)) }

func (p *printer) file(f *File) {
	p.line("file %s %s", f.Name, rng(f.Range))
	p.in()
	for _, d := range f.Decls {
		p.decl(d)
	}
	p.out()
}

func (p *printer) decl(d Decl) {
	switch d := d.(type) {
	case *ImportDecl:
		p.line("import %s", rng(d.Range))
		p.in()
		p.keyword(d.KeywordRange)
		p.line("path %s %s", strconv.Quote(d.Path), rng(d.PathRange))
		p.out()
	case *TypeDecl:
		p.line("type %s", rng(d.Range))
		p.in()
		p.keyword(d.KeywordRange)
		p.ident("name", d.Name)
		p.fields(d.Fields)
		p.out()
	case *AgentDecl:
		p.line("agent %s", rng(d.Range))
		p.in()
		p.keyword(d.KeywordRange)
		p.ident("name", d.Name)
		p.attrs(d.Attrs)
		p.blocks(d.Blocks)
		p.out()
	case *FragmentDecl:
		p.line("fragment %s", rng(d.Range))
		p.in()
		p.keyword(d.KeywordRange)
		p.ident("name", d.Name)
		for _, f := range d.Params {
			p.field("param", f)
		}
		p.body("body", d.Body)
		p.out()
	case *WorkflowDecl:
		p.line("workflow %s", rng(d.Range))
		p.in()
		p.keyword(d.KeywordRange)
		p.ident("name", d.Name)
		if d.Input == nil {
			p.line("input -")
		} else {
			p.line("input %s", rng(d.Input.Range))
			p.in()
			p.keyword(d.Input.KeywordRange)
			p.fields(d.Input.Fields)
			p.out()
		}
		p.body("body", d.Body)
		p.out()
	default:
		p.line("decl %T", d)
	}
}

func (p *printer) fields(fs []*Field) {
	for _, f := range fs {
		p.field("field", f)
	}
}

func (p *printer) field(label string, f *Field) {
	p.line("%s %s", label, rng(f.Range))
	p.in()
	p.ident("name", f.Name)
	if f.Optional {
		p.line("optional")
	}
	p.typeExpr("type", f.Type)
	p.expr("default", f.Default)
	p.out()
}

func (p *printer) typeExpr(label string, t TypeExpr) {
	switch t := t.(type) {
	case nil:
		p.line("%s -", label)
	case *NamedType:
		p.line("%s named %s %s", label, t.Name, rng(t.Range))
	case *ListType:
		p.line("%s list %s", label, rng(t.Range))
		p.in()
		p.typeExpr("elem", t.Elem)
		p.out()
	case *ObjectType:
		p.line("%s object %s", label, rng(t.Range))
		p.in()
		p.fields(t.Fields)
		p.out()
	case *EnumType:
		p.line("%s enum %s", label, rng(t.Range))
		p.in()
		for _, v := range t.Values {
			p.line("value %s %s", strconv.Quote(v.Value), rng(v.Range))
		}
		p.out()
	default:
		p.line("%s %T", label, t)
	}
}

func (p *printer) expr(label string, e *Expr) {
	if e == nil {
		p.line("%s -", label)
		return
	}
	p.line("%s %s %s", label, rng(e.Range), strconv.Quote(e.Src))
	if e.Template == nil {
		return
	}
	p.in()
	kind := "template"
	if e.Template.Triple {
		kind = "template triple"
	}
	p.line("%s", kind)
	p.in()
	for _, part := range e.Template.Parts {
		if part.Expr == nil {
			p.line("lit %s", strconv.Quote(part.Lit))
			continue
		}
		p.line("interp %s %s", rng(part.Expr.Range), strconv.Quote(part.Expr.Src))
	}
	p.out()
	p.out()
}

func (p *printer) attrs(as []*Attr) {
	for _, a := range as {
		p.line("attr %s", rng(a.Range))
		p.in()
		p.ident("name", a.Name)
		p.expr("value", a.Value)
		p.out()
	}
}

func (p *printer) blocks(bs []*Block) {
	for _, b := range bs {
		p.line("block %s", rng(b.Range))
		p.in()
		p.ident("kind", b.Kind)
		if b.Label == nil {
			p.line("label -")
		} else {
			p.ident("label", *b.Label)
		}
		p.attrs(b.Attrs)
		p.blocks(b.Blocks)
		p.out()
	}
}

func (p *printer) body(label string, b *Body) {
	if b == nil {
		p.line("%s -", label)
		return
	}
	p.line("%s %s", label, rng(b.Range))
	p.in()
	p.attrs(b.Attrs)
	for _, s := range b.Nodes {
		p.stmt(s)
	}
	p.out()
}

func (p *printer) elseArm(e *ElseArm) {
	if e == nil {
		p.line("else -")
		return
	}
	p.line("else %s", rng(e.Range))
	p.in()
	p.keyword(e.KeywordRange)
	p.body("body", e.Body)
	p.out()
}

func (p *printer) stmt(s Stmt) {
	switch s := s.(type) {
	case *StepStmt:
		p.line("step %s", rng(s.Range))
		p.in()
		p.keyword(s.KeywordRange)
		p.ident("id", s.ID)
		p.typeExpr("output", s.Output)
		p.attrs(s.Attrs)
		p.blocks(s.Blocks)
		p.out()
	case *ApprovalStmt:
		p.line("approval %s", rng(s.Range))
		p.in()
		p.keyword(s.KeywordRange)
		p.ident("id", s.ID)
		p.typeExpr("output", s.Output)
		p.attrs(s.Attrs)
		p.blocks(s.Blocks)
		p.out()
	case *SequenceStmt:
		p.line("sequence %s", rng(s.Range))
		p.in()
		p.keyword(s.KeywordRange)
		p.body("body", s.Body)
		p.out()
	case *ParallelStmt:
		p.line("parallel %s", rng(s.Range))
		p.in()
		p.keyword(s.KeywordRange)
		p.body("body", s.Body)
		p.out()
	case *MatchStmt:
		p.line("match %s", rng(s.Range))
		p.in()
		p.keyword(s.KeywordRange)
		p.ident("source", s.Source)
		for _, a := range s.Arms {
			p.line("when %s", rng(a.Range))
			p.in()
			p.keyword(a.KeywordRange)
			p.expr("pred", a.Pred)
			p.body("body", a.Body)
			p.out()
		}
		p.elseArm(s.Else)
		p.out()
	case *BranchStmt:
		p.line("branch %s", rng(s.Range))
		p.in()
		p.keyword(s.KeywordRange)
		p.expr("pred", s.Pred)
		p.body("then", s.Then)
		p.elseArm(s.Else)
		p.out()
	case *LoopStmt:
		p.line("loop %s", rng(s.Range))
		p.in()
		p.keyword(s.KeywordRange)
		p.ident("id", s.ID)
		p.body("body", s.Body)
		p.out()
	case *ForStmt:
		p.line("for %s", rng(s.Range))
		p.in()
		p.keyword(s.KeywordRange)
		p.ident("var", s.Var)
		p.expr("list", s.List)
		p.body("body", s.Body)
		p.out()
	case *TimerStmt:
		p.line("timer %s", rng(s.Range))
		p.in()
		p.keyword(s.KeywordRange)
		p.ident("id", s.ID)
		p.attrs(s.Attrs)
		p.out()
	case *EventStmt:
		p.line("event %s", rng(s.Range))
		p.in()
		p.keyword(s.KeywordRange)
		p.ident("id", s.ID)
		p.typeExpr("output", s.Output)
		p.attrs(s.Attrs)
		p.out()
	case *WorktreeStmt:
		p.line("worktree %s", rng(s.Range))
		p.in()
		p.keyword(s.KeywordRange)
		p.ident("id", s.ID)
		p.body("body", s.Body)
		p.out()
	case *UseStmt:
		p.line("use %s", rng(s.Range))
		p.in()
		p.keyword(s.KeywordRange)
		p.ident("fragment", s.Fragment)
		for _, a := range s.Args {
			p.expr("arg", a)
		}
		p.ident("prefix", s.Prefix)
		p.out()
	case *TryStmt:
		p.line("try %s", rng(s.Range))
		p.in()
		p.keyword(s.KeywordRange)
		p.body("body", s.Try)
		if s.Catch == nil {
			p.line("catch -")
		} else {
			p.line("catch keyword %s", rng(s.CatchRange))
			p.in()
			p.body("body", s.Catch)
			p.out()
		}
		if s.Finally == nil {
			p.line("finally -")
		} else {
			p.line("finally keyword %s", rng(s.FinallyRange))
			p.in()
			p.body("body", s.Finally)
			p.out()
		}
		p.out()
	default:
		p.line("stmt %T", s)
	}
}
