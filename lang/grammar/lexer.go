package grammar

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// Token types produced by the lexer.
//
// Blanks, newlines, comments and commas produce no token: a comma is a
// separator exactly like a newline (inside expressions, commas belong to
// the expression).
const (
	// Ident is an identifier [A-Za-z_][A-Za-z0-9_]*. Keywords are
	// identifiers too: the grammar matches them by value.
	Ident lexer.TokenType = 1 + iota
	// Number is a run of digits and letters outside an expression. The
	// grammar accepts none; it exists for error messages.
	Number
	// String is a double-quoted ("...") or triple-quoted ("""...""")
	// string literal outside an expression, quotes included.
	String
	// Expr is an expression of the expr language, as exact source text.
	Expr
	// Punct is any other single character: { } ( ) [ ] : , = ? | ...
	Punct
	// Keyword is a word that starts a node ("step", "when PRED {", ...)
	// or an input block, where an item may start and no "=", ":" or "?"
	// follows; elsewhere the same word is an Ident (an attribute, field
	// or id of that name).
	Keyword
)

// Definition is the lexer.Definition of .smw files. The zero value is
// ready to use and safe for concurrent use.
type Definition struct{}

var (
	_ lexer.Definition       = Definition{}
	_ lexer.StringDefinition = Definition{}
	_ lexer.BytesDefinition  = Definition{}
)

// Symbols implements lexer.Definition.
func (Definition) Symbols() map[string]lexer.TokenType {
	return map[string]lexer.TokenType{
		"EOF":     lexer.EOF,
		"Ident":   Ident,
		"Number":  Number,
		"String":  String,
		"Expr":    Expr,
		"Punct":   Punct,
		"Keyword": Keyword,
	}
}

// Lex implements lexer.Definition.
func (d Definition) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("grammar: read %s: %w", filename, err)
	}
	return d.LexString(filename, string(b))
}

// LexBytes implements lexer.BytesDefinition.
func (d Definition) LexBytes(filename string, b []byte) (lexer.Lexer, error) {
	return d.LexString(filename, string(b))
}

// LexString implements lexer.StringDefinition. A lexical error is
// returned by the lexer's Next once the tokens before it are consumed.
func (Definition) LexString(filename string, s string) (lexer.Lexer, error) {
	toks, lerr := Tokenize(filename, s)
	sl := &SliceLexer{Tokens: toks.List}
	if lerr != nil {
		sl.Err = lerr
	}
	return sl, nil
}

// SliceLexer replays a token slice. After the last token it returns Err
// if set, and EOF tokens otherwise.
type SliceLexer struct {
	Tokens []lexer.Token
	Err    error
	next   int
}

// Next implements lexer.Lexer.
func (l *SliceLexer) Next() (lexer.Token, error) {
	if l.next < len(l.Tokens) {
		t := l.Tokens[l.next]
		l.next++
		if t.Type == lexer.EOF && l.Err != nil {
			return t, l.Err
		}
		return t, nil
	}
	if l.Err != nil {
		return lexer.Token{}, l.Err
	}
	return lexer.Token{Type: lexer.EOF}, nil
}

// Error is a lexical error: an unterminated string, comment or
// interpolation, or an unbalanced bracket inside an expression.
type Error struct {
	Pos lexer.Position // where the offending construct starts
	End lexer.Position // where it ends (exclusive)
	Msg string

	comment bool // an unterminated block comment (see Resumable)
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Pos.Filename, e.Pos.Line, e.Pos.Column, e.Msg)
}

// Tokens is the result of Tokenize.
type Tokens struct {
	// Repaired lists brackets closed by the wrong kind on the line
	// they were opened on (`[1, 2)`), which the lexer read as if the
	// right closer had been written: a syntax error each, that leaves
	// the rest of the file lexed as it would be when corrected.
	Repaired []*Error
	// List is the tokens, ending with an EOF token.
	List []lexer.Token
}

// End returns the position just after token i of List: its text is
// exactly the source between Pos and End.
func (t *Tokens) End(i int) lexer.Position {
	tok := &t.List[i]
	p := tok.Pos
	p.Line, p.Column = advanceLC(tok.Value, 0, len(tok.Value), p.Line, p.Column)
	p.Offset += len(tok.Value)
	return p
}

// EndBefore returns the end of the last token that starts before the
// byte offset off; tokens carry no trailing blanks, so this is where a
// construct ends whose next token starts at off. It returns the zero
// Position if no token starts before off.
func (t *Tokens) EndBefore(off int) lexer.Position {
	lo, hi := 0, len(t.List)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.List[m].Pos.Offset < off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return lexer.Position{}
	}
	return t.End(lo - 1)
}

// Tokenize splits src into tokens, ending with an EOF token. On a lexical
// error it returns the tokens before the error, an EOF token at the
// error's position, and the error.
func Tokenize(filename, src string) (*Tokens, *Error) {
	// About one token per 4.8 bytes for the densest files (a generated
	// chain of one-value steps), 8 to 16 for the examples: a guess of one
	// per 4 bytes is too large for most files, which costs less than
	// growing the slice (a copy into twice the room, the first array left
	// for the collector: a 1,000-step chain allocated 1.3 MB of tokens
	// for 0.45 MB of them).
	n := len(src)/4 + 8
	s := &scanner{
		src:  src,
		file: filename,
		line: 1,
		col:  1,
		toks: make([]lexer.Token, 0, n),
	}
	if strings.HasPrefix(src, bom) {
		// A UTF-8 byte order mark (some Windows editors write one) is
		// not text: line 1 starts after it, at column 1.
		s.off, s.cur = len(bom), len(bom)
		s.base, s.baseLine, s.baseCol = len(bom), 1, 1
	}
	return s.finish()
}

