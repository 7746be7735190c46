package lsp

import (
	"path/filepath"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/lang/diag"
)

// definition answers textDocument/definition: the declaration of the
// name under off, or nil.
func (s *Server) definition(d *document, off int) any {
	path := pathAt(d.file, off)
	if len(path) == 0 {
		return nil
	}
	r, ok := s.definitionRange(d, path, off)
	if !ok {
		return nil
	}
	return s.location(d, r)
}

// location turns a range in any file of the program into a Location.
func (s *Server) location(d *document, r diag.Range) Location {
	if r.File == d.path || r.File == "" {
		return Location{URI: d.uri, Range: d.text.rangeOf(r)}
	}
	t := newText("")
	if b, err := s.readFile(r.File); err == nil {
		t = newText(string(b))
	}
	return Location{URI: pathToURI(r.File), Range: t.rangeOf(r)}
}

func (s *Server) definitionRange(d *document, path []ast.Node, off int) (diag.Range, bool) {
	info := d.info
	n := path[len(path)-1]
	switch n := n.(type) {
	case *ast.Expr:
		if info == nil {
			return diag.Range{}, false
		}
		// needs = [a, b] and agent = name name nodes and agents
		if len(path) >= 2 {
			if a, ok := path[len(path)-2].(*ast.Attr); ok && a.Value == n {
				if r, ok := s.attrValueDefinition(d, path, a, off); ok {
					return r, true
				}
			}
		}
		c, ok := chainAt(n.Src, runeOffset(n, off), false)
		if !ok {
			return diag.Range{}, false
		}
		rt := resolveRoot(info, n, c)
		if !rt.found {
			return diag.Range{}, false
		}
		if len(c.names) > rt.n {
			// a field: of the input, or of a declared type
			return memberDefinition(info, path, n, c, rt)
		}
		return refDefinition(path, rt.ref)
	case *ast.NamedType:
		return typeDecl(d, n.Name)
	case *ast.UseStmt:
		if within(n.Fragment, off) {
			if fr := info.Fragments[n.Fragment.Name]; fr != nil {
				return fr.Name.Range, true
			}
		}
	case *ast.ImportDecl:
		if n.PathRange.Start.Offset <= off && off <= n.PathRange.End.Offset {
			p := n.Path
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(d.path), p)
			}
			return diag.Range{File: p, Start: diag.Pos{Line: 1, Col: 1}, End: diag.Pos{Line: 1, Col: 1}}, true
		}
	case *ast.Block:
		if n.Label != nil && within(*n.Label, off) && info != nil {
			for _, f := range info.Files {
				for _, decl := range f.Decls {
					if w, ok := decl.(*ast.WorkflowDecl); ok && w.Name.Name == n.Label.Name {
						return w.Name.Range, true
					}
				}
			}
		}
	case *ast.MatchStmt:
		if within(n.Source, off) {
			return nodeByID(path, n.Source.Name)
		}
	}
	return diag.Range{}, false
}

// attrValueDefinition resolves the names of needs and agent values.
func (s *Server) attrValueDefinition(d *document, path []ast.Node, a *ast.Attr, off int) (diag.Range, bool) {
	c, ok := chainAt(a.Value.Src, runeOffset(a.Value, off), false)
	if !ok {
		return diag.Range{}, false
	}
	name := c.names[0]
	if len(c.names) == 2 {
		name = c.names[0] + "." + c.names[1]
	}
	switch a.Name.Name {
	case "needs":
		return nodeByID(path, name)
	case "agent":
		if ag := d.info.Agents[c.names[0]]; ag != nil {
			return ag.Name.Range, true
		}
	}
	return diag.Range{}, false
}

