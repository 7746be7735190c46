package lsp

import (
	"net/url"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/smithc/smithc/lang/diag"
)

// text is a document's content with its line starts, for converting
// between byte offsets and protocol positions.
type text struct {
	s     string
	lines []int // byte offset of the start of each line
}

func newText(s string) *text {
	t := &text{s: s, lines: []int{0}}
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			t.lines = append(t.lines, i+1)
		}
	}
	return t
}

// position converts a byte offset.
func (t *text) position(off int) Position {
	off = max(0, min(off, len(t.s)))
	lo, hi := 0, len(t.lines)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.lines[m] <= off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	line := lo - 1
	ch := 0
	for _, r := range t.s[t.lines[line]:off] {
		ch += utf16Len(r)
	}
	return Position{Line: line, Character: ch}
}

// offset converts a position; a position past the end of its line is the
// end of the line, past the last line the end of the text.
func (t *text) offset(p Position) int {
	if p.Line < 0 {
		return 0
	}
	if p.Line >= len(t.lines) {
		return len(t.s)
	}
	i := t.lines[p.Line]
	end := len(t.s)
	if p.Line+1 < len(t.lines) {
		end = t.lines[p.Line+1] - 1
	}
	ch := 0
	for i < end && ch < p.Character {
		r, size := utf8.DecodeRuneInString(t.s[i:])
		ch += utf16Len(r)
		i += size
	}
	return i
}

func (t *text) rangeOf(r diag.Range) Range {
	return Range{Start: t.position(r.Start.Offset), End: t.position(r.End.Offset)}
}

func utf16Len(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// uriToPath turns a file: URI into a path; other URIs are kept as names.
func uriToPath(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "file" {
		return uri
	}
	return filepath.FromSlash(u.Path)
}

// pathToURI turns a path into a file: URI.
func pathToURI(path string) string {
	if strings.Contains(path, "://") {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	return u.String()
}
