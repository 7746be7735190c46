package grammar

import "fmt"

// exprMode says where an expression is and so what ends it.
type exprMode uint8

const (
	// modeValue: the right of "="; ends at depth 0 at a newline, a ",",
	// a line comment or an unmatched closing bracket.
	modeValue exprMode = iota
	// modeHeader: "when PRED {", "branch PRED {", "for x in LIST {";
	// like modeValue, and also ends at a "{" at depth 0.
	modeHeader
	// modeArg: an argument of "use f(...)"; ends at depth 0 at a "," or
	// an unmatched closing bracket; newlines are blanks.
	modeArg
)

var closerOf = [256]byte{'(': ')', '[': ']', '{': '}'}

// expr lexes one expression as an Expr token, without trailing blanks
// and comments, which it skips. It reports whether it consumed anything;
// an empty expression emits nothing (the grammar then reports the missing
// value).
func (s *scanner) expr(mode exprMode) bool {
	start := s.off
	i := start
	last := start // end of the last significant character
	var stack []int
	src := s.src
loop:
	for i < len(src) {
		c := src[i]
		switch c {
		case '\n':
			if len(stack) == 0 && mode != modeArg {
				break loop
			}
			if (len(stack) > 0 || mode == modeArg) && DeclHeaderAt(src, i+1) {
				// No expression has a line like "workflow w {": the
				// bracket was left open before the next declaration.
				open := s.argOpen
				if len(stack) > 0 {
					open = stack[len(stack)-1]
				}
				s.failUnclosed(open, i+1)
				return false
			}
			i++
		case ' ', '\t', '\r':
			i++
		case ',':
			if len(stack) == 0 {
				break loop
			}
			i++
			last = i
		case '{':
			if len(stack) == 0 && mode == modeHeader {
				break loop
			}
			stack = append(stack, i)
			i++
			last = i
		case '(', '[':
			stack = append(stack, i)
			i++
			last = i
		case ')', ']', '}':
			if len(stack) == 0 {
				break loop
			}
			open := stack[len(stack)-1]
			if want := closerOf[src[open]]; want != c {
				p := s.slowPos(open)
				msg := fmt.Sprintf("unexpected %q, expected %q to close %q opened at %d:%d", string(c), string(want), string(src[open]), p.Line, p.Column)
				if c != '}' && want != '}' && !containsNewline(src[open:i]) {
					// A ")" for a "]" (or the reverse) on the line of
					// its opener: read it as the right closer, so
					// that what follows lexes as in the corrected file.
					s.repaired = append(s.repaired, &Error{Pos: s.slowPos(i), End: s.slowPos(i + 1), Msg: msg})
					stack = stack[:len(stack)-1]
					i++
					last = i
					continue
				}
				s.fail(i, i+1, "%s", msg)
				return false
			}
			stack = stack[:len(stack)-1]
			i++
			last = i
		case '"':
			end, ok := s.scanDouble(i)
			if !ok {
				return false
			}
			i, last = end, end
		case '\'':
			end, ok := s.scanSingle(i)
			if !ok {
				return false
			}
			i, last = end, end
		case '`':
			end, ok := s.scanBacktick(i)
			if !ok {
				return false
			}
			i, last = end, end
		case '/':
			switch {
			case i+1 < len(src) && src[i+1] == '/':
				if len(stack) == 0 && mode != modeArg {
					break loop
				}
				for i < len(src) && src[i] != '\n' {
					i++
				}
			case i+1 < len(src) && src[i+1] == '*':
				end, ok := s.scanBlockComment(i)
				if !ok {
					return false
				}
				i = end
			default:
				i++
				last = i
			}
		default:
			i++
			last = i
		}
	}
	if len(stack) > 0 {
		open := stack[len(stack)-1]
		s.fail(open, open+1, "unclosed %q: expected %q before the end of the file", string(src[open]), string(closerOf[src[open]]))
		return false
	}
	if last == start {
		s.off = i
		return i > start
	}
	s.emit(Expr, start, last)
	s.off = i
	if containsNewline(src[last:i]) {
		s.nlSince = true
	}
	return true
}

