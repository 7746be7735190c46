package lsp

import (
	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/lang/format"
)

// symbols is the document's outline: its declarations, and in workflows
// and fragments their nodes, nested as they are written.
func symbols(d *document) []DocumentSymbol {
	out := []DocumentSymbol{}
	if d.file == nil {
		return out
	}
	sym := func(name, detail string, kind int, r, sel diag.Range, kids []DocumentSymbol) DocumentSymbol {
		if !sel.IsValid() {
			sel = r
		}
		return DocumentSymbol{Name: name, Detail: detail, Kind: kind, Range: d.text.rangeOf(r), SelectionRange: d.text.rangeOf(sel), Children: kids}
	}
	for _, decl := range d.file.Decls {
		switch decl := decl.(type) {
		case *ast.ImportDecl:
			out = append(out, sym(decl.Path, "import", symModule, decl.Range, decl.PathRange, nil))
		case *ast.TypeDecl:
			var kids []DocumentSymbol
			for _, f := range decl.Fields {
				kids = append(kids, sym(f.Name.Name, "field", symField, f.Range, f.Name.Range, nil))
			}
			out = append(out, sym(decl.Name.Name, "type", symStruct, decl.Range, decl.Name.Range, kids))
		case *ast.AgentDecl:
			out = append(out, sym(decl.Name.Name, "agent", symObject, decl.Range, decl.Name.Range, nil))
		case *ast.FragmentDecl:
			out = append(out, sym(decl.Name.Name, "fragment", symFunction, decl.Range, decl.Name.Range, nodeSymbols(d, decl.Body, sym)))
		case *ast.WorkflowDecl:
			kids := nodeSymbols(d, decl.Body, sym)
			if decl.Input != nil {
				var fields []DocumentSymbol
				for _, f := range decl.Input.Fields {
					fields = append(fields, sym(f.Name.Name, "input field", symField, f.Range, f.Name.Range, nil))
				}
				kids = append([]DocumentSymbol{sym("input", "input", symInterface, decl.Input.Range, decl.Input.KeywordRange, fields)}, kids...)
			}
			out = append(out, sym(decl.Name.Name, "workflow", symClass, decl.Range, decl.Name.Range, kids))
		}
	}
	return out
}

type symFunc func(name, detail string, kind int, r, sel diag.Range, kids []DocumentSymbol) DocumentSymbol

func nodeSymbols(d *document, b *ast.Body, sym symFunc) []DocumentSymbol {
	if b == nil {
		return nil
	}
	var out []DocumentSymbol
	for _, st := range b.Nodes {
		var kids []DocumentSymbol
		for _, c := range children(st) {
			switch c := c.(type) {
			case *ast.Body:
				kids = append(kids, nodeSymbols(d, c, sym)...)
			case *ast.WhenArm:
				kids = append(kids, sym("when "+c.Pred.Src, "arm", symEvent, c.Range, c.KeywordRange, nodeSymbols(d, c.Body, sym)))
			case *ast.ElseArm:
				kids = append(kids, sym("else", "arm", symEvent, c.Range, c.KeywordRange, nodeSymbols(d, c.Body, sym)))
			}
		}
		name, kind := kindOf(st), symMethod
		sel := st.Span()
		if id, ok := stmtID(st); ok {
			name = id.Name
			sel = id.Range
		}
		switch st := st.(type) {
		case *ast.SequenceStmt, *ast.ParallelStmt, *ast.TryStmt:
			name, kind = keywordName(st), symNamespace
		case *ast.MatchStmt:
			name, kind, sel = "match "+st.Source.Name, symNamespace, st.Source.Range
		case *ast.BranchStmt:
			name, kind = "branch "+st.Pred.Src, symNamespace
		case *ast.ForStmt:
			name, kind, sel = "for "+st.Var.Name+" in "+st.List.Src, symNamespace, st.Var.Range
		case *ast.LoopStmt, *ast.WorktreeStmt, *ast.UseStmt:
			kind = symNamespace
		case *ast.ApprovalStmt, *ast.EventStmt, *ast.TimerStmt:
			kind = symEvent
		}
		out = append(out, sym(name, kindOf(st), kind, st.Span(), sel, kids))
	}
	return out
}

func keywordName(st ast.Stmt) string {
	switch st.(type) {
	case *ast.SequenceStmt:
		return "sequence"
	case *ast.ParallelStmt:
		return "parallel"
	case *ast.TryStmt:
		return "try"
	}
	return "node"
}

// formatEdits answers textDocument/formatting: one edit replacing the
// whole text, none when it is formatted, an error when it does not parse.
func formatEdits(d *document) (any, *rpcError) {
	out, ds := format.Source(d.path, []byte(d.text.s))
	if ds.HasErrors() {
		return nil, &rpcError{Code: codeRequestFailed, Message: "the file has syntax errors: " + ds[0].Summary}
	}
	if string(out) == d.text.s {
		return []TextEdit{}, nil
	}
	end := d.text.position(len(d.text.s))
	return []TextEdit{{Range: Range{End: end}, NewText: string(out)}}, nil
}
