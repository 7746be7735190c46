package parser

import (
	"errors"
	"fmt"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/smithc/smithc/lang/diag"
)

// syntaxDiag translates a participle error into one diagnostic.
func syntaxDiag(filename, src string, toks []lexer.Token, err error) diag.Diagnostic {
	var perr participle.Error
	if !errors.As(err, &perr) {
		return diag.Errorf(diag.Range{File: filename}, "syntax", "%v", err)
	}
	p := pos(perr.Position())
	r := diag.Range{File: filename, Start: p, End: p}
	var ute *participle.UnexpectedTokenError
	if errors.As(err, &ute) {
		r.End = advance(p, ute.Unexpected.Value)
	}
	return diag.Errorf(r, "syntax", "%s", fmt.Sprint(perr.Message()))
}
