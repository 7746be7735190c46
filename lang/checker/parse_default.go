package checker

import (
	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/lang/parser"
)

// defaultParse is used when Config.ParseFunc is nil.
func defaultParse(filename string, src []byte) (*ast.File, diag.Diagnostics) {
	return parser.Parse(filename, src)
}
