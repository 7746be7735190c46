package stdlib

import (
	"errors"
	"strconv"
	"strings"

	"github.com/smithc/smithc/compiler/ir"
)

// shellContext is where in shell syntax an interpolation of a run
// template falls.
type shellContext int

const (
	ctxWord   shellContext = iota // unquoted: the value becomes quoted words
	ctxSingle                     // inside '...'
	ctxDouble                     // inside "..."
)

// frame is one level of shell nesting.
type frame int

const (
	fCode     frame = iota // top level, or inside $( ... ) / ( ... )
	fBrace                 // unquoted ${ ... }
	fSingle                // '...'
	fDouble                // "..."
	fBacktick              // `...`
	fParamDQ               // ${ ... } inside "..."
	fArith                 // $(( ... )), and parentheses inside it
	fANSI                  // $'...'
)

type heredoc struct {
	delim string
	strip bool // <<- strips leading tabs
}

// shellScanner follows the quoting state of a shell script through the
// literal parts of a template, so that each interpolation can be quoted
// for the context it lands in. It knows quotes, backslashes, comments,
// command substitution, parameter expansion and here-documents: enough to
// tell where a value may go safely, not a full shell parser.
type shellScanner struct {
	stack      []frame
	cases      []int  // open case statements per frame of the stack
	patterns   []bool // per frame: a ")" was taken for a case pattern's
	ambiguous  bool   // shells disagree about the rest of the script
	word       strings.Builder
	inWord     bool // reading a word that may be a keyword
	prev       byte
	prev2      byte
	wordStart  bool
	escape     bool
	ansiEscape bool // the escape is inside $'...'
	comment    bool

	delimState int // 0: none; 1: after <<, before the word; 2: in the word
	delim      strings.Builder
	delimStrip bool
	pending    []heredoc // here-documents whose bodies start at the next newline
	body       *heredoc  // the here-document whose body is being read
	line       strings.Builder
}

// shellContexts returns the shell context of each interpolation of a
// template, in order, or an error naming an interpolation that cannot be
// made safe (inside a comment, a here-document, backticks, ...).
func shellContexts(parts []ir.TemplatePart) ([]shellContext, error) {
	s := &shellScanner{stack: []frame{fCode}, cases: []int{0}, patterns: []bool{false}, wordStart: true}
	var out []shellContext
	for _, p := range parts {
		if p.Expr == nil {
			s.feed(p.Lit)
			continue
		}
		ctx, err := s.interpolation()
		if err != nil {
			return nil, &templateError{src: p.Expr.Src, msg: err.Error()}
		}
		out = append(out, ctx)
	}
	return out, nil
}

// templateError names the interpolation a problem is about.
type templateError struct{ src, msg string }

func (e *templateError) Error() string { return "${" + e.src + "}: " + e.msg }

func (s *shellScanner) top() frame { return s.stack[len(s.stack)-1] }

func (s *shellScanner) push(f frame) {
	s.stack = append(s.stack, f)
	s.cases = append(s.cases, 0)
	s.patterns = append(s.patterns, false)
}

func (s *shellScanner) pop() {
	if len(s.stack) > 1 {
		s.stack = s.stack[:len(s.stack)-1]
		s.cases = s.cases[:len(s.cases)-1]
		s.patterns = s.patterns[:len(s.patterns)-1]
	}
}

// unsure reports whether a ")" inside a nested frame was taken for a case
// pattern whose case has not ended yet: until its esac, the frame's end
// and the pattern cannot be told apart, so interpolations are refused.
func (s *shellScanner) unsure() bool {
	for _, p := range s.patterns {
		if p {
			return true
		}
	}
	return false
}

