package parser

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/lang/grammar"
)

// piece is a run of a string literal's content before escapes and
// indentation are processed.
type piece struct {
	kind pieceKind
	text string // lit: raw text; interp: the source between "${" and "}"
	off  int    // offset in the literal of text's first byte
}

type pieceKind uint8

const (
	pieceLit    pieceKind = iota
	pieceInterp           // ${...}
	pieceDollar           // $${, a literal "${"
)

// template splits the string literal raw, located at start in the file,
// into literal and interpolated parts.
func (c *converter) template(raw string, start diag.Pos) *ast.Template {
	t := &ast.Template{}
	q := 1
	if len(raw) >= 6 && strings.HasPrefix(raw, `"""`) {
		t.Triple = true
		q = 3
	}
	if len(raw) < 2*q {
		return t
	}
	lines := splitLines(scanPieces(raw, q), t.Triple)
	if t.Triple {
		lines = dedent(lines)
	}
	at := &cursor{raw: raw, start: start, at: start}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.Parts = append(t.Parts, ast.TemplatePart{Lit: lit.String()})
			lit.Reset()
		}
	}
	for li, line := range lines {
		if li > 0 {
			lit.WriteByte('\n')
		}
		for _, p := range line {
			switch p.kind {
			case pieceLit:
				lit.WriteString(c.unescape(p, at))
			case pieceDollar:
				lit.WriteString("${")
			case pieceInterp:
				flush()
				s := at.pos(p.off)
				e := &ast.Expr{Src: p.text, Range: diag.Range{File: c.file, Start: s, End: advance(s, p.text)}}
				t.Parts = append(t.Parts, ast.TemplatePart{Expr: e})
			}
		}
	}
	flush()
	if len(t.Parts) == 0 {
		t.Parts = []ast.TemplatePart{{Lit: ""}}
	}
	return t
}

// scanPieces splits the content of the literal raw (quotes of length q)
// into literal runs, interpolations and "$${" escapes.
func scanPieces(raw string, q int) []piece {
	var out []piece
	end := len(raw) - q
	litStart := q
	flush := func(i int) {
		if i > litStart {
			out = append(out, piece{kind: pieceLit, text: raw[litStart:i], off: litStart})
		}
	}
	for i := q; i < end; {
		switch raw[i] {
		case '\\':
			i += 2
		case '$':
			switch {
			case i+2 < end && raw[i+1] == '$' && raw[i+2] == '{':
				flush(i)
				out = append(out, piece{kind: pieceDollar, text: "$${", off: i})
				i += 3
				litStart = i
			case i+1 < end && raw[i+1] == '{':
				stop := grammar.InterpEnd(raw, i, q == 3)
				if stop < 0 || stop > end {
					// The lexer has already rejected this literal.
					i = end
					continue
				}
				flush(i)
				out = append(out, piece{kind: pieceInterp, text: raw[i+2 : stop-1], off: i + 2})
				i = stop
				litStart = i
			default:
				i++
			}
		default:
			i++
		}
	}
	if litStart > end {
		litStart = end
	}
	flush(end)
	return out
}

// splitLines splits literal pieces at raw newlines. A "\r" before a
// newline of a triple-quoted string is dropped.
func splitLines(ps []piece, triple bool) [][]piece {
	lines := [][]piece{nil}
	for _, p := range ps {
		if p.kind != pieceLit {
			lines[len(lines)-1] = append(lines[len(lines)-1], p)
			continue
		}
		text, off := p.text, p.off
		for {
			nl := strings.IndexByte(text, '\n')
			if nl < 0 {
				if text != "" {
					lines[len(lines)-1] = append(lines[len(lines)-1], piece{text: text, off: off})
				}
				break
			}
			seg := text[:nl]
			if triple {
				seg = strings.TrimSuffix(seg, "\r")
			}
			if seg != "" {
				lines[len(lines)-1] = append(lines[len(lines)-1], piece{text: seg, off: off})
			}
			lines = append(lines, nil)
			text, off = text[nl+1:], off+nl+1
		}
	}
	return lines
}

func isBlankLine(line []piece) bool {
	for _, p := range line {
		if p.kind != pieceLit || strings.Trim(p.text, " \t\r") != "" {
			return false
		}
	}
	return true
}

func leadingBlanks(line []piece) int {
	if len(line) == 0 || line[0].kind != pieceLit {
		return 0
	}
	t := line[0].text
	n := 0
	for n < len(t) && (t[n] == ' ' || t[n] == '\t') {
		n++
	}
	return n
}

// dedent applies the triple-quoted rules: drop a blank first line and a
// blank last line, then remove the common indentation of the non-blank
// lines (Kotlin's trimIndent).
func dedent(lines [][]piece) [][]piece {
	if len(lines) > 0 && isBlankLine(lines[0]) {
		lines = lines[1:]
	}
	if len(lines) > 0 && isBlankLine(lines[len(lines)-1]) {
		lines = lines[:len(lines)-1]
	}
	indent := -1
	for _, l := range lines {
		if isBlankLine(l) {
			continue
		}
		if n := leadingBlanks(l); indent < 0 || n < indent {
			indent = n
		}
	}
	if indent < 0 {
		indent = 0
	}
	for i, l := range lines {
		if len(l) == 0 || l[0].kind != pieceLit {
			continue
		}
		n := min(indent, leadingBlanks(l))
		if n == 0 && !isBlankLine(l) {
			continue
		}
		if isBlankLine(l) {
			n = min(indent, len(l[0].text))
		}
		first := piece{text: l[0].text[n:], off: l[0].off + n}
		nl := append([]piece{first}, l[1:]...)
		lines[i] = nl
	}
	return lines
}

// cursor finds the file position of offsets in a literal, walking
// forward from the last offset asked for, so that a literal with many
// interpolations or errors is processed in linear time.
type cursor struct {
	raw   string
	start diag.Pos // position of raw[0]
	off   int      // last offset asked for
	at    diag.Pos // its position
}

// pos returns the file position of raw[off].
func (k *cursor) pos(off int) diag.Pos {
	if off < k.off {
		k.off, k.at = 0, k.start
	}
	k.at = advance(k.at, k.raw[k.off:off])
	k.off = off
	return k.at
}

// unescape processes the escapes of a literal piece, reporting invalid
// ones at their position in the file.
func (c *converter) unescape(p piece, at *cursor) string {
	s := p.text
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			j := strings.IndexByte(s[i:], '\\')
			if j < 0 {
				b.WriteString(s[i:])
				break
			}
			b.WriteString(s[i : i+j])
			i += j
			continue
		}
		if i+1 < len(s) && s[i+1] == '/' {
			b.WriteByte('/')
			i += 2
			continue
		}
		value, multibyte, tail, err := strconv.UnquoteChar(s[i:], '"')
		if err != nil {
			n := 2
			if i+1 >= len(s) {
				n = 1
			} else {
				_, n = utf8.DecodeRuneInString(s[i+1:])
				n++
			}
			from := at.pos(p.off + i)
			r := diag.Range{File: c.file, Start: from, End: advance(from, s[i:i+n])}
			c.errorf(r, "syntax", "invalid escape sequence %q in string", s[i:i+n])
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		if value < utf8.RuneSelf || multibyte {
			b.WriteRune(value)
		} else {
			b.WriteByte(byte(value))
		}
		i = len(s) - len(tail)
	}
	return b.String()
}
