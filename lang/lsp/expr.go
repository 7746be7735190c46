package lsp

import (
	"unicode/utf8"

	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser/lexer"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/schema"
)

// elemStep stands for an index ("[0]") in a member chain.
const elemStep = "[]"

// chain is a member access path read from expr-lang's tokens:
// analyze.files[0].name is ["analyze", "files", "[]", "name"].
type chain struct {
	names    []string
	from, to int // rune range of the last name in the expression
}

// runeOffset converts a byte offset of the file into a rune offset of e's
// source, or -1 when it is outside.
func runeOffset(e *ast.Expr, off int) int {
	rel := off - e.Range.Start.Offset
	if rel < 0 || rel > len(e.Src) {
		return -1
	}
	return utf8.RuneCountInString(e.Src[:rel])
}

// chainAt returns the chain whose last name is under rune offset ro (or
// ends just before it). With beforeDot, ro is just after a "." or "?."
// and the chain is what precedes it.
func chainAt(src string, ro int, beforeDot bool) (chain, bool) {
	toks, _ := lexer.Lex(file.NewSource(src)) // tokens before a lexical error are kept
	end := -1
	for i, t := range toks {
		if t.Kind == lexer.EOF {
			break
		}
		if beforeDot {
			if t.Kind == lexer.Operator && (t.Value == "." || t.Value == "?.") && t.To <= ro {
				end = i - 1
			}
			continue
		}
		if t.Kind == lexer.Identifier && t.From <= ro && ro <= t.To {
			end = i
		}
	}
	if end < 0 || end >= len(toks) {
		return chain{}, false
	}
	var names []string
	i := end
	last := toks[end]
	for i >= 0 {
		t := toks[i]
		switch {
		case t.Kind == lexer.Identifier:
			names = append(names, t.Value)
			i--
		case t.Kind == lexer.Bracket && t.Value == "]":
			depth := 0
			for i >= 0 {
				if toks[i].Kind == lexer.Bracket {
					switch toks[i].Value {
					case "]":
						depth++
					case "[":
						depth--
					}
				}
				i--
				if depth == 0 {
					break
				}
			}
			names = append(names, elemStep)
			continue // what is indexed comes right before "["
		default:
			return chain{}, false
		}
		if i >= 0 && toks[i].Kind == lexer.Operator && (toks[i].Value == "." || toks[i].Value == "?.") {
			i--
			continue
		}
		break
	}
	if len(names) == 0 || names[len(names)-1] == elemStep {
		return chain{}, false
	}
	for l, r := 0, len(names)-1; l < r; l, r = l+1, r-1 {
		names[l], names[r] = names[r], names[l]
	}
	if beforeDot {
		last = toks[end]
	}
	return chain{names: names, from: last.From, to: last.To}, true
}

// root is what the first names of a chain refer to.
type root struct {
	ref   checker.Ref
	found bool
	n     int // how many names of the chain it takes (2 for a mounted "api.read")
}

// resolveRoot finds the name a chain starts with among the names the
// expression reads, as the checker resolved them.
func resolveRoot(info *checker.Info, e *ast.Expr, c chain) root {
	if info == nil {
		return root{}
	}
	refs := info.Refs[e]
	if len(c.names) >= 2 {
		joined := c.names[0] + "." + c.names[1]
		for _, r := range refs {
			if r.Name == joined {
				return root{ref: r, found: true, n: 2}
			}
		}
	}
	for _, r := range refs {
		if r.Name == c.names[0] {
			return root{ref: r, found: true, n: 1}
		}
	}
	return root{}
}

// rootType is the type of the value a root names, or nil.
func rootType(info *checker.Info, path []ast.Node, r root) *schema.Type {
	switch r.ref.Kind {
	case checker.RefNode:
		return info.Outputs[r.ref.Stmt]
	case checker.RefInput:
		if w, ok := enclosingDecl(path).(*ast.WorkflowDecl); ok {
			return info.Inputs[w]
		}
	case checker.RefIteration, checker.RefIndex:
		return schema.IntType
	case checker.RefForVar:
		if f, ok := r.ref.Stmt.(*ast.ForStmt); ok && f.List != nil {
			if t := info.ExprTypes[f.List]; t != nil && t.Kind == schema.List {
				return t.Elem
			}
		}
	case checker.RefParam:
		if fr, ok := enclosingDecl(path).(*ast.FragmentDecl); ok {
			for _, p := range info.Params[fr] {
				if p.Name == r.ref.Name {
					return p.Type
				}
			}
		}
	}
	return nil
}

// member is the type of a field (or element) of t, or nil.
func member(t *schema.Type, name string) *schema.Type {
	if t == nil {
		return nil
	}
	if name == elemStep {
		if t.Kind == schema.List {
			return t.Elem
		}
		return nil
	}
	if t.Kind == schema.Object {
		if f := t.Field(name); f != nil {
			return f.Type
		}
	}
	return nil
}

// chainType is the type of the whole chain, or nil.
func chainType(info *checker.Info, path []ast.Node, e *ast.Expr, c chain) (*schema.Type, root) {
	r := resolveRoot(info, e, c)
	if !r.found {
		return nil, r
	}
	t := rootType(info, path, r)
	for _, n := range c.names[r.n:] {
		t = member(t, n)
		if t == nil {
			return nil, r
		}
	}
	return t, r
}

// innermostExpr is the innermost expression of path (a template's
// interpolation rather than the template).
func innermostExpr(path []ast.Node) *ast.Expr {
	for i := len(path) - 1; i >= 0; i-- {
		if e, ok := path[i].(*ast.Expr); ok {
			return e
		}
	}
	return nil
}
