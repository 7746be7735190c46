package ir

import (
	"fmt"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// Compile compiles the expression's source with expr-lang, untyped (the
// checker has already typed it): the names it reads (Names, Params) take
// precedence over expr builtins of the same name, so a step called "map"
// means the step. The runtime evaluates the program over a map of
// JSON-like values. Templates have no program of their own: each part
// is compiled separately.
//
// keys(), values() and toPairs() are replaced by versions that order by
// key: expr's own follow Go's random map order, and a durable run must
// decide the same way when it is resumed.
func (x *Expr) Compile() (*vm.Program, error) {
	var opts []expr.Option
	taken := map[string]bool{}
	for name := range x.Names {
		taken[rootName(name)] = true
	}
	for name := range x.Params {
		taken[name] = true
	}
	for name := range taken {
		opts = append(opts, expr.DisableBuiltin(name))
	}
	for _, f := range orderedMapFuncs {
		if !taken[f.name] {
			opts = append(opts, expr.Function(f.name, f.fn, new(func(map[string]any) []any)))
		}
	}
	return expr.Compile(x.Src, opts...)
}

var orderedMapFuncs = []struct {
	name string
	fn   func(params ...any) (any, error)
}{
	{"keys", func(params ...any) (any, error) {
		m, err := mapArg("keys", params)
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(m))
		for _, k := range sortedKeys(m) {
			out = append(out, k)
		}
		return out, nil
	}},
	{"values", func(params ...any) (any, error) {
		m, err := mapArg("values", params)
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(m))
		for _, k := range sortedKeys(m) {
			out = append(out, m[k])
		}
		return out, nil
	}},
	{"toPairs", func(params ...any) (any, error) {
		m, err := mapArg("toPairs", params)
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(m))
		for _, k := range sortedKeys(m) {
			out = append(out, []any{k, m[k]})
		}
		return out, nil
	}},
}

func mapArg(name string, params []any) (map[string]any, error) {
	if len(params) != 1 {
		return nil, fmt.Errorf("%s takes one map, got %d arguments", name, len(params))
	}
	m, ok := params[0].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s of %T: want a map", name, params[0])
	}
	return m, nil
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
