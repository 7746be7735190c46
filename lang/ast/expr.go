package ast

import (
	"unicode/utf8"

	"github.com/smithc/smithc/lang/diag"
)

// Expr is a value written on the right of "=": an expression of the expr
// language (github.com/expr-lang/expr), kept as source text so that the
// checker can hand it to expr and map expr's positions back to the file.
//
// A value that is exactly one string literal is a template; Template is
// then non-nil (also for a literal without any ${...}).
type Expr struct {
	Src      string     // the exact source text of the expression
	Range    diag.Range // where Src is in the file
	Template *Template  // non-nil when the value is one string literal
}

// Span implements Node.
func (e *Expr) Span() diag.Range { return e.Range }

// PosAt returns the file position of the rune at runeOffset in Src (expr
// reports rune offsets). Offsets past the end give the end of the range.
func (e *Expr) PosAt(runeOffset int) diag.Pos {
	return PosIn(e.Src, e.Range.Start, runeOffset)
}

// RangeAt returns the file range of the runes [from, to) of Src.
func (e *Expr) RangeAt(from, to int) diag.Range {
	if to < from {
		to = from
	}
	return diag.Range{File: e.Range.File, Start: e.PosAt(from), End: e.PosAt(to)}
}

// PosIn returns the position of the rune at runeOffset of text, text being
// located at start in its file.
func PosIn(text string, start diag.Pos, runeOffset int) diag.Pos {
	p := start
	for i, r := range text {
		if runeOffset <= 0 {
			return p
		}
		_, size := utf8.DecodeRuneInString(text[i:]) // 1 for an invalid byte, unlike RuneLen(U+FFFD)
		p.Offset += size
		if r == '\n' {
			p.Line++
			p.Col = 1
		} else {
			p.Col++
		}
		runeOffset--
	}
	return p
}

// Template is a string literal with ${...} interpolations.
//
//	"Review ${input.repo} at ${input.sha}"
//	"""
//	  Summarize:
//	  ${read.stdout}
//	  """
//
// Literal parts have escapes processed, "$${" turned into "${", and (for
// triple-quoted strings) the common indentation removed. Each interpolated
// expression keeps its raw source and its own range.
type Template struct {
	Triple bool
	Parts  []TemplatePart
}

// TemplatePart is either literal text (Expr == nil) or one interpolation.
type TemplatePart struct {
	Lit  string
	Expr *Expr // the text between "${" and "}"
}

// IsLiteral reports whether the template has no interpolation, and returns
// its text.
func (t *Template) IsLiteral() (string, bool) {
	s := ""
	for _, p := range t.Parts {
		if p.Expr != nil {
			return "", false
		}
		s += p.Lit
	}
	return s, true
}