// interpolation classifies the current position and moves past a value.
func (s *shellScanner) interpolation() (shellContext, error) {
	s.inWord = false
	switch {
	case s.ambiguous:
		return 0, errors.New("cannot tell where the value lands in the script: after \\' inside $'...', shells disagree on where the quoted text ends")
	case s.unsure():
		return 0, errors.New("cannot tell where the value lands in the script (inside a case statement within ( ... ) or $( ... )); pass it through env { NAME = ... } and write \"$NAME\"")
	case s.body != nil:
		return 0, errors.New("cannot interpolate into a here-document body; pass the value through env { NAME = ... } and write $NAME")
	case s.comment:
		return 0, errors.New("interpolation inside a shell comment")
	case s.delimState != 0:
		return 0, errors.New("cannot interpolate a here-document delimiter")
	case s.escape:
		return 0, errors.New("interpolation right after a backslash; remove the backslash")
	}
	ctx := ctxWord
	switch s.top() {
	case fSingle:
		ctx = ctxSingle
	case fDouble:
		ctx = ctxDouble
	case fBacktick:
		return 0, errors.New("cannot interpolate inside `...`; use $( ... ) instead")
	case fANSI:
		return 0, errors.New("cannot interpolate inside $'...'")
	case fParamDQ:
		return 0, errors.New("cannot interpolate inside a \"${...}\" parameter expansion")
	default:
		if s.prev == '$' {
			return 0, errors.New("interpolation right after '$'; write $$ for a literal dollar sign")
		}
	}
	s.prev2, s.prev = s.prev, 'x'
	s.wordStart = false
	return ctx, nil
}

// feed advances over literal script text.
func (s *shellScanner) feed(lit string) {
	for i := 0; i < len(lit); i++ {
		s.step(lit[i])
	}
}

func isWordBreak(c byte) bool {
	return strings.IndexByte(" \t\n;&|()<>", c) >= 0
}

func (s *shellScanner) step(c byte) {
	switch {
	case s.body != nil:
		s.bodyByte(c)
		return
	case s.escape:
		if s.ansiEscape && c == '\'' {
			// bash reads \' as a quote inside $'...', dash ends the
			// string at it.
			s.ambiguous = true
		}
		s.escape, s.ansiEscape = false, false
		s.prev, s.wordStart = 'x', false
		return
	case s.comment:
		if c == '\n' {
			s.comment = false
			s.newline()
		}
		return
	case s.delimState != 0:
		if s.delimByte(c) {
			return
		}
	}
	switch s.top() {
	case fSingle:
		if c == '\'' {
			s.pop()
		}
	case fDouble:
		switch {
		case c == '\\':
			s.escape = true
		case c == '"':
			s.pop()
		case c == '`':
			s.push(fBacktick)
		case c == '(' && s.prev == '$':
			s.push(fCode)
			s.wordStart = true
		case c == '{' && s.prev == '$':
			s.push(fParamDQ)
		}
	case fParamDQ:
		if c == '}' {
			s.pop()
		}
	case fBacktick:
		switch c {
		case '\\':
			s.escape = true
		case '`':
			s.pop()
		}
	case fANSI:
		switch c {
		case '\\':
			s.escape = true
			s.ansiEscape = true
		case '\'':
			s.pop()
		}
	case fArith:
		switch c {
		case '(':
			s.push(fArith)
		case ')':
			s.pop()
		}
	default:
		s.codeByte(c)
	}
	s.prev2, s.prev = s.prev, c
}

// codeByte handles a byte in an unquoted context.
func (s *shellScanner) codeByte(c byte) {
	start := s.wordStart
	s.wordStart = isWordBreak(c)
	s.keyword(c, start)
	switch c {
	case '\\':
		s.escape = true
	case '\'':
		if s.prev == '$' {
			s.push(fANSI)
		} else {
			s.push(fSingle)
		}
	case '"':
		s.push(fDouble)
	case '`':
		s.push(fBacktick)
	case '#':
		if start {
			s.comment = true
		}
	case '(':
		if s.prev == '(' && s.prev2 == '$' && s.top() == fCode {
			s.stack[len(s.stack)-1] = fArith // $(( starts arithmetic
		} else {
			s.push(fCode)
		}
	case ')':
		if len(s.stack) > 1 && s.top() == fCode {
			if i := len(s.cases) - 1; s.cases[i] > 0 {
				// Most likely a case pattern's ")"; see unsure.
				s.patterns[i] = true
				return
			}
			s.pop()
		}
	case '{':
		if s.prev == '$' {
			s.push(fBrace)
		}
	case '}':
		if s.top() == fBrace {
			s.pop()
		}
	case '<':
		if s.prev == '<' {
			s.delimState, s.delimStrip = 1, false
			s.delim.Reset()
		}
	case '\n':
		s.newline()
	}
}

