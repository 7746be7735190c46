package parser

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/lang/grammar"
)

// smw is the participle parser of .smw files. It is built once and is
// safe for concurrent use (participle's documented guarantee); it is
// never modified after initialisation.
var smw = participle.MustBuild[grammar.File](
	participle.Lexer(grammar.Definition{}),
	participle.UseLookahead(0),
)

// Grammar returns the grammar in participle's EBNF notation, for review
// and for the grammar golden.
func Grammar() string { return smw.String() }

// Parse parses one .smw file. The returned file is never nil; when the
// diagnostics have errors it holds what was parsed before the first
// syntax error and must not be checked further.
func Parse(filename string, src []byte) (*ast.File, diag.Diagnostics) {
	text := string(src)
	toks, lexErr := grammar.Tokenize(filename, text)
	var diags diag.Diagnostics
	peek, err := lexer.Upgrade(&grammar.SliceLexer{Tokens: toks.List})
	var tree *grammar.File
	if err == nil {
		tree, err = smw.ParseFromLexer(peek)
	}
	switch {
	case lexErr != nil:
		diags = append(diags, lexDiag(filename, lexErr))
	case err != nil:
		diags = append(diags, syntaxDiag(filename, toks.List, err))
	}
	c := &converter{file: filename, src: text, toks: toks}
	f := c.convertFile(tree)
	f.Src = src
	if !diags.HasErrors() {
		diags = append(diags, c.diags...)
	}
	return f, diags.Sort()
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
