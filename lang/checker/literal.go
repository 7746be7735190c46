package checker

import (
	exprast "github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	exprparser "github.com/expr-lang/expr/parser"
)

// literalTree returns the tree exprparser.Parse(src) builds when src is
// in the small part of the expression language most values are written
// in: decimal integers, true, false, nil, names and their fields
// (`input.x`, `s0.out.n`), joined by + - * / % (`s0 + 1`), with single
// spaces or none between them. It returns nil for anything else, which
// is then parsed. expr-lang's parser allocates a lexer and its token
// ring for every expression: on a program of many small steps that was
// a fifth of checking it. It follows the parser's precedence climbing
// (parseExpression) and its node locations (a binary node at its
// operator, a member node at its property). TestLiteralTreeIsParse and
// FuzzLiteralTree check that the trees are the ones the parser builds.
func literalTree(src string) *exprparser.Tree {
	if len(src) == 0 || len(src) > 256 {
		return nil // long ones are rare, and stay far below the parser's node limit
	}
	q := quickParser{src: src}
	q.next()
	node := q.expression(0)
	if node == nil || q.kind != qEOF {
		return nil
	}
	return &exprparser.Tree{Node: node, Source: file.NewSource(src)}
}

type quickKind uint8

const (
	qBad quickKind = iota
	qEOF
	qInt
	qName
	qOp  // + - * / %
	qDot // .
)

// quickParser reads the subset literalTree takes; any token outside it
// is qBad, which ends the parse without a tree.
type quickParser struct {
	src      string
	off      int
	kind     quickKind
	from, to int // the token's range (ASCII only: bytes are runes)
}

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool     { return c >= '0' && c <= '9' }

// next moves to the next token.
func (q *quickParser) next() {
	if q.off < len(q.src) && q.src[q.off] == ' ' {
		q.off++
	}
	q.from = q.off
	if q.off >= len(q.src) {
		q.kind, q.to = qEOF, q.off
		return
	}
	c := q.src[q.off]
	q.kind = qBad
	switch {
	case isDigit(c):
		end := q.off + 1
		for end < len(q.src) && isDigit(q.src[end]) {
			end++
		}
		// 0x.., 0b.., 0o.., 00, 0.5, 1e3, 1_000, and what may not fit an
		// int are the parser's.
		if c == '0' && end-q.off > 1 || end-q.off > 18 || end < len(q.src) && (isNameStart(q.src[end]) || q.src[end] == '.') {
			return
		}
		q.kind, q.off = qInt, end
	case isNameStart(c):
		end := q.off + 1
		for end < len(q.src) && (isNameStart(q.src[end]) || isDigit(q.src[end])) {
			end++
		}
		if end < len(q.src) && q.src[end] >= 0x80 {
			return // a name may go on in letters that are not ASCII
		}
		switch q.src[q.off:end] {
		case "not", "and", "or", "in", "matches", "contains", "startsWith", "endsWith", "let", "if", "else":
			return // operators and keywords
		}
		q.kind, q.off = qName, end
	case c == '+' || c == '-' || c == '*' || c == '%':
		if q.off+1 < len(q.src) && (q.src[q.off+1] == '*' || c == '-' && q.src[q.off+1] == '>') {
			return // ** and ->
		}
		q.kind, q.off = qOp, q.off+1
	case c == '/':
		if q.off+1 < len(q.src) && (q.src[q.off+1] == '/' || q.src[q.off+1] == '*') {
			return // a comment
		}
		q.kind, q.off = qOp, q.off+1
	case c == '.':
		if q.off+1 < len(q.src) && (q.src[q.off+1] == '.' || isDigit(q.src[q.off+1])) {
			return // .. and .5
		}
		q.kind, q.off = qDot, q.off+1
	}
	q.to = q.off
}

func (q *quickParser) text() string { return q.src[q.from:q.to] }

func (q *quickParser) loc() file.Location { return file.Location{From: q.from, To: q.to} }

// precedence is the binary precedence of the current operator.
func (q *quickParser) precedence() int {
	if q.text() == "+" || q.text() == "-" {
		return 30
	}
	return 60
}

// expression is the parser's parseExpression(precedence) on the subset
// (every operator is left-associative).
func (q *quickParser) expression(precedence int) exprast.Node {
	left := q.primary()
	for left != nil && q.kind == qOp {
		p := q.precedence()
		if p < precedence {
			break
		}
		op, at := q.text(), q.loc()
		q.next()
		right := q.expression(p + 1)
		if right == nil {
			return nil
		}
		left = &exprast.BinaryNode{Operator: op, Left: left, Right: right}
		left.SetLocation(at)
	}
	return left
}

// primary is an integer, true, false, nil, or a name with its fields.
func (q *quickParser) primary() exprast.Node {
	at := q.loc()
	var node exprast.Node
	switch q.kind {
	case qInt:
		v := 0
		for _, d := range []byte(q.text()) {
			v = v*10 + int(d-'0')
		}
		node = &exprast.IntegerNode{Value: v}
	case qName:
		switch q.text() {
		case "true":
			node = &exprast.BoolNode{Value: true}
		case "false":
			node = &exprast.BoolNode{Value: false}
		case "nil":
			node = &exprast.NilNode{}
		default:
			node = &exprast.IdentifierNode{Value: q.text()}
			node.SetLocation(at)
			q.next()
			for q.kind == qDot {
				q.next()
				if q.kind != qName {
					return nil
				}
				prop := &exprast.StringNode{Value: q.text()}
				prop.SetLocation(q.loc())
				m := &exprast.MemberNode{Node: node, Property: prop}
				m.SetLocation(q.loc())
				node = m
				q.next()
			}
			return node
		}
	default:
		return nil
	}
	node.SetLocation(at)
	q.next()
	return node
}
