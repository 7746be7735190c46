package checker

import (
	"os"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/schema"
)

// Config configures a check. Its zero value checks with no step actions
// (every step is then "without action") and reads imports from disk.
type Config struct {
	// Actions are the step actions the program may use, as the standard
	// library declares them (stdlib.Specs()).
	Actions []schema.ActionSpec
	// ReadFile reads an imported file; nil means os.ReadFile.
	ReadFile func(name string) ([]byte, error)
	// ParseFunc parses one file; nil means lang/parser.Parse. Tests and
	// tools may substitute their own front end.
	ParseFunc func(filename string, src []byte) (*ast.File, diag.Diagnostics)
	// KeepTrees keeps the expr-lang parse of every run-time expression
	// in the Info, for a compiler to compile instead of parsing the
	// expressions again (Info.TakeTree). compiler.Build sets it.
	KeepTrees bool
}

func (c *Config) readFile(name string) ([]byte, error) {
	if c != nil && c.ReadFile != nil {
		return c.ReadFile(name)
	}
	return os.ReadFile(name)
}
