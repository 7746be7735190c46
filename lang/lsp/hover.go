package lsp

import (
	"fmt"
	"strings"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/schema"
)

// typeText renders a type for people: a named type as "Name = { ... }".
func typeText(t *schema.Type) string {
	if t == nil {
		return "any"
	}
	if t.Name != "" {
		return t.Name + " = " + t.Structure()
	}
	return t.Structure()
}

func (s *Server) hover(d *document, off int) *Hover {
	path := pathAt(d.file, off)
	if len(path) == 0 {
		return nil
	}
	text, r := s.hoverText(d, path, off)
	if text == "" {
		return nil
	}
	h := &Hover{Contents: MarkupContent{Kind: "markdown", Value: text}}
	if r.IsValid() {
		rr := d.text.rangeOf(r)
		h.Range = &rr
	}
	return h
}

func code(s string) string { return "`" + s + "`" }

func (s *Server) hoverText(d *document, path []ast.Node, off int) (string, diag.Range) {
	info := d.info
	n := path[len(path)-1]
	if kw, r, ok := keywordAt(n, off); ok {
		return keywordDocs[kw], r
	}
	switch n := n.(type) {
	case *ast.Expr:
		if len(path) >= 2 {
			if a, ok := path[len(path)-2].(*ast.Attr); ok && a.Value == n && a.Name.Name == "needs" {
				if c, ok := chainAt(n.Src, runeOffset(n, off), false); ok {
					if st := stmtByID(path, strings.Join(c.names, ".")); st != nil {
						return s.stmtHover(d, st), n.RangeAt(c.from, c.to)
					}
				}
			}
		}
		ro := runeOffset(n, off)
		if c, ok := chainAt(n.Src, ro, false); ok && info != nil {
			t, rt := chainType(info, path, n, c)
			r := n.RangeAt(c.from, c.to)
			name := strings.ReplaceAll(strings.Join(c.names, "."), ".[]", "[]")
			if t != nil {
				what := ""
				if rt.n == len(c.names) {
					what = rootWhat(rt)
				}
				return code(name) + ": " + code(typeText(t)) + what, r
			}
		}
		if info != nil {
			if t := info.ExprTypes[n]; t != nil {
				return "expression: " + code(typeText(t)), n.Range
			}
		}
	case *ast.Attr:
		if within(n.Name, off) {
			_, attrs, _ := s.attrsOf(path[:len(path)-1])
			for _, a := range attrs {
				if a.name == n.Name.Name {
					return attrHover(a), n.Name.Range
				}
			}
		}
	case *ast.Field:
		if within(n.Name, off) {
			return fieldHover(d, path, n), n.Name.Range
		}
	case *ast.NamedType:
		if info != nil {
			if t := info.Types[n.Name]; t != nil {
				return "type " + code(typeText(t)), n.Range
			}
		}
		return "type " + code(n.Name), n.Range
	case *ast.Block:
		if within(n.Kind, off) {
			return s.blockHover(path, n), n.Kind.Range
		}
		if n.Label != nil && within(*n.Label, off) && info != nil {
			for st, w := range info.Calls {
				for _, b := range st.Blocks {
					if b == n {
						return "workflow " + code(w.Name.Name) + ": input " + code(typeText(info.Inputs[w])) + ", output " + code(typeText(info.WorkflowOutputs[w])), n.Label.Range
					}
				}
			}
		}
	case *ast.TypeDecl:
		if within(n.Name, off) && info != nil {
			return "type " + code(typeText(info.Types[n.Name.Name])), n.Name.Range
		}
	case *ast.WorkflowDecl:
		if within(n.Name, off) && info != nil {
			return fmt.Sprintf("workflow %s\n\ninput: %s\n\noutput: %s", code(n.Name.Name), code(typeText(info.Inputs[n])), code(typeText(info.WorkflowOutputs[n]))), n.Name.Range
		}
	case *ast.FragmentDecl:
		if within(n.Name, off) {
			return "fragment " + code(n.Name.Name) + ", mounted with " + code("use "+n.Name.Name+"(...) as prefix"), n.Name.Range
		}
	case *ast.AgentDecl:
		if within(n.Name, off) {
			return "agent " + code(n.Name.Name), n.Name.Range
		}
	case *ast.UseStmt:
		if within(n.Fragment, off) || within(n.Prefix, off) {
			return "mounts fragment " + code(n.Fragment.Name) + "; its ids are " + code(n.Prefix.Name+".id"), n.Fragment.Range
		}
	case *ast.MatchStmt:
		if within(n.Source, off) && info != nil {
			for st, t := range info.Outputs {
				if id, ok := stmtID(st); ok && id.Name == n.Source.Name {
					return code(n.Source.Name) + ": " + code(typeText(t)), n.Source.Range
				}
			}
		}
	case *ast.ForStmt:
		if within(n.Var, off) && info != nil && n.List != nil {
			if t := info.ExprTypes[n.List]; t != nil && t.Kind == schema.List {
				return code(n.Var.Name) + ": " + code(typeText(t.Elem)) + " (an element of the list)", n.Var.Range
			}
		}
	case ast.Stmt:
		if id, ok := stmtID(n); ok && within(id, off) {
			return s.stmtHover(d, n), id.Range
		}
	}
	return "", diag.Range{}
}

