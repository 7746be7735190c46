package parser

import (
	"errors"
	"sort"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/lang/grammar"
)

// Error recovery.
//
// Participle stops at the first error, so a file that does not parse in
// one go is parsed again in pieces, each with participle. A piece
// reports its first error; it reports more only where cutting out the
// broken part provably leaves the rest as it would be in the corrected
// file, so that no error is reported that another one caused:
//
//  1. Lexing. After a lexical error, lexing resumes at the next line that
//     starts, in its first column, with a declaration header
//     (grammar.ResumeAfter); what lies between belongs to the broken
//     declaration, whose only reported error is the lexical one (a
//     string closed by the wrong quote turns text into tokens, so a
//     syntax error next to a lexical one may be its consequence). There
//     is no resuming after an unterminated block comment: what follows
//     it was meant to be commented out.
//  2. Declarations. The tokens are split before every declaration keyword
//     (import, type, agent, fragment, workflow) at bracket depth 0 that
//     starts a line or follows a "}" or a string, except the name of
//     the declaration before it (`type workflow {`) unless it starts a
//     line and a declaration header, and an attribute or field of that
//     name (`agent = a`, left at depth 0 by a "}" too many). Brackets inside
//     strings, templates, comments and expressions are inside single
//     tokens, so they cannot fool the split.
//  3. Unclosed blocks. A declaration that does not parse, and whose
//     brackets are not all closed at its end, is split again before
//     each declaration header (`workflow w {` …) that starts a line,
//     indented no more than the declaration, inside blocks that stay
//     open to the end: the header shows where a "}" is missing. A piece cut there whose first error is its
//     premature end reports `missing "}" to close the X block opened at
//     L:C` at the header, X being the block that the indentation of the
//     closing braces shows unclosed, else the innermost open one.
//  4. Trailing junk. Tokens at depth 0 after a declaration's closing
//     bracket are parsed on their own when the declaration parsed (then
//     they are an error of their own); when it did not, they are not
//     reported.
//  5. Items. In a declaration whose brackets balance (all of them up to
//     the next declaration: a stray "}" ends a declaration early), pair
//     as the layout shows (a "}" that starts a line is indented like the
//     line of its "{", any other "}" is on the line of its "{"), and
//     hold no declaration keyword followed by a name inside a block, the
//     broken item is cut out and the declaration parsed again,
//     repeatedly: the cut runs from the last node keyword before the
//     error in the innermost block that has one (else from the start of
//     the declaration's block) up to the next node keyword of that block
//     or its closing bracket. It is a run of whole items of one block,
//     so what follows parses as in the corrected file, and its next
//     error is real. (When the error is at a node keyword where no node
//     may be, and cutting before it does not help, the cut starts at the
//     keyword.) The errors that the conversion to lang/ast finds in what
//     is left are reported too.
//  6. A piece without a declaration (stray tokens) reports its first
//     error only.
//
// A declaration with a syntax error is left out of the tree, and listed
// as Skipped; the others join the tree in source order.

// maxItemErrors bounds the errors reported for one declaration, so that
// recovery stays linear-ish on huge broken files.
const maxItemErrors = 50

// segment is a run of tokens lexed in one go: the whole file, or what
// follows a lexical error.
type segment struct {
	toks []lexer.Token // ending with an EOF token
	err  *grammar.Error
	end  int // byte offset of the next segment, or the length of the file
}

// recoverer parses a file piece by piece; see the comment above.
type recoverer struct {
	file    string
	src     string
	conv    *converter
	decls   []*grammar.Decl
	diags   diag.Diagnostics
	skipped []Skipped
	segEnd  int   // end of the segment being parsed
	lines   []int // byte offsets of the starts of lines, built when needed

	repaired []*grammar.Error // brackets the lexer repaired (grammar.Tokens.Repaired)
	noAdd    bool             // the chunk being parsed has a repaired bracket: keep it out of the tree
}

// Skipped is a declaration, or other text, that Parse left out of the
// tree because of a syntax error.
type Skipped struct {
	// Kind is the declaration keyword: "import", "type", "agent",
	// "fragment" or "workflow"; "" for text that starts with none, which
	// may hold declarations (a misspelt keyword, or text that a lexical
	// error left unparsed).
	Kind string
	// Name is the declaration's name, or an import's path as written;
	// "" if there is none.
	Name string
	// Range covers the declaration or text.
	Range diag.Range
}