// refDefinition is where a name an expression reads is declared.
func refDefinition(path []ast.Node, ref checker.Ref) (diag.Range, bool) {
	switch ref.Kind {
	case checker.RefNode:
		if id, ok := stmtID(ref.Stmt); ok {
			return id.Range, true
		}
	case checker.RefForVar:
		if f, ok := ref.Stmt.(*ast.ForStmt); ok {
			return f.Var.Range, true
		}
	case checker.RefInput:
		if w, ok := enclosingDecl(path).(*ast.WorkflowDecl); ok && w.Input != nil {
			return w.Input.KeywordRange, true
		}
	case checker.RefParam:
		if fr, ok := enclosingDecl(path).(*ast.FragmentDecl); ok {
			for _, p := range fr.Params {
				if p.Name.Name == ref.Name {
					return p.Name.Range, true
				}
			}
		}
	}
	return diag.Range{}, false
}

// memberDefinition is the declaration of the last name of a chain that
// reads a field: an input field, a field of a declared type, or a field
// of a node's inline output.
func memberDefinition(info *checker.Info, path []ast.Node, e *ast.Expr, c chain, rt root) (diag.Range, bool) {
	last := c.names[len(c.names)-1]
	if rt.ref.Kind == checker.RefInput && len(c.names) == rt.n+1 {
		if w, ok := enclosingDecl(path).(*ast.WorkflowDecl); ok && w.Input != nil {
			for _, f := range w.Input.Fields {
				if f.Name.Name == last {
					return f.Name.Range, true
				}
			}
		}
	}
	if rt.ref.Kind == checker.RefNode && len(c.names) == rt.n+1 {
		if obj, ok := outputTypeExpr(rt.ref.Stmt).(*ast.ObjectType); ok {
			for _, f := range obj.Fields {
				if f.Name.Name == last {
					return f.Name.Range, true
				}
			}
		}
	}
	owner, _ := chainType(info, path, e, chain{names: c.names[:len(c.names)-1]})
	if owner != nil && owner.Name != "" {
		for _, f := range info.Files {
			for _, d := range f.Decls {
				if td, ok := d.(*ast.TypeDecl); ok && td.Name.Name == owner.Name {
					for _, fd := range td.Fields {
						if fd.Name.Name == last {
							return fd.Name.Range, true
						}
					}
				}
			}
		}
	}
	return diag.Range{}, false
}

func outputTypeExpr(s ast.Stmt) ast.TypeExpr {
	switch s := s.(type) {
	case *ast.StepStmt:
		return s.Output
	case *ast.ApprovalStmt:
		return s.Output
	case *ast.EventStmt:
		return s.Output
	}
	return nil
}

// typeDecl finds the declaration of a named type in the program.
func typeDecl(d *document, name string) (diag.Range, bool) {
	files := []*ast.File{d.file}
	if d.info != nil {
		files = append(files, d.info.Files...)
	}
	for _, f := range files {
		if f == nil {
			continue
		}
		for _, decl := range f.Decls {
			if td, ok := decl.(*ast.TypeDecl); ok && td.Name.Name == name {
				return td.Name.Range, true
			}
		}
	}
	return diag.Range{}, false
}

// stmtByID finds a node with an id of the enclosing workflow or
// fragment, or nil.
func stmtByID(path []ast.Node, name string) ast.Stmt {
	var found ast.Stmt
	walkStmts(declBody(enclosingDecl(path)), func(s ast.Stmt) {
		if id, ok := stmtID(s); ok && found == nil && id.Name == name {
			found = s
		}
	})
	return found
}

// nodeByID finds a node of the enclosing workflow or fragment by its id
// (or "prefix.id" for a node of a mounted fragment, which resolves to the
// use statement).
func nodeByID(path []ast.Node, name string) (diag.Range, bool) {
	var found diag.Range
	ok := false
	walkStmts(declBody(enclosingDecl(path)), func(s ast.Stmt) {
		if id, has := stmtID(s); has && !ok {
			if id.Name == name {
				found, ok = id.Range, true
			} else if u, isUse := s.(*ast.UseStmt); isUse && len(name) > len(u.Prefix.Name) && name[:len(u.Prefix.Name)+1] == u.Prefix.Name+"." {
				found, ok = u.Prefix.Range, true
			}
		}
	})
	return found, ok
}
