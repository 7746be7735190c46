package parser

import (
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/lang/grammar"
)

// smw returns the participle parser of .smw files. It is built on first
// use (building it costs about 2 ms, more than the rest of a small
// smithc command's start, and a file the fast path parses never needs
// it), once, and is safe for concurrent use (participle's documented
// guarantee); it is never modified after it is built.
var smw = sync.OnceValue(func() *participle.Parser[grammar.File] {
	return participle.MustBuild[grammar.File](
		participle.Lexer(grammar.Definition{}),
		participle.UseLookahead(0),
	)
})

// Grammar returns the grammar in participle's EBNF notation, for review
// and for the grammar golden.
func Grammar() string { return smw().String() }

// Parse parses one .smw file and reports every syntax error it can find
// without guessing: after an error it resumes at the next declaration,
// and inside a declaration at the next node (see recover.go). The
// returned file is never nil; it holds the declarations that parsed, in
// source order. When the diagnostics have errors it must not be checked
// further.
func Parse(filename string, src []byte) (*ast.File, diag.Diagnostics) {
	f, _, diags := ParseRecovered(filename, src)
	return f, diags
}

// ParseRecovered is Parse that also tells what it left out of the tree
// because of syntax errors, in source order: the broken declarations,
// and text that starts no declaration. A checker that checks the tree
// of a file with syntax errors can use it to avoid reporting what the
// errors cause: a reference to a name that a skipped declaration of
// that kind declares is not unknown, and when something skipped has no
// kind or no name (or is an import), no name is known to be unknown.
func ParseRecovered(filename string, src []byte) (*ast.File, []Skipped, diag.Diagnostics) {
	text := string(src)
	toks, lexErr := grammar.Tokenize(filename, text)
	var diags diag.Diagnostics
	var skipped []Skipped
	var tree *grammar.File
	var err error
	if lexErr == nil {
		tree, err = parseTokens(toks.List)
	}
	if lexErr != nil || err != nil || len(toks.Repaired) > 0 {
		tree, toks, skipped, diags = parseRecovering(filename, text, toks, lexErr)
	}
	c := &converter{file: filename, src: text, toks: toks}
	f := c.convertFile(tree)
	f.Src = src
	diags = append(diags, c.diags...)
	return f, skipped, diags.Sort()
}

// lexDiag turns a lexical error into a syntax diagnostic.
func lexDiag(filename string, e *grammar.Error) diag.Diagnostic {
	r := diag.Range{File: filename, Start: pos(e.Pos), End: pos(e.End)}
	return diag.Errorf(r, "syntax", "%s", e.Msg)
}

// pos converts a participle position.
func pos(p lexer.Position) diag.Pos {
	return diag.Pos{Offset: p.Offset, Line: p.Line, Col: p.Column}
}
