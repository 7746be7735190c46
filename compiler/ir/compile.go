package ir

import (
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// Compile compiles the expression's source with expr-lang, untyped (the
// checker has already typed it): the names it reads (Names, Params) take
// precedence over expr builtins of the same name, so a step called "map"
// means the step. The runtime evaluates the program over a map of
// JSON-like values. Templates have no program of their own: each part
// is compiled separately.
func (x *Expr) Compile() (*vm.Program, error) {
	var opts []expr.Option
	for name := range x.Names {
		opts = append(opts, expr.DisableBuiltin(rootName(name)))
	}
	for name := range x.Params {
		opts = append(opts, expr.DisableBuiltin(name))
	}
	return expr.Compile(x.Src, opts...)
}

// CompileAll fills Program for every expression of the program that has
// none (template parts included). It returns the first error, which for
// a program that checked clean means a bug.
func (p *Program) CompileAll() error {
	var first error
	p.EachExpr(func(x *Expr) {
		if x.Template != nil || x.Program != nil {
			return
		}
		prog, err := x.Compile()
		if err != nil {
			if first == nil {
				first = err
			}
			return
		}
		x.Program = prog
	})
	return first
}

func rootName(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			return name[:i]
		}
	}
	return name
}
