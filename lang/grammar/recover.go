package grammar

import (
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// This file holds what lang/parser needs to recover from syntax errors:
// the words that start a declaration, where lexing can resume after a
// lexical error, and lexing from the middle of a file.

// IsDeclKeyword reports whether word starts a top-level declaration:
// import, type, agent, fragment or workflow. The lexer emits these words
// as Ident tokens; the grammar matches them by value.
func IsDeclKeyword(word string) bool {
	switch word {
	case "import", "type", "agent", "fragment", "workflow":
		return true
	}
	return false
}

// Resumable reports whether lexing may resume after e at the next line
// that starts a declaration (see ResumeAfter). An unterminated block
// comment is not resumable: what follows it was meant to be commented
// out, often code, and parsing it would report errors that are not there.
func (e *Error) Resumable() bool { return !e.comment }

// ResumeAfter returns the offset of the first line after the line that
// holds offset off that starts, in its first column, with the header of
// a declaration: `import "`, `type NAME {`, `agent NAME {`,
// `fragment NAME(` or `workflow NAME {`. It returns -1 if there is none.
// It reads raw text, so that it can skip the unlexable rest of a
// construct that a lexical error left open (an unterminated string or an
// unclosed bracket swallows what follows it); an indented header is more
// likely to be text in a string than a declaration, and is passed over.
func ResumeAfter(src string, off int) int {
	if off < 0 {
		off = 0
	}
	for {
		nl := strings.IndexByte(src[min(off, len(src)):], '\n')
		if nl < 0 {
			return -1
		}
		off += nl + 1
		if off < len(src) && src[off] != ' ' && src[off] != '\t' && DeclHeaderAt(src, off) {
			return off
		}
	}
}

// DeclHeaderAt reports whether the line starting at offset i, after
// blanks, looks like the header of a declaration (see ResumeAfter).
func DeclHeaderAt(src string, i int) bool {
	i = skipBlanks(src, i)
	start := i
	for i < len(src) && isIdentPart(src[i]) {
		i++
	}
	word := src[start:i]
	if !IsDeclKeyword(word) || i >= len(src) || (src[i] != ' ' && src[i] != '\t') {
		return false
	}
	i = skipBlanks(src, i)
	if word == "import" {
		return i < len(src) && src[i] == '"'
	}
	if i >= len(src) || !isIdentStart(src[i]) {
		return false
	}
	for i < len(src) && isIdentPart(src[i]) {
		i++
	}
	i = skipBlanks(src, i)
	open := byte('{')
	if word == "fragment" {
		open = '('
	}
	return i < len(src) && src[i] == open
}

func skipBlanks(src string, i int) int {
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	return i
}

// TokenizeAt is Tokenize from byte offset start of src, which should be
// the start of a line; token positions are those of the whole file. The
// lexer starts as at the beginning of a file: outside any block, where
// an item may start.
func TokenizeAt(filename, src string, start int) (*Tokens, *Error) {
	start = max(0, min(start, len(src)))
	// A modest guess: after a lexical error, lexing may resume many
	// times, each up to the next error only.
	n := min((len(src)-start)/6+8, 1024)
	s := &scanner{
		src:  src,
		file: filename,
		off:  start,
		toks: make([]lexer.Token, 0, n),
	}
	p := s.slowPos(start)
	s.cur, s.line, s.col = start, p.Line, p.Column
	s.base, s.baseLine, s.baseCol = start, p.Line, p.Column
	return s.finish()
}
