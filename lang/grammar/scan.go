package grammar

import (
	"unicode/utf8"
)

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// run lexes the whole source.
func (s *scanner) run() {
	for s.off < len(s.src) && s.err == nil {
		c := s.src[s.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',':
			s.space(true)
		case c == '/' && s.off+1 < len(s.src) && (s.src[s.off+1] == '/' || s.src[s.off+1] == '*'):
			s.space(true)
		case isIdentStart(c):
			s.ident()
		case isDigit(c):
			end := s.off + 1
			for end < len(s.src) && (isIdentPart(s.src[end]) || s.src[end] == '.') {
				end++
			}
			s.emit(Number, s.off, end)
			s.pend = pendNone
		case c == '"':
			start := s.off
			end, ok := s.scanDouble(start)
			if !ok {
				return
			}
			s.emit(String, start, end)
			s.pend = pendNone
		case c == '=':
			s.emit(Punct, s.off, s.off+1)
			s.pend = pendNone
			s.space(false)
			s.expr(modeValue)
		default:
			s.punct()
		}
	}
}

// maxDepth bounds the nesting of blocks, lists and parentheses outside
// expressions, so that no input can exhaust the parser's stack.
const maxDepth = 256

// punct emits one character (a whole rune) as a Punct token.
func (s *scanner) punct() {
	_, size := utf8.DecodeRuneInString(s.src[s.off:])
	switch s.src[s.off] {
	case '{', '[', '(':
		s.depth++
		if s.depth > maxDepth {
			s.fail(s.off, s.off+1, "blocks nested too deeply (more than %d levels)", maxDepth)
			return
		}
	case '}', ']', ')':
		if s.depth > 0 {
			s.depth--
		}
	}
	s.emit(Punct, s.off, s.off+size)
	if s.pend == pendUseArgs && s.prevVal == "(" {
		s.pend = pendNone
		s.args()
		return
	}
	s.pend = pendNone
}

// space skips a run of blanks and comments; newlines and commas are
// included when nl is set.
func (s *scanner) space(nl bool) {
	start := s.off
	i := s.off
	sawNL := false
loop:
	for i < len(s.src) {
		switch c := s.src[i]; {
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '\n' || c == ',':
			if !nl {
				break loop
			}
			sawNL = true
			i++
		case c == '/' && i+1 < len(s.src) && s.src[i+1] == '/':
			if !nl {
				break loop
			}
			for i < len(s.src) && s.src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s.src) && s.src[i+1] == '*':
			end, ok := s.scanBlockComment(i)
			if !ok {
				s.off = i
				return
			}
			if !nl && containsNewline(s.src[i:end]) {
				break loop
			}
			i = end
		default:
			break loop
		}
	}
	s.off = i
	if sawNL || containsNewline(s.src[start:i]) {
		s.nlSince = true
	}
}

func containsNewline(t string) bool {
	for i := 0; i < len(t); i++ {
		if t[i] == '\n' {
			return true
		}
	}
	return false
}

// scanBlockComment scans a /* */ comment starting at i.
func (s *scanner) scanBlockComment(i int) (int, bool) {
	for j := i + 2; j+1 < len(s.src); j++ {
		if s.src[j] == '*' && s.src[j+1] == '/' {
			return j + 2, true
		}
	}
	if s.err == nil {
		s.fail(i, i+2, `unterminated comment: "/*" has no closing "*/"`)
		s.err.comment = true
	}
	return 0, false
}

// atItemStart reports whether the next token starts an item of a body:
// it follows "{", "}", a value, a comma or a newline.
func (s *scanner) atItemStart() bool {
	switch s.prevType {
	case 0, Expr:
		return true
	case Punct:
		switch s.prevVal {
		case "{", "}":
			return true
		}
	}
	return s.nlSince
}

// nextIsDeclaratorAt reports whether the next non-blank character from
// offset i makes the word before it an attribute or field name
// ("when = ...", "branch: T", "for?: T") rather than a keyword.
func (s *scanner) nextIsDeclaratorAt(i int) bool {
	for i < len(s.src) && (s.src[i] == ' ' || s.src[i] == '\t') {
		i++
	}
	if i >= len(s.src) {
		return false
	}
	switch s.src[i] {
	case ':', '?':
		return true
	case '=':
		return i+1 >= len(s.src) || s.src[i+1] != '='
	}
	return false
}

// ident lexes an identifier and starts the expressions that follow the
// keywords when, branch, for ... in, and use.
func (s *scanner) ident() {
	start := s.off
	end := start + 1
	for end < len(s.src) && isIdentPart(s.src[end]) {
		end++
	}
	itemStart := s.atItemStart()
	word := s.src[start:end]
	if s.pend == pendNone && itemStart && isNodeKeyword(word) && !s.nextIsDeclaratorAt(end) {
		s.emit(Keyword, start, end)
		switch word {
		case "when", "branch":
			s.space(false)
			s.expr(modeHeader)
		case "for":
			s.pend = pendForVar
		case "use":
			s.pend = pendUseName
		}
		return
	}
	s.emit(Ident, start, end)
	switch s.pend {
	case pendForVar:
		s.pend = pendForIn
		return
	case pendForIn:
		s.pend = pendNone
		if word == "in" {
			s.space(false)
			s.expr(modeHeader)
		}
		return
	case pendUseName:
		s.pend = pendUseArgs
		return
	}
	s.pend = pendNone
}

// isNodeKeyword reports whether word starts a node, a match arm or a
// workflow's input or budget block.
func isNodeKeyword(word string) bool {
	switch word {
	case "step", "approval", "sequence", "parallel", "match", "when", "branch", "loop",
		"for", "timer", "event", "worktree", "use", "try", "input", "budget":
		return true
	}
	return false
}

// args lexes the argument list of "use f(...)" after its "(": Expr
// tokens separated by "," up to the closing ")".
func (s *scanner) args() {
	s.argOpen = s.off - 1
	for s.err == nil && s.off < len(s.src) {
		s.space(true)
		if s.err != nil || s.off >= len(s.src) {
			return
		}
		if ls := lineStart(s.src, s.off); ls > s.argOpen && skipBlanks(s.src, ls) == s.off && DeclHeaderAt(s.src, ls) {
			s.failUnclosed(s.argOpen, ls)
			return
		}
		switch s.src[s.off] {
		case ')':
			s.emit(Punct, s.off, s.off+1)
			if s.depth > 0 {
				s.depth--
			}
			return
		default:
			if !s.expr(modeArg) {
				return
			}
		}
	}
}

// lineStart returns the offset of the start of the line holding off.
func lineStart(src string, off int) int {
	for off > 0 && src[off-1] != '\n' {
		off--
	}
	return off
}
