package lsp

import (
	"sort"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser/lexer"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/schema"
)

// nodeKeywords start a node in a body.
var nodeKeywords = []string{"step", "approval", "sequence", "parallel", "match", "branch", "loop", "for", "timer", "event", "worktree", "use", "try"}

func isIdentByte(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// complete answers textDocument/completion. The text being typed rarely
// parses, so the document is checked once more with the word being
// completed taken out (and, after a ".", the "." too): the tree of that
// text says where the cursor is and the checker's Info what the names
// before it mean.
func (s *Server) complete(d *document, off int) []CompletionItem {
	src := d.text.s
	wordStart := off
	for wordStart > 0 && isIdentByte(src[wordStart-1]) {
		wordStart--
	}
	wordEnd := off
	for wordEnd < len(src) && isIdentByte(src[wordEnd]) {
		wordEnd++
	}
	lineStart := strings.LastIndexByte(src[:wordStart], '\n') + 1
	lineEnd := len(src)
	if i := strings.IndexByte(src[off:], '\n'); i >= 0 {
		lineEnd = off + i
	}
	before := src[lineStart:wordStart]

	// after "." or "?.": the fields of what precedes
	if strings.HasSuffix(before, ".") {
		dot := wordStart - 1
		if strings.HasSuffix(before, "?.") {
			dot--
		}
		if dot > 0 && src[dot-1] == '.' {
			return nil
		}
		patched := src[:dot] + src[wordEnd:]
		f, info := s.checkText(d, patched)
		path := pathAt(f, dot)
		e := innermostExpr(path)
		if e == nil {
			return nil
		}
		c, ok := chainAt(e.Src, runeOffset(e, dot), false)
		if !ok {
			return nil
		}
		t, _ := chainType(info, path, e, c)
		return fieldItems(t)
	}

	// inside a string: enum values
	if q := strings.LastIndexByte(before, '"'); q >= 0 && strings.Count(before, "\"")%2 == 1 {
		quote := lineStart + q
		end := wordEnd
		if end < lineEnd && src[end] == '"' {
			end++
		}
		patched := src[:quote] + `""` + src[end:]
		f, info := s.checkText(d, patched)
		return s.enumItems(f, info, quote, strings.TrimSpace(src[lineStart:quote]), true)
	}

	trimmed := strings.TrimSpace(before)
	// at the start of an item: attributes, blocks and node keywords
	if trimmed == "" || strings.HasSuffix(trimmed, "{") || strings.HasSuffix(trimmed, ",") {
		patched := src[:wordStart] + src[wordEnd:]
		f, _ := s.checkText(d, patched)
		return s.itemCompletions(pathAt(f, wordStart))
	}

	// an expression: node ids and the other names in scope, or enum
	// values right after "=" of an enum attribute or "==" of an enum
	patched := src[:wordStart] + "null" + src[wordEnd:]
	f, info := s.checkText(d, patched)
	var items []CompletionItem
	if strings.HasSuffix(trimmed, "=") {
		items = append(items, s.enumItems(f, info, wordStart, trimmed, false)...)
	}
	return append(items, s.nameItems(f, info, wordStart)...)
}

// checkText checks the document as if its text were src.
func (s *Server) checkText(d *document, src string) (*ast.File, *checker.Info) {
	cfg := &checker.Config{Actions: s.cfg.Actions, ReadFile: func(name string) ([]byte, error) {
		if name == d.path {
			return []byte(src), nil
		}
		return s.readFile(name)
	}}
	info, _ := checker.CheckFile(d.path, cfg)
	if info != nil && len(info.Files) > 0 && info.Files[0].Name == d.path {
		return info.Files[0], info
	}
	return nil, info
}

func fieldItems(t *schema.Type) []CompletionItem {
	if t == nil || t.Kind != schema.Object {
		return nil
	}
	items := make([]CompletionItem, 0, len(t.Fields))
	for _, f := range t.Fields {
		detail := typeText(f.Type)
		if f.Optional {
			detail += " (optional: read it with ?. or ??)"
		}
		items = append(items, CompletionItem{Label: f.Name, Kind: kindField, Detail: detail})
	}
	return items
}

// itemCompletions proposes what may start an item of the innermost
// container of path.
func (s *Server) itemCompletions(path []ast.Node) []CompletionItem {
	var items []CompletionItem
	kind, attrs, blocks := s.attrsOf(path)
	seen := map[string]bool{}
	for _, a := range attrs {
		if seen[a.name] {
			continue
		}
		seen[a.name] = true
		items = append(items, CompletionItem{Label: a.name, Kind: kindProperty, Detail: "attribute of " + kind, Documentation: a.doc, InsertText: a.name + " = "})
	}
	for _, b := range blocks {
		if seen[b] {
			continue
		}
		seen[b] = true
		items = append(items, CompletionItem{Label: b, Kind: kindModule, Detail: "block of " + kind, InsertText: b + " {"})
	}
	if kind == "step" || kind == "approval" || kind == "event" {
		items = append(items, CompletionItem{Label: "output", Kind: kindKeyword, Detail: "the node's output type", Documentation: keywordDocs["output"]})
	}
	if len(path) > 0 {
		if _, inBody := path[len(path)-1].(*ast.Body); inBody {
			for _, k := range nodeKeywords {
				items = append(items, CompletionItem{Label: k, Kind: kindKeyword, Documentation: keywordDocs[k]})
			}
			if _, ok := enclosingDecl(path).(*ast.WorkflowDecl); ok && len(path) == 3 {
				items = append(items, CompletionItem{Label: "input", Kind: kindKeyword, Documentation: keywordDocs["input"]})
			}
		}
		if _, atTop := path[len(path)-1].(*ast.File); atTop {
			for _, k := range []string{"import", "type", "agent", "fragment", "workflow"} {
				items = append(items, CompletionItem{Label: k, Kind: kindKeyword, Documentation: keywordDocs[k]})
			}
		}
	}
	return items
}

// enumItems proposes the values of the enum expected at off: of the
// attribute named on the left of "=", or of the operand left of "==" or
// "!=". inString: the cursor is after an opening quote.
func (s *Server) enumItems(f *ast.File, info *checker.Info, off int, left string, inString bool) []CompletionItem {
	var values []string
	path := pathAt(f, off)
	if strings.HasSuffix(left, "==") || strings.HasSuffix(left, "!=") {
		if e := innermostExpr(path); e != nil && info != nil {
			toks, _ := lexer.Lex(file.NewSource(e.Src))
			ro := runeOffset(e, off)
			for i, t := range toks {
				if t.From == ro && i >= 2 && toks[i-1].Kind == lexer.Operator && (toks[i-1].Value == "==" || toks[i-1].Value == "!=") {
					if c, ok := chainAt(e.Src, toks[i-2].To, false); ok {
						if t, _ := chainType(info, path, e, c); t != nil && t.Kind == schema.Enum {
							values = t.Enum
						}
					}
				}
			}
		}
	} else if name, ok := strings.CutSuffix(left, "="); ok {
		name = strings.TrimSpace(name)
		if i := strings.LastIndexAny(name, " \t{,"); i >= 0 {
			name = name[i+1:]
		}
		// the container is the node holding the attribute
		cpath := path
		for i := len(cpath) - 1; i >= 0; i-- {
			if _, isAttr := cpath[i].(*ast.Attr); isAttr {
				cpath = cpath[:i]
				break
			}
		}
		_, attrs, _ := s.attrsOf(cpath)
		for _, a := range attrs {
			if a.name == name && len(a.enum) > 0 {
				values = a.enum
				break
			}
		}
	}
	items := make([]CompletionItem, 0, len(values))
	for _, v := range values {
		ins := strconv.Quote(v)
		if inString {
			ins = v
		}
		items = append(items, CompletionItem{Label: strconv.Quote(v), Kind: kindEnum, InsertText: ins})
	}
	return items
}

// nameItems proposes the names an expression at off may read: the nodes
// of the enclosing workflow or fragment, input, parameters, loop and for
// variables.
func (s *Server) nameItems(f *ast.File, info *checker.Info, off int) []CompletionItem {
	path := pathAt(f, off)
	decl := enclosingDecl(path)
	var items []CompletionItem
	seen := map[string]bool{}
	add := func(it CompletionItem) {
		if !seen[it.Label] {
			seen[it.Label] = true
			items = append(items, it)
		}
	}
	walkStmts(declBody(decl), func(st ast.Stmt) {
		id, ok := stmtID(st)
		if !ok || id.Name == "" {
			return
		}
		detail := kindOf(st)
		if info != nil {
			if t := info.Outputs[st]; t != nil {
				detail += ": " + typeText(t)
			}
		}
		add(CompletionItem{Label: id.Name, Kind: kindVariable, Detail: detail})
	})
	switch decl := decl.(type) {
	case *ast.WorkflowDecl:
		detail := "the workflow's input"
		if info != nil && info.Inputs[decl] != nil {
			detail += ": " + typeText(info.Inputs[decl])
		}
		add(CompletionItem{Label: "input", Kind: kindVariable, Detail: detail})
	case *ast.FragmentDecl:
		for _, p := range decl.Params {
			add(CompletionItem{Label: p.Name.Name, Kind: kindVariable, Detail: "parameter"})
		}
	}
	for _, n := range path {
		switch n := n.(type) {
		case *ast.ForStmt:
			add(CompletionItem{Label: n.Var.Name, Kind: kindVariable, Detail: "the element of for"})
			add(CompletionItem{Label: "index", Kind: kindVariable, Detail: "int: the position in the for list"})
		case *ast.LoopStmt:
			add(CompletionItem{Label: "iteration", Kind: kindVariable, Detail: "int: the loop's iteration, from 0"})
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Label < items[j].Label })
	return items
}
