package checker

import (
	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
)

// parse parses one file with the configured front end.
func (c *checker) parse(filename string, src []byte) (*ast.File, diag.Diagnostics) {
	if c.cfg.ParseFunc != nil {
		return c.cfg.ParseFunc(filename, src)
	}
	return defaultParse(filename, src)
}