// keywordAt reports the keyword of n under off.
func keywordAt(n ast.Node, off int) (string, diag.Range, bool) {
	var r diag.Range
	kw := ""
	switch n := n.(type) {
	case *ast.ImportDecl:
		r, kw = n.KeywordRange, "import"
	case *ast.TypeDecl:
		r, kw = n.KeywordRange, "type"
	case *ast.AgentDecl:
		r, kw = n.KeywordRange, "agent"
	case *ast.FragmentDecl:
		r, kw = n.KeywordRange, "fragment"
	case *ast.WorkflowDecl:
		r, kw = n.KeywordRange, "workflow"
	case *ast.InputDecl:
		r, kw = n.KeywordRange, "input"
	case *ast.StepStmt:
		r, kw = n.KeywordRange, "step"
	case *ast.ApprovalStmt:
		r, kw = n.KeywordRange, "approval"
	case *ast.SequenceStmt:
		r, kw = n.KeywordRange, "sequence"
	case *ast.ParallelStmt:
		r, kw = n.KeywordRange, "parallel"
	case *ast.MatchStmt:
		r, kw = n.KeywordRange, "match"
	case *ast.BranchStmt:
		r, kw = n.KeywordRange, "branch"
	case *ast.LoopStmt:
		r, kw = n.KeywordRange, "loop"
	case *ast.ForStmt:
		r, kw = n.KeywordRange, "for"
	case *ast.TimerStmt:
		r, kw = n.KeywordRange, "timer"
	case *ast.EventStmt:
		r, kw = n.KeywordRange, "event"
	case *ast.WorktreeStmt:
		r, kw = n.KeywordRange, "worktree"
	case *ast.UseStmt:
		r, kw = n.KeywordRange, "use"
	case *ast.TryStmt:
		r, kw = n.KeywordRange, "try"
	}
	if kw == "" || !r.IsValid() || off < r.Start.Offset || off >= r.End.Offset {
		return "", r, false
	}
	return kw, r, true
}

func rootWhat(r root) string {
	switch r.ref.Kind {
	case checker.RefNode:
		if id, ok := stmtID(r.ref.Stmt); ok {
			return " (the output of " + kindOf(r.ref.Stmt) + " " + code(id.Name) + ")"
		}
	}
	return ""
}

func kindOf(s ast.Stmt) string {
	switch s.(type) {
	case *ast.StepStmt:
		return "step"
	case *ast.ApprovalStmt:
		return "approval"
	case *ast.EventStmt:
		return "event"
	case *ast.TimerStmt:
		return "timer"
	case *ast.LoopStmt:
		return "loop"
	case *ast.WorktreeStmt:
		return "worktree"
	case *ast.UseStmt:
		return "use"
	}
	return "node"
}

func attrHover(a attrInfo) string {
	var b strings.Builder
	b.WriteString("**" + a.name + "**")
	if a.doc != "" {
		b.WriteString(": " + a.doc)
	}
	if len(a.enum) > 0 {
		q := make([]string, len(a.enum))
		for i, v := range a.enum {
			q[i] = fmt.Sprintf("%q", v)
		}
		b.WriteString("\n\none of " + code(strings.Join(q, " | ")))
	} else if a.typ != nil && a.typ.Kind != schema.Any {
		b.WriteString("\n\ntype " + code(typeText(a.typ)))
	}
	return b.String()
}

func fieldHover(d *document, path []ast.Node, f *ast.Field) string {
	src := d.text.s[f.Range.Start.Offset:f.Range.End.Offset]
	if d.info != nil {
		if w, ok := enclosingDecl(path).(*ast.WorkflowDecl); ok && w.Input != nil && len(path) >= 2 {
			if _, inInput := path[len(path)-2].(*ast.InputDecl); inInput {
				if t := d.info.Inputs[w]; t != nil {
					if fd := t.Field(f.Name.Name); fd != nil {
						return "input " + code(f.Name.Name) + ": " + code(typeText(fd.Type)) + ", read as " + code("input."+f.Name.Name)
					}
				}
			}
		}
	}
	return "field " + code(src)
}

func (s *Server) blockHover(path []ast.Node, b *ast.Block) string {
	switch b.Kind.Name {
	case "retry":
		return "**retry**: run the step again when it fails"
	case "cache":
		return "**cache**: reuse the output of an earlier run with the same key"
	case "openai":
		return "**openai**: an OpenAI-compatible API instead of a CLI"
	}
	if len(path) >= 2 {
		if st, ok := path[len(path)-2].(*ast.StepStmt); ok {
			for _, sp := range s.actionsOf(st) {
				if bs := sp.Block(b.Kind.Name); bs != nil {
					return "**" + bs.Name + "**: " + bs.Doc
				}
			}
		}
	}
	return "block " + code(b.Kind.Name)
}

func (s *Server) stmtHover(d *document, st ast.Stmt) string {
	id, _ := stmtID(st)
	var b strings.Builder
	b.WriteString(kindOf(st) + " " + code(id.Name))
	if d.info == nil {
		return b.String()
	}
	if step, ok := st.(*ast.StepStmt); ok {
		if a := d.info.Actions[step]; a != "" {
			b.WriteString(", action " + code(a))
			for _, sp := range s.cfg.Actions {
				if sp.Name == a && sp.Doc != "" {
					b.WriteString("\n\n" + sp.Doc)
				}
			}
		}
	}
	if t := d.info.Outputs[st]; t != nil {
		b.WriteString("\n\noutput: " + code(typeText(t)))
	}
	return b.String()
}