// skip records that toks (and, when truncated by a lexical error, the
// rest of its segment) are left out of the tree. With junk set they
// are recorded as text that starts no declaration.
func (r *recoverer) skip(toks []lexer.Token, next lexer.Token, truncated, junk bool) {
	if len(toks) == 0 && !truncated {
		return
	}
	var k Skipped
	start := next.Pos
	if len(toks) > 0 {
		start = toks[0].Pos
		if !junk && isDeclKeyword(toks[0]) {
			k.Kind = toks[0].Value
			want := grammar.Ident
			if k.Kind == "import" {
				want = grammar.String
			}
			if len(toks) > 1 && toks[1].Type == want {
				k.Name = toks[1].Value
			}
		}
	}
	end := r.conv.toks.EndBefore(next.Pos.Offset)
	if truncated {
		end = r.posAt(r.segEnd)
	}
	k.Range = diag.Range{File: r.file, Start: pos(start), End: pos(end)}
	if k.Range.End.Offset < k.Range.Start.Offset {
		k.Range.End = k.Range.Start
	}
	r.skipped = append(r.skipped, k)
}

// posAt is the position of byte offset off.
func (r *recoverer) posAt(off int) lexer.Position {
	start, line := r.lineStart(off)
	p := advance(diag.Pos{Offset: start, Line: line, Col: 1}, r.src[start:off])
	return lexer.Position{Filename: r.file, Offset: p.Offset, Line: p.Line, Column: p.Col}
}

// parseTokens parses a token list that ends with an EOF token.
func parseTokens(toks []lexer.Token) (*grammar.File, error) {
	if f, ok := fastParse(toks); ok {
		return f, nil
	}
	return participleTokens(toks)
}

// participleTokens is parseTokens without the fast path: participle's
// tree, or its first error.
func participleTokens(toks []lexer.Token) (*grammar.File, error) {
	peek, err := lexer.Upgrade(&grammar.SliceLexer{Tokens: toks})
	if err != nil {
		return nil, err
	}
	return smw().ParseFromLexer(peek)
}

// withEOF returns a copy of toks followed by an EOF token at p.
func withEOF(toks []lexer.Token, p lexer.Position) []lexer.Token {
	out := make([]lexer.Token, len(toks)+1)
	copy(out, toks)
	out[len(toks)] = lexer.Token{Type: lexer.EOF, Pos: p}
	return out
}

// withNext returns a copy of toks followed by next: the context in which
// an error is phrased (the token after a piece is what the user sees
// there, not an end of file).
func withNext(toks []lexer.Token, next lexer.Token) []lexer.Token {
	out := make([]lexer.Token, len(toks)+1)
	copy(out, toks)
	out[len(toks)] = next
	return out
}

// errOffset is the byte offset of the token a participle error is about.
func errOffset(err error) (int, bool) {
	var ute *participle.UnexpectedTokenError
	if errors.As(err, &ute) {
		return ute.Unexpected.Pos.Offset, true
	}
	var perr participle.Error
	if errors.As(err, &perr) {
		return perr.Position().Offset, true
	}
	return 0, false
}