// scanDouble scans a double-quoted or triple-quoted string starting at
// i, with its ${...} interpolations, and returns the offset after it.
func (s *scanner) scanDouble(i int) (int, bool) {
	src := s.src
	if s.nest > maxDepth {
		s.fail(i, i+1, "strings nested too deeply in interpolations (more than %d levels)", maxDepth)
		return 0, false
	}
	triple := len(src)-i >= 3 && src[i+1] == '"' && src[i+2] == '"'
	j := i + 1
	if triple {
		j = i + 3
	}
	for j < len(src) {
		switch c := src[j]; c {
		case '\\':
			j += 2
		case '\n':
			if !triple {
				s.fail(i, i+1, "unterminated string: missing closing \" on this line")
				return 0, false
			}
			j++
		case '"':
			if !triple {
				return j + 1, true
			}
			if len(src)-j >= 3 && src[j+1] == '"' && src[j+2] == '"' {
				return j + 3, true
			}
			j++
		case '$':
			switch {
			case len(src)-j >= 3 && src[j+1] == '$' && src[j+2] == '{':
				j += 3
			case j+1 < len(src) && src[j+1] == '{':
				end, ok := s.scanInterp(j, triple)
				if !ok {
					s.fail(j, j+2, `unterminated interpolation: "${" has no matching "}"`)
					return 0, false
				}
				j = end
			default:
				j++
			}
		default:
			j++
		}
	}
	if triple {
		s.fail(i, i+3, `unterminated string: """ has no closing """`)
	} else {
		s.fail(i, i+1, "unterminated string: missing closing \"")
	}
	return 0, false
}

// scanInterp scans "${...}" starting at the "$" at i and returns the
// offset after its closing "}". Inside a one-line string the
// interpolation may span lines only inside brackets.
func (s *scanner) scanInterp(i int, multiline bool) (int, bool) {
	src := s.src
	var stack []byte
	j := i + 2
	for j < len(src) {
		c := src[j]
		switch c {
		case '}':
			if len(stack) == 0 {
				return j + 1, true
			}
			fallthrough
		case ')', ']':
			if len(stack) == 0 || closerOf[stack[len(stack)-1]] != c {
				return 0, false
			}
			stack = stack[:len(stack)-1]
			j++
		case '(', '[', '{':
			stack = append(stack, c)
			j++
		case '\n':
			if !multiline && len(stack) == 0 {
				return 0, false
			}
			j++
		case '\\':
			if j+1 < len(src) && src[j+1] == '"' {
				// Inside ${...} is an expression: its strings are written
				// as anywhere else, their quotes not escaped for the
				// string around it.
				s.fail(j, j+2, `a quote inside "${...}" is written as it is, not escaped: ${f("x")}, not ${f(\"x\")}`)
				return 0, false
			}
			j++
		case '"', '\'', '`':
			// Nested literals must be well formed; their own errors are
			// reported as the interpolation's.
			sub := &scanner{src: src, file: s.file, nest: s.nest + 1}
			var end int
			var ok bool
			switch c {
			case '"':
				end, ok = sub.scanDouble(j)
			case '\'':
				end, ok = sub.scanSingle(j)
			default:
				end, ok = sub.scanBacktick(j)
			}
			if !ok {
				return 0, false
			}
			j = end
		default:
			j++
		}
	}
	return 0, false
}

// scanSingle scans a single-quoted expr string starting at i.
func (s *scanner) scanSingle(i int) (int, bool) {
	src := s.src
	for j := i + 1; j < len(src); {
		switch src[j] {
		case '\\':
			j += 2
		case '\n':
			s.fail(i, i+1, "unterminated string: missing closing ' on this line")
			return 0, false
		case '\'':
			return j + 1, true
		default:
			j++
		}
	}
	s.fail(i, i+1, "unterminated string: missing closing '")
	return 0, false
}

// scanBacktick scans a backtick-quoted raw expr string starting at i.
func (s *scanner) scanBacktick(i int) (int, bool) {
	for j := i + 1; j < len(s.src); j++ {
		if s.src[j] == '`' {
			return j + 1, true
		}
	}
	s.fail(i, i+1, "unterminated raw string: missing closing `")
	return 0, false
}

// StringEnd returns the offset just after the double- or triple-quoted
// string literal that starts at src[i], or -1 if it is not well formed.
// The parser uses it to split templates exactly as the lexer saw them.
func StringEnd(src string, i int) int {
	if i >= len(src) || src[i] != '"' {
		return -1
	}
	s := &scanner{src: src}
	end, ok := s.scanDouble(i)
	if !ok {
		return -1
	}
	return end
}

// InterpEnd returns the offset just after the "}" closing the "${" at
// src[i], or -1 if it is not closed. multiline tells whether the
// interpolation is in a triple-quoted string.
func InterpEnd(src string, i int, multiline bool) int {
	if i+1 >= len(src) || src[i] != '$' || src[i+1] != '{' {
		return -1
	}
	s := &scanner{src: src}
	end, ok := s.scanInterp(i, multiline)
	if !ok {
		return -1
	}
	return end
}

// failUnclosed reports the bracket at open as not closed before the
// declaration header on the line that starts at line.
func (s *scanner) failUnclosed(open, line int) {
	p := s.slowPos(skipBlanks(s.src, line))
	c := s.src[open]
	s.fail(open, open+1, "unclosed %q: expected %q before the declaration at %d:%d", string(c), string(closerOf[c]), p.Line, p.Column)
}
