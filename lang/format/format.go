// Package format prints .smw files in one canonical layout.
//
// The layout is driven by the syntax tree (lang/parser) for structure and
// by the token stream (lang/grammar) for comments, which the tree does not
// keep:
//
//   - two spaces of indentation per level;
//   - the "=" of consecutive attributes aligned, as gofmt aligns, and the
//     trailing comments of consecutive lines aligned; a blank line or
//     another kind of item ends a group;
//   - exactly one blank line between two nodes and between two
//     declarations when either spans several lines (one-line nodes, such
//     as imports or "step a { run = "x" }", may stay together, as gofmt
//     lets one-line functions stay together); elsewhere at most one blank
//     line is kept where the author put one, and none after "{";
//   - a braced group written on one line stays on one line when it holds
//     only attributes, fields and blocks, and no comments;
//   - comments stay where they were: before the item they precede, or
//     after the item on whose line they end;
//   - every expression, string literal (triple-quoted ones included),
//     quoted name and enum value is copied from the source unchanged.
//
// Formatting never changes the meaning of a program: Source checks that
// the formatted text has exactly the tokens and comments of the original,
// in order, and refuses to format otherwise.
package format

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/lang/grammar"
	"github.com/smithc/smithc/lang/parser"
)

// indentUnit is one level of indentation.
const indentUnit = "  "

// Source formats the .smw file src named filename. When the file does
// not parse, it returns the parser's diagnostics (the same as check's
// syntax errors) and no output.
func Source(filename string, src []byte) ([]byte, diag.Diagnostics) {
	f, ds := parser.Parse(filename, src)
	if ds.HasErrors() {
		return nil, ds
	}
	out, err := File(f)
	if err != nil {
		r := diag.Range{File: filename, Start: diag.Pos{Offset: 0, Line: 1, Col: 1}}
		return nil, diag.Diagnostics{diag.Errorf(r, "format", "%v", err)}
	}
	return out, nil
}

// File formats a file that parsed without errors; f.Src must be its text.
func File(f *ast.File) ([]byte, error) {
	src := string(f.Src)
	toks, lerr := grammar.Tokenize(f.Name, src)
	if lerr != nil {
		return nil, fmt.Errorf("%s", lerr.Msg)
	}
	p := newPrinter(src, toks)
	out := p.file(f)
	if err := p.verify(f.Name, out); err != nil {
		return nil, err
	}
	return []byte(out), nil
}

// comment is one comment of the source.
type comment struct {
	start, end int // byte offsets
	text       string
	used       bool
}

type printer struct {
	src       string
	toks      *grammar.Tokens
	comments  []*comment
	lineStart []int // byte offset of the start of each line (0-based lines)
}

func newPrinter(src string, toks *grammar.Tokens) *printer {
	p := &printer{src: src, toks: toks, lineStart: []int{0}}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			p.lineStart = append(p.lineStart, i+1)
		}
	}
	p.comments = scanComments(src, toks)
	return p
}

// scanComments finds the comments in the gaps between tokens: a gap holds
// only blanks, newlines, commas and comments (grammar.Tokenize).
func scanComments(src string, toks *grammar.Tokens) []*comment {
	var out []*comment
	prev := 0
	for i, t := range toks.List {
		out = appendComments(out, src, prev, min(t.Pos.Offset, len(src)))
		prev = toks.End(i).Offset
	}
	if prev < len(src) {
		out = appendComments(out, src, prev, len(src))
	}
	return out
}

func appendComments(out []*comment, src string, from, to int) []*comment {
	for i := from; i < to; {
		switch {
		case strings.HasPrefix(src[i:to], "//"):
			j := i
			for j < to && src[j] != '\n' {
				j++
			}
			text := strings.TrimRight(src[i:j], " \t\r")
			out = append(out, &comment{start: i, end: i + len(text), text: text})
			i = j
		case strings.HasPrefix(src[i:to], "/*"):
			j := strings.Index(src[i+2:to], "*/")
			end := to
			if j >= 0 {
				end = i + 2 + j + 2
			}
			out = append(out, &comment{start: i, end: end, text: src[i:end]})
			i = end
		default:
			i++
		}
	}
	return out
}