// keyword follows the words of code, counting case ... esac statements in
// the current frame: inside one, a ")" may close a pattern, not the frame.
func (s *shellScanner) keyword(c byte, start bool) {
	isLetter := c >= 'a' && c <= 'z'
	switch {
	case s.inWord && isWordBreak(c):
		s.inWord = false
		switch i := len(s.cases) - 1; s.word.String() {
		case "case":
			s.cases[i]++
		case "esac":
			if s.cases[i] > 0 {
				s.cases[i]--
			}
			if s.cases[i] == 0 {
				s.patterns[i] = false
			}
		}
	case s.inWord && isLetter:
		s.word.WriteByte(c)
	case s.inWord:
		s.inWord = false
	case start && isLetter:
		s.inWord = true
		s.word.Reset()
		s.word.WriteByte(c)
	}
}

// delimByte reads the word after <<; it reports whether c was consumed.
func (s *shellScanner) delimByte(c byte) bool {
	if s.delimState == 1 {
		switch {
		case c == '<' && s.prev == '<' && s.delim.Len() == 0 && !s.delimStrip:
			s.delimState = 0 // <<<: a here-string, an ordinary word follows
			s.prev = 'x'
			return true
		case c == '-' && s.prev == '<':
			s.delimStrip = true
			s.prev = c
			return true
		case c == ' ' || c == '\t':
			s.prev = c
			return true
		}
		s.delimState = 2
	}
	if isWordBreak(c) {
		s.pending = append(s.pending, heredoc{delim: s.delim.String(), strip: s.delimStrip})
		s.delimState = 0
		return false
	}
	if c != '\'' && c != '"' && c != '\\' {
		s.delim.WriteByte(c)
	}
	s.prev = c
	return true
}

// newline starts the first pending here-document body, if any.
func (s *shellScanner) newline() {
	if len(s.pending) > 0 {
		s.body = &s.pending[0]
		s.pending = s.pending[1:]
		s.line.Reset()
	}
	s.wordStart = true
}

// bodyByte reads a byte of a here-document body.
func (s *shellScanner) bodyByte(c byte) {
	if c != '\n' {
		s.line.WriteByte(c)
		return
	}
	l := s.line.String()
	s.line.Reset()
	if s.body.strip {
		l = strings.TrimLeft(l, "\t")
	}
	if l == s.body.delim {
		s.body = nil
		s.newline()
	}
}

// checkShellTemplate is the shell action's CheckTemplateFunc: it finds,
// before the run, an interpolation that shellContexts would refuse (in a
// comment, a here-document, backticks, ...). lits are the literal parts
// around the interpolations.
func checkShellTemplate(lits []string) (int, string) {
	var parts []ir.TemplatePart
	for i, lit := range lits {
		if i > 0 {
			parts = append(parts, ir.TemplatePart{Expr: &ir.Expr{Src: strconv.Itoa(i - 1)}})
		}
		if lit != "" {
			parts = append(parts, ir.TemplatePart{Lit: lit})
		}
	}
	_, err := shellContexts(parts)
	var te *templateError
	if !errors.As(err, &te) {
		return -1, ""
	}
	i, convErr := strconv.Atoi(te.src)
	if convErr != nil {
		return -1, ""
	}
	return i, te.msg
}
