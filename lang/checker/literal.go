package checker

import (
	exprast "github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	exprparser "github.com/expr-lang/expr/parser"
)

// literalTree returns the tree exprparser.Parse(src) builds when src is
// one token the parser turns into a node by itself: a decimal integer
// (`value = 1`), true, false, nil, or a plain name (`value = s0`). It
// returns nil for anything else, which is then parsed. expr-lang's
// parser allocates a lexer and its token ring for every expression:
// on a program of many small steps that was a fifth of checking it.
// TestLiteralTreeIsParse and FuzzLiteralTree check that the trees are
// the ones the parser builds.
func literalTree(src string) *exprparser.Tree {
	n := len(src)
	if n == 0 {
		return nil
	}
	loc := file.Location{From: 0, To: n}
	var node exprast.Node
	switch c := src[0]; {
	case c >= '0' && c <= '9':
		if c == '0' && n > 1 || n > 18 {
			return nil // 0x.., 0b.., 0o.., 0.5, 00, and what may not fit an int: the parser's
		}
		v := 0
		for i := 0; i < n; i++ {
			d := src[i]
			if d < '0' || d > '9' {
				return nil
			}
			v = v*10 + int(d-'0')
		}
		node = &exprast.IntegerNode{Value: v}
	case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		for i := 1; i < n; i++ {
			d := src[i]
			if !(d == '_' || d >= 'a' && d <= 'z' || d >= 'A' && d <= 'Z' || d >= '0' && d <= '9') {
				return nil
			}
		}
		switch src {
		case "true":
			node = &exprast.BoolNode{Value: true}
		case "false":
			node = &exprast.BoolNode{Value: false}
		case "nil":
			node = &exprast.NilNode{}
		case "not", "and", "or", "in", "matches", "contains", "startsWith", "endsWith", "let", "if", "else":
			return nil // operators and keywords: the parser's
		default:
			node = &exprast.IdentifierNode{Value: src}
		}
	default:
		return nil
	}
	node.SetLocation(loc)
	return &exprparser.Tree{Node: node, Source: file.NewSource(src)}
}