// bom is the UTF-8 encoding of U+FEFF, the byte order mark.
const bom = "\xef\xbb\xbf"

// finish lexes from s.off to the end of the source or the first error
// and returns the tokens, ending with an EOF token, and the error.
func (s *scanner) finish() (*Tokens, *Error) {
	s.run()
	end := len(s.src)
	if s.err != nil {
		end = s.stop
	}
	p := s.posAt(end)
	s.toks = append(s.toks, lexer.Token{Type: lexer.EOF, Pos: p})
	t := &Tokens{List: s.toks, Repaired: s.repaired}
	if s.err != nil {
		return t, s.err
	}
	return t, nil
}

// pending is the lexer's memory of a construct whose later part must be
// lexed as an expression: "for x in EXPR" and "use f(ARGS)".
type pending uint8

const (
	pendNone    pending = iota
	pendForVar          // after "for": expect the variable
	pendForIn           // after "for x": expect "in", then a header expression
	pendUseName         // after "use": expect the fragment name
	pendUseArgs         // after "use f": expect "(", then arguments
)

type scanner struct {
	src  string
	file string
	off  int // next byte to lex

	// position cursor: line and col of byte offset cur
	cur, line, col int
	// where lexing started (0 when line is 0): line and col of byte
	// offset base
	base, baseLine, baseCol int

	toks []lexer.Token
	err  *Error
	stop int // offset where lexing stopped on error

	prevType lexer.TokenType // last significant token type, 0 at start
	prevVal  string
	nlSince  bool // a newline or comma was seen since the last token
	pend     pending
	depth    int // open brackets outside expressions
	argOpen  int // offset of the "(" of the use arguments being lexed
	nest     int // string literals this one is nested in (through ${...})
	repaired []*Error
}

// posAt returns the position of byte offset n, which must not be before
// the last position asked for.
func (s *scanner) posAt(n int) lexer.Position {
	if n < s.cur {
		return s.slowPos(n)
	}
	s.line, s.col = advanceLC(s.src, s.cur, n, s.line, s.col)
	s.cur = n
	return lexer.Position{Filename: s.file, Offset: n, Line: s.line, Column: s.col}
}

// slowPos computes the position of n without moving the cursor: from
// the cursor when n is not behind it, else from where lexing started
// (the start of the file, or of the line TokenizeAt started at); used
// for error positions.
func (s *scanner) slowPos(n int) lexer.Position {
	n = min(n, len(s.src))
	from, line, col := s.base, s.baseLine, s.baseCol
	switch {
	case n >= s.cur && s.line > 0:
		from, line, col = s.cur, s.line, s.col
	case n < s.base || line == 0:
		from, line, col = 0, 1, 1
	}
	line, col = advanceLC(s.src, from, n, line, col)
	return lexer.Position{Filename: s.file, Offset: n, Line: line, Column: col}
}

// advanceLC advances line and col over src[from:to]. Columns count
// runes; an invalid UTF-8 byte counts as one rune, as in Go's range loop.
func advanceLC(src string, from, to, line, col int) (int, int) {
	for i := from; i < to; {
		c := src[i]
		switch {
		case c == '\n':
			line++
			col = 1
			i++
		case c < utf8.RuneSelf:
			col++
			i++
		default:
			_, size := utf8.DecodeRuneInString(src[i:to])
			col++
			i += size
		}
	}
	return line, col
}

// emit appends the token src[start:end] and moves past it.
func (s *scanner) emit(typ lexer.TokenType, start, end int) {
	if len(s.toks) == cap(s.toks) {
		s.grow(start)
	}
	s.toks = append(s.toks, lexer.Token{Type: typ, Value: s.src[start:end], Pos: s.posAt(start)})
	s.off = end
	s.prevType = typ
	s.prevVal = s.src[start:end]
	s.nlSince = false
}

// grow makes room for the tokens of the rest of the source, at the
// density of the tokens so far (the first guess of Tokenize is too small
// for files denser than it; doubling would copy the tokens more than
// once and leave up to half the slice unused).
func (s *scanner) grow(at int) {
	n := len(s.toks)
	want := n + n/4 + 16
	if at > 0 && at < len(s.src) {
		want = max(want, n+(len(s.src)-at)*n/at*9/8+16)
	}
	s.toks = slices.Grow(s.toks, want-n)
}

// fail records a lexical error over src[start:end] and stops lexing at
// start.
func (s *scanner) fail(start, end int, format string, args ...any) {
	if s.err != nil {
		return
	}
	if end < start {
		end = start
	}
	s.err = &Error{Pos: s.slowPos(start), End: s.slowPos(end), Msg: fmt.Sprintf(format, args...)}
	s.stop = start
	if s.stop < s.cur {
		// The EOF token's position must not go backwards.
		s.stop = s.cur
	}
}