// line returns the 0-based line of byte offset off.
func (p *printer) line(off int) int {
	lo, hi := 0, len(p.lineStart)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if p.lineStart[m] <= off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

// raw is the source text of r.
func (p *printer) raw(r diag.Range) string { return p.src[r.Start.Offset:r.End.Offset] }

// blankBetween reports whether the source has an empty line between the
// offsets a and b.
func (p *printer) blankBetween(a, b int) bool {
	if a >= b {
		return false
	}
	return p.line(b)-p.line(a) >= 2
}

// commentsIn returns the unused comments that start in [from, to).
func (p *printer) commentsIn(from, to int) []*comment {
	var out []*comment
	i := sort.Search(len(p.comments), func(i int) bool { return p.comments[i].start >= from })
	for ; i < len(p.comments) && p.comments[i].start < to; i++ {
		if c := p.comments[i]; !c.used {
			out = append(out, c)
		}
	}
	return out
}

// inline returns the unused comments before off, from from on, to be
// written inside a line (in a node's header): a block comment is followed
// by a space, a line comment by a newline and the indentation.
func (p *printer) inline(from, off int, indent string) string {
	var b strings.Builder
	for _, c := range p.commentsIn(from, off) {
		c.used = true
		b.WriteString(c.text)
		if strings.HasPrefix(c.text, "//") {
			b.WriteString("\n" + indent + indentUnit)
		} else {
			b.WriteString(" ")
		}
	}
	return b.String()
}

// split returns the unused comments before off, from from on, in two
// parts: block comments, each followed by a space, to be written where
// they are, and line comments, to be written after the item, where they
// cannot end the line early (between an attribute's name and its value a
// newline would leave the attribute without a value).
func (p *printer) split(from, off int) (inline, trailing string) {
	for _, c := range p.commentsIn(from, off) {
		c.used = true
		if strings.HasPrefix(c.text, "//") {
			trailing = joinLines(trailing, c.text)
		} else {
			inline += c.text + " "
		}
	}
	return inline, trailing
}

// tokenAt returns the index of the first token that starts at or after
// off.
func (p *printer) tokenAt(off int) int {
	lo, hi := 0, len(p.toks.List)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if p.toks.List[m].Pos.Offset < off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// openBrace returns the offset of the first "{" token at or after off.
func (p *printer) openBrace(off int) int {
	for i := p.tokenAt(off); i < len(p.toks.List); i++ {
		t := p.toks.List[i]
		if t.Type == grammar.Punct && t.Value == "{" {
			return t.Pos.Offset
		}
	}
	return off
}

// verify checks that out has the tokens and comments of the source.
func (p *printer) verify(name, out string) error {
	toks, lerr := grammar.Tokenize(name, out)
	if lerr != nil {
		return fmt.Errorf("internal error: the formatted text does not lex (%s); please report this with the file", lerr.Msg)
	}
	a, b := p.toks.List, toks.List
	for i := 0; i < len(a) || i < len(b); i++ {
		if i >= len(a) || i >= len(b) || a[i].Type != b[i].Type || a[i].Value != b[i].Value {
			at := a[min(i, len(a)-1)].Pos
			return fmt.Errorf("internal error: formatting would change the program near %d:%d; the file is left as it is, please report this with the file", at.Line, at.Column)
		}
	}
	got := scanComments(out, toks)
	for i, c := range p.comments {
		if !c.used {
			line := p.line(c.start) + 1
			return fmt.Errorf("the comment at line %d is in a place fmt cannot keep it; move it to its own line", line)
		}
		if i >= len(got) || got[i].text != c.text {
			return fmt.Errorf("internal error: formatting would move or change the comment at line %d; please report this with the file", p.line(c.start)+1)
		}
	}
	if len(got) != len(p.comments) {
		return fmt.Errorf("internal error: formatting would add a comment; please report this with the file")
	}
	return nil
}

// width is the display width of s (runes).
func width(s string) int { return utf8.RuneCountInString(s) }