// indexAt returns the index of the first token of toks at or after byte
// offset off, len(toks) if none.
func indexAt(toks []lexer.Token, off int) int {
	lo, hi := 0, len(toks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if toks[m].Pos.Offset < off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// parseRecovering parses a file that did not parse in one go. toks and
// lexErr are the result of lexing it from the start.
func parseRecovering(filename, text string, toks *grammar.Tokens, lexErr *grammar.Error) (*grammar.File, *grammar.Tokens, []Skipped, diag.Diagnostics) {
	segs := []segment{{toks: toks.List, err: lexErr, end: len(text)}}
	lexed := []*grammar.Tokens{toks}
	for e := lexErr; e != nil && e.Resumable(); {
		at := grammar.ResumeAfter(text, e.Pos.Offset)
		if at < 0 {
			break
		}
		t, err := grammar.TokenizeAt(filename, text, at)
		segs[len(segs)-1].end = at
		segs = append(segs, segment{toks: t.List, err: err, end: len(text)})
		lexed = append(lexed, t)
		e = err
	}
	// All the tokens, for the converter: those of the segments without
	// their EOF tokens, but the last.
	all := toks
	if len(lexed) > 1 {
		all = &grammar.Tokens{}
		for i, t := range lexed {
			n := len(t.List) - 1
			if i == len(lexed)-1 {
				n++
			}
			all.List = append(all.List, t.List[:n]...)
		}
	}

	r := &recoverer{file: filename, src: text, conv: &converter{file: filename, src: text, toks: all}}
	for _, t := range lexed {
		r.repaired = append(r.repaired, t.Repaired...)
	}
	for _, s := range segs {
		r.segEnd = s.end
		body := s.toks[:len(s.toks)-1]
		starts := r.declStarts(body)
		for i, a := range starts {
			b := len(body)
			if i+1 < len(starts) {
				b = starts[i+1]
			}
			truncated := s.err != nil && b == len(body)
			r.chunk(body[a:b], s.toks[b], truncated)
		}
		if s.err == nil {
			continue
		}
		r.diags = append(r.diags, lexDiag(filename, s.err))
		if len(starts) == 0 {
			r.skip(nil, s.toks[len(s.toks)-1], true, true)
		}
		if at := grammar.ResumeAfter(text, s.err.Pos.Offset); !s.err.Resumable() && at >= 0 {
			// Declarations that the comment swallowed.
			p := r.posAt(at)
			r.skipped = append(r.skipped, Skipped{Range: diag.Range{File: filename, Start: pos(p), End: pos(r.posAt(len(text)))}})
		}
	}
	sort.SliceStable(r.skipped, func(i, j int) bool { return r.skipped[i].Range.Start.Offset < r.skipped[j].Range.Start.Offset })
	return &grammar.File{Decls: r.decls}, all, r.skipped, append(r.diags, r.conv.diags...)
}

// declStarts returns the indexes where declarations start: 0 and every
// declaration keyword at bracket depth 0 that is not the name of the
// declaration before it (unless it starts a line and a declaration
// header: `type` alone on a line followed by `workflow w {`).
func (r *recoverer) declStarts(toks []lexer.Token) []int {
	if len(toks) == 0 {
		return nil
	}
	starts := []int{0}
	depth := 0
	for i, t := range toks {
		if i > 0 && depth == 0 && isDeclKeyword(t) && !isAttrName(toks, i) && r.afterDecl(toks, i) && (!isNameSlot(toks, starts[len(starts)-1], i) || r.declHeader(toks, i)) {
			starts = append(starts, i)
		}
		depth = max(0, depth+bracketDelta(t))
	}
	return starts
}

// isDeclKeyword reports whether t is a declaration keyword.
func isDeclKeyword(t lexer.Token) bool {
	return t.Type == grammar.Ident && grammar.IsDeclKeyword(t.Value)
}

// afterDecl reports whether toks[i] may start a declaration after the
// one before it: it starts a line, or follows what ends a declaration
// (a "}", or an import's path). Elsewhere a declaration keyword is more
// likely a mistake inside the header of the declaration before
// (`workflow hello workflow {`), which is reported as that
// declaration's error alone.
func (r *recoverer) afterDecl(toks []lexer.Token, i int) bool {
	if r.firstOnLine(toks[i].Pos.Offset) {
		return true
	}
	p := toks[i-1]
	return p.Type == grammar.String || p.Type == grammar.Punct && p.Value == "}"
}

// isAttrName reports whether toks[i] is followed by "=", ":" or "?": an
// attribute or field named like a declaration keyword (`agent = a`),
// left at depth 0 by a "}" too many.
func isAttrName(toks []lexer.Token, i int) bool {
	if i+1 >= len(toks) || toks[i+1].Type != grammar.Punct {
		return false
	}
	switch toks[i+1].Value {
	case "=", ":", "?":
		return true
	}
	return false
}

// isNameSlot reports whether toks[i] is where the name of the
// declaration starting at toks[start] goes.
func isNameSlot(toks []lexer.Token, start, i int) bool {
	return i == start+1 && isDeclKeyword(toks[start]) && toks[start].Value != "import"
}

// bracketDelta is +1 for an opening bracket, -1 for a closing one.
func bracketDelta(t lexer.Token) int {
	if t.Type != grammar.Punct || len(t.Value) != 1 {
		return 0
	}
	switch t.Value[0] {
	case '{', '(', '[':
		return 1
	case '}', ')', ']':
		return -1
	}
	return 0
}

// chunk handles the tokens of one declaration (or of junk before the
// first one). next is the token after them; truncated tells that a
// lexical error cut them short, at next.
func (r *recoverer) chunk(toks []lexer.Token, next lexer.Token, truncated bool) {
	// A bracket closed by the wrong kind on its own line was read as the
	// right one: it is this declaration's error, the declaration stays
	// out of the tree, and its other errors are found as usual.
	r.noAdd = false
	if len(toks) > 0 {
		for _, e := range r.repaired {
			if e.Pos.Offset >= toks[0].Pos.Offset && e.Pos.Offset < next.Pos.Offset {
				r.diags = append(r.diags, lexDiag(r.file, e))
				r.noAdd = true
			}
		}
	}
	f, err := parseTokens(withEOF(toks, next.Pos))
	if err == nil {
		if r.noAdd {
			r.skip(toks, next, truncated, false)
			return
		}
		r.addDecls(f)
		if truncated {
			r.skip(nil, next, true, true)
		}
		return
	}
	cuts := r.unclosedCuts(toks)
	if len(cuts) > 0 {
		err = nil // not the error of a part
	}
	prev := 0
	for k, c := range append(cuts, len(toks)) {
		n := next
		if c < len(toks) {
			n = toks[c]
		}
		r.part(toks[prev:c], n, k < len(cuts), truncated && c == len(toks), err)
		prev = c
	}
}

// unclosedCuts returns where to split a declaration whose last block is
// never closed: before each declaration header that starts a line inside
// blocks that stay open up to the end of toks, and is indented no more
// than the declaration (an indented one is more likely a mistake inside
// a body).
func (r *recoverer) unclosedCuts(toks []lexer.Token) []int {
	depth := make([]int, len(toks)+1) // depth before each token, and at the end
	for i, t := range toks {
		depth[i+1] = max(0, depth[i]+bracketDelta(t))
	}
	if depth[len(toks)] == 0 {
		return nil
	}
	var cuts []int
	low := depth[len(toks)] // lowest depth from i on
	indent := r.indentOf(toks[0])
	for i := len(toks) - 1; i > 0; i-- {
		low = min(low, depth[i])
		if depth[i] > 0 && low >= depth[i] && r.declHeader(toks, i) && r.indentOf(toks[i]) <= indent {
			cuts = append(cuts, i)
		}
	}
	for i, j := 0, len(cuts)-1; i < j; i, j = i+1, j-1 {
		cuts[i], cuts[j] = cuts[j], cuts[i]
	}
	return cuts
}

// declHeader reports whether toks[i] starts a line and a declaration
// header: `import "…"`, `type|agent|workflow NAME {` or `fragment NAME (`.
func (r *recoverer) declHeader(toks []lexer.Token, i int) bool {
	t := toks[i]
	if !isDeclKeyword(t) || !r.firstOnLine(t.Pos.Offset) || i+1 >= len(toks) {
		return false
	}
	name := toks[i+1]
	if t.Value == "import" {
		return name.Type == grammar.String
	}
	if name.Type != grammar.Ident || i+2 >= len(toks) {
		return false
	}
	open := "{"
	if t.Value == "fragment" {
		open = "("
	}
	return toks[i+2].Type == grammar.Punct && toks[i+2].Value == open
}

// lineStart returns the byte offset of the start of the line holding
// byte offset off, and the line's number.
func (r *recoverer) lineStart(off int) (int, int) {
	if r.lines == nil {
		r.lines = []int{0}
		for i := 0; i < len(r.src); i++ {
			if r.src[i] == '\n' {
				r.lines = append(r.lines, i+1)
			}
		}
	}
	n := sort.SearchInts(r.lines, off+1) - 1 // the last line starting at or before off
	if n == 0 && off >= len(byteOrderMark) && strings.HasPrefix(r.src, byteOrderMark) {
		return len(byteOrderMark), 1 // the mark takes no column (as the lexer counts)
	}
	return r.lines[n], n + 1
}

// byteOrderMark is U+FEFF in UTF-8, which a file may start with.
const byteOrderMark = "\ufeff"

// lineIndent returns the number of blanks that start the line holding
// byte offset off, and whether only blanks precede off on its line.
func (r *recoverer) lineIndent(off int) (int, bool) {
	start, _ := r.lineStart(off)
	i := start
	for i < len(r.src) && (r.src[i] == ' ' || r.src[i] == '\t') {
		i++
	}
	return i - start, i >= off
}

func (r *recoverer) firstOnLine(off int) bool {
	_, first := r.lineIndent(off)
	return first
}

// part handles one piece of a declaration chunk. atCut tells that it
// ends at a cut made by unclosedCuts (next is then the declaration
// keyword after the cut); truncated that it ends at a lexical error.
// whole, if not nil, is the error of parsing all of toks.
func (r *recoverer) part(toks []lexer.Token, next lexer.Token, atCut, truncated bool, whole error) {
	h := headLen(toks)
	head, tail := toks[:h], toks[h:]
	headNext := next
	if len(tail) > 0 {
		headNext = tail[0]
	}
	ctx := withNext(toks, next)
	var f *grammar.File
	err := whole
	if err == nil || len(tail) > 0 {
		f, err = parseTokens(withEOF(head, headNext.Pos))
	}
	if err == nil {
		if r.noAdd {
			r.skip(head, headNext, false, false)
		} else {
			r.addDecls(f)
		}
		if len(tail) == 0 {
			if truncated {
				r.skip(nil, next, true, true)
			}
			return
		}
		f, err := parseTokens(withEOF(tail, next.Pos))
		if err == nil {
			r.addDecls(f)
			return
		}
		r.skip(tail, next, truncated, true)
		if truncated {
			return // see below
		}
		if at, ok := errOffset(err); ok && at >= next.Pos.Offset && atCut {
			return // the end of the piece, not an error of its own
		}
		r.diags = append(r.diags, syntaxDiag(r.file, ctx, err))
		return
	}
	r.skip(head, headNext, truncated && len(tail) == 0, false)
	if len(tail) > 0 {
		r.skip(tail, next, truncated, true) // not parsed: it may hold anything
	}
	if truncated {
		// The lexical error stands for the declaration: a string that
		// is not closed where it should be is often closed by a later
		// quote, and what lies between is not code.
		return
	}
	at, ok := errOffset(err)
	if ok && at >= headNext.Pos.Offset && len(tail) == 0 && atCut {
		r.diags = append(r.diags, r.missingClose(toks, next))
		return
	}
	r.diags = append(r.diags, syntaxDiag(r.file, ctx, err))
	// Only when all the brackets of the piece balance (a stray "}" ends
	// the declaration early with the head still balanced), the
	// indentation agrees (a stray "{" and a stray "}" balance) and no
	// declaration is inside a block (a "{" missing from it let the
	// block before swallow it): else the item cut would not be a whole
	// item.
	//
	// Items are delimited by braces alone: a "(" or "[" closed by the
	// wrong bracket, or not at all, in one item's value or type leaves
	// the braces around it, and so the other items, intact; cutting out
	// the item removes it.
	if n, balanced := nestBraces(toks); ok && !atCut && balanced && r.indentsAgree(toks, n) && !nestedDecl(toks, n) {
		r.recoverItems(head, headNext, ctx, at)
	}
}

// headLen returns the length of the declaration at the start of toks:
// up to its closing bracket (the second for a fragment, whose parameters
// come first), or its path for an import. What follows at depth 0 is not
// part of it. Without a declaration keyword, or when the brackets do not
// come back to depth 0, it is all of toks.
func headLen(toks []lexer.Token) int {
	if len(toks) == 0 || !isDeclKeyword(toks[0]) {
		return len(toks)
	}
	if toks[0].Value == "import" {
		return min(2, len(toks))
	}
	need := 1
	if toks[0].Value == "fragment" {
		need = 2
	}
	depth := 0
	for i, t := range toks {
		switch d := bracketDelta(t); {
		case d > 0:
			depth++
		case d < 0 && depth > 0:
			depth--
			if depth == 0 {
				need--
				if need == 0 {
					return i + 1
				}
			}
		}
	}
	return len(toks)
}

// addDecls adds the declarations of a piece that parsed.
func (r *recoverer) addDecls(f *grammar.File) {
	for _, d := range f.Decls {
		if d != nil {
			r.decls = append(r.decls, d)
		}
	}
}

// nesting is the bracket structure of a token list whose brackets
// balance.
type nesting struct {
	parent []int // innermost open bracket around each token (for a closing one, the bracket it closes); -1 at depth 0
	match  []int // for a bracket, the index of its partner; -1 otherwise
}

// nestBraces computes the nesting of toks by their braces alone ("(" and
// "[" are ordinary tokens), and false if the braces do not balance.
func nestBraces(toks []lexer.Token) (nesting, bool) {
	n := nesting{parent: make([]int, len(toks)), match: make([]int, len(toks))}
	var stack []int
	for i, t := range toks {
		n.match[i] = -1
		n.parent[i] = -1
		if len(stack) > 0 {
			n.parent[i] = stack[len(stack)-1]
		}
		d := bracketDelta(t)
		if t.Value != "{" && t.Value != "}" {
			d = 0
		}
		switch d {
		case 1:
			stack = append(stack, i)
		case -1:
			if len(stack) == 0 {
				return n, false
			}
			o := stack[len(stack)-1]
			if closerOf(toks[o].Value) != t.Value {
				return n, false
			}
			stack = stack[:len(stack)-1]
			n.match[i], n.match[o] = o, i
		}
	}
	return n, len(stack) == 0
}

// indentsAgree reports whether the braces pair as the layout shows: a
// "}" that starts a line is indented like the line of the "{" it
// closes, and any other "}" closes a "{" of its own line. Two mistakes
// can balance each other ("{" left open in one step and "}" one too
// many in the next); the layout shows it.
func (r *recoverer) indentsAgree(toks []lexer.Token, n nesting) bool {
	for i, t := range toks {
		if t.Type != grammar.Punct || t.Value != "}" || n.match[i] < 0 {
			continue
		}
		open := toks[n.match[i]]
		ind, first := r.lineIndent(t.Pos.Offset)
		switch {
		case first && ind != r.indentOf(open):
			return false
		case !first && open.Pos.Line != t.Pos.Line:
			return false
		}
	}
	return true
}

// nestedDecl reports whether a declaration keyword followed by a name or
// a path (not "=" or ":": an attribute or field of that name) is inside
// a block. No valid block holds one; when brackets balance anyway, two
// mistakes compensate each other (a "{" too many in a type and one
// missing from the workflow after it).
func nestedDecl(toks []lexer.Token, n nesting) bool {
	for i := 0; i+1 < len(toks); i++ {
		if n.parent[i] >= 0 && isDeclKeyword(toks[i]) && (toks[i+1].Type == grammar.Ident || toks[i+1].Type == grammar.String) {
			return true
		}
	}
	return false
}

func closerOf(open string) string {
	switch open {
	case "{":
		return "}"
	case "(":
		return ")"
	case "[":
		return "]"
	}
	return ""
}

// recoverItems reports the errors after the first one (at byte offset
// at) of a declaration whose brackets balance, by cutting out broken
// items one at a time.
func (r *recoverer) recoverItems(head []lexer.Token, next lexer.Token, ctx []lexer.Token, at int) {
	cur := head
	for range maxItemErrors {
		n, ok := nestBraces(cur)
		if !ok {
			return
		}
		t := indexAt(cur, at)
		if t >= len(cur) {
			return
		}
		start, end, ok := itemRange(cur, n, t, false)
		if !ok {
			return
		}
		reduced, f, err := cutAndParse(cur, start, end, next)
		if a, ok := errOffset(err); err != nil && ok && a == at && cur[t].Type == grammar.Keyword {
			// The error was at a node keyword where no node may be
			// (in a match, say) and cutting the items before it did
			// not help: cut from the keyword instead.
			n, _ := nestBraces(reduced)
			t := indexAt(reduced, at)
			if start, end, ok := itemRange(reduced, n, t, true); ok {
				reduced, f, err = cutAndParse(reduced, start, end, next)
			}
		}
		cur = reduced
		if err == nil {
			// The declaration stays out of the tree, but the errors the
			// conversion finds in its good items are real.
			r.conv.convertFile(f)
			return
		}
		a, ok := errOffset(err)
		if !ok || a <= at || a >= next.Pos.Offset {
			return
		}
		r.diags = append(r.diags, syntaxDiag(r.file, ctx, err))
		at = a
	}
}

// cutAndParse parses toks without toks[start:end].
func cutAndParse(toks []lexer.Token, start, end int, next lexer.Token) ([]lexer.Token, *grammar.File, error) {
	cut := make([]lexer.Token, 0, len(toks)-(end-start))
	cut = append(append(cut, toks[:start]...), toks[end:]...)
	f, err := parseTokens(withEOF(cut, next.Pos))
	return cut, f, err
}

// itemRange returns the run of whole items to cut out of toks for an
// error at token t: see step 5 of the recovery rules. With fromT, the
// run starts at t, a node keyword.
func itemRange(toks []lexer.Token, n nesting, t int, fromT bool) (start, end int, ok bool) {
	if t >= len(toks) {
		return 0, 0, false
	}
	var chain []int // the blocks around t, innermost first
	for p := n.parent[t]; p >= 0; p = n.parent[p] {
		chain = append(chain, p)
	}
	if len(chain) == 0 {
		return 0, 0, false
	}
	level, start := 0, -1
	if fromT {
		start = t
	}
	for j := t - 1; start < 0 && j >= 0 && level < len(chain); j-- {
		if j == chain[level] {
			level++
			continue
		}
		if toks[j].Type == grammar.Keyword && n.parent[j] == chain[level] {
			start = j
			break
		}
	}
	if start < 0 {
		level = len(chain) - 1
		start = chain[level] + 1
	}
	p := chain[level]
	for k := max(t, start+1); k < len(toks); k++ {
		if k == n.match[p] || toks[k].Type == grammar.Keyword && n.parent[k] == p {
			return start, k, k > start
		}
	}
	return 0, 0, false
}

// missingClose is the diagnostic for a piece cut before the declaration
// keyword next because a block is not closed: it names the block that
// the indentation shows unclosed, else the innermost open one.
func (r *recoverer) missingClose(toks []lexer.Token, next lexer.Token) diag.Diagnostic {
	var stack []int
	missing := -1
	for i, t := range toks {
		switch bracketDelta(t) {
		case 1:
			stack = append(stack, i)
		case -1:
			if len(stack) == 0 {
				continue
			}
			if ind, first := r.lineIndent(t.Pos.Offset); first && t.Value == "}" && missing < 0 {
				// A "}" at the start of a line closes the block whose
				// line has its indentation; blocks opened after that
				// one were left open.
				k := len(stack) - 1
				for k >= 0 && r.indentOf(toks[stack[k]]) > ind {
					k--
				}
				if k >= 0 && k < len(stack)-1 && r.indentOf(toks[stack[k]]) == ind && toks[stack[k]].Value == "{" {
					missing = stack[len(stack)-1]
					stack = stack[:k+1]
				}
			}
			stack = stack[:len(stack)-1]
		}
	}
	subject := (&errContext{file: r.file}).tokRange(next)
	open := missing
	if open < 0 {
		if len(stack) == 0 {
			return diag.Errorf(subject, "syntax", `missing "}" before %s`, quote(next))
		}
		open = stack[len(stack)-1]
	}
	o := toks[open]
	close := closerOf(o.Value)
	if o.Value == "{" {
		return diag.Errorf(subject, "syntax", "missing %q to close the %s block opened at %d:%d", close, describeOpen(toks[:open]), o.Pos.Line, o.Pos.Column)
	}
	return diag.Errorf(subject, "syntax", "missing %q to close %q opened at %d:%d", close, o.Value, o.Pos.Line, o.Pos.Column)
}

// indentOf is the indentation of the line holding t.
func (r *recoverer) indentOf(t lexer.Token) int {
	ind, _ := r.lineIndent(t.Pos.Offset)
	return ind
}
