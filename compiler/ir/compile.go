package ir

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	exprparser "github.com/expr-lang/expr/parser"
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
	shadowed := x.shadowed()
	return compileSrc(x.Src, shadowed, x.takeParsed(shadowed))
}

// takeParsed returns the tree given to UseParsed, and forgets it, when
// it is the tree the configuration of the shadowed builtins would parse:
// with none shadowed, only the ordered map functions parse differently
// (as calls of functions, not builtins).
func (x *Expr) takeParsed(shadowed string) *exprparser.Tree {
	t := x.parsed
	if t == nil {
		return nil
	}
	x.parsed = nil
	if shadowed != "" {
		return nil
	}
	for _, f := range orderedMapFuncs {
		if strings.Contains(x.Src, f.name) {
			return nil
		}
	}
	return t
}

// shadowed returns the expr builtins (keys, values and toPairs included)
// that the names x reads hide, sorted and joined by commas: the key of
// the compile configuration x needs. Most expressions shadow none.
func (x *Expr) shadowed() string {
	var hidden []string
	add := func(name string) {
		if _, ok := builtin.Index[name]; ok && !slices.Contains(hidden, name) {
			hidden = append(hidden, name)
		}
	}
	for name := range x.Names {
		add(rootName(name))
	}
	for name := range x.Params {
		add(name)
	}
	if len(hidden) == 0 {
		return ""
	}
	sort.Strings(hidden)
	return strings.Join(hidden, ",")
}

// configs holds, per set of shadowed builtins (see shadowed), a pool of
// expr configurations for it. expr.Compile builds a fresh configuration
// (a copy of the whole builtin table) for every expression, which
// dominated compiling a large program; a configuration is only read
// while compiling, except for its type cache, so each is reused, by one
// compilation at a time.
var configs sync.Map // string → *sync.Pool of *conf.Config

func configPool(shadowed string) *sync.Pool {
	if p, ok := configs.Load(shadowed); ok {
		return p.(*sync.Pool)
	}
	p, _ := configs.LoadOrStore(shadowed, &sync.Pool{New: func() any { return newConfig(shadowed) }})
	return p.(*sync.Pool)
}

// newConfig is the configuration expr.Compile would build from the
// options DisableBuiltin(name) for each shadowed name and Function for
// each ordered map function not shadowed.
func newConfig(shadowed string) *conf.Config {
	var opts []expr.Option
	taken := map[string]bool{}
	if shadowed != "" {
		for _, name := range strings.Split(shadowed, ",") {
			taken[name] = true
			opts = append(opts, expr.DisableBuiltin(name))
		}
	}
	for _, f := range orderedMapFuncs {
		if !taken[f.name] {
			opts = append(opts, expr.Function(f.name, f.fn, new(func(map[string]any) []any)))
		}
	}
	c := conf.CreateNew()
	for _, op := range opts {
		op(c)
	}
	for name := range c.Disabled {
		delete(c.Builtins, name)
	}
	c.Check()
	return c
}

// compileSrc is expr.Compile of src with the configuration of the given
// shadowed builtins, taken from its pool. A non-nil tree is src parsed
// with that configuration.
func compileSrc(src, shadowed string, tree *exprparser.Tree) (*vm.Program, error) {
	if p := constProgram(tree); p != nil {
		return p, nil
	}
	pool := configPool(shadowed)
	c := pool.Get().(*conf.Config)
	defer pool.Put(c)
	var err error
	if tree == nil {
		tree, err = checker.ParseCheck(src, c)
	} else {
		// checker.ParseCheck without the parse.
		_, err = new(checker.Checker).PatchAndCheck(tree, c)
	}
	if err != nil {
		return nil, err
	}
	if c.Optimize {
		if err := optimizer.Optimize(&tree.Node, c); err != nil {
			var fileError *file.Error
			if errors.As(err, &fileError) {
				return nil, fileError.Bind(tree.Source)
			}
			return nil, err
		}
	}
	return compiler.Compile(tree, c)
}

// constProgram returns the program expr-lang compiles from a tree that
// is one integer, true, false or nil (`value = 1`), built directly: one
// instruction pushing the value. It returns nil for any other tree.
// Checking, optimizing and compiling such a tree with expr-lang cost
// more than a tenth of compiling a program of many constant steps.
// TestConstProgramIsCompiled checks that both programs are the same
// (the node is left without the type expr-lang's checker would give it:
// nothing reads it once compiled).
func constProgram(tree *exprparser.Tree) *vm.Program {
	if tree == nil {
		return nil
	}
	var (
		op     vm.Opcode
		consts []any
	)
	switch n := tree.Node.(type) {
	case *ast.IntegerNode:
		if n.Nature().Type != nil {
			return nil // typed by an earlier check: expr-lang's
		}
		op, consts = vm.OpPush, []any{n.Value}
	case *ast.BoolNode:
		op = vm.OpFalse
		if n.Value {
			op = vm.OpTrue
		}
	case *ast.NilNode:
		op = vm.OpNil
	default:
		return nil
	}
	return vm.NewProgram(tree.Source, tree.Node, []file.Location{tree.Node.Location()}, 0, consts,
		[]vm.Opcode{op}, []int{0}, nil, map[string]string{}, nil)
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
// none (template parts included). Expressions of the same text and
// configuration share one program (a program is read-only once compiled,
// and safe for concurrent use); the distinct ones are compiled on up to
// GOMAXPROCS goroutines. It returns the error of the first expression
// that does not compile, which for a program that checked clean means a
// bug.
func (p *Program) CompileAll() error {
	type key struct{ src, shadowed string }
	type job struct {
		key  key
		tree *exprparser.Tree
		prog *vm.Program
		err  error
	}
	var users []*Expr
	p.EachExpr(func(x *Expr) {
		if x.Template == nil && x.Program == nil {
			users = append(users, x)
		}
	})
	var (
		index = make(map[key]int32, len(users))
		jobs  = make([]job, 0, len(users))
		jobOf = make([]int32, len(users)) // the job of each user
	)
	for i, x := range users {
		k := key{x.Src, x.shadowed()}
		tree := x.takeParsed(k.shadowed)
		j, ok := index[k]
		if !ok {
			j = int32(len(jobs))
			index[k] = j
			jobs = append(jobs, job{key: k, tree: tree})
		}
		jobOf[i] = j
	}
	const chunk = 64
	var next atomic.Int64
	work := func() {
		for {
			lo := int(next.Add(chunk)) - chunk
			if lo >= len(jobs) {
				return
			}
			for i := lo; i < min(lo+chunk, len(jobs)); i++ {
				j := &jobs[i]
				j.prog, j.err = compileSrc(j.key.src, j.key.shadowed, j.tree)
				j.tree = nil
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), (len(jobs)+chunk-1)/chunk)
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	for i, x := range users {
		x.Program = jobs[jobOf[i]].prog
	}
	for i := range jobs {
		if jobs[i].err != nil {
			return jobs[i].err
		}
	}
	return nil
}

func rootName(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			return name[:i]
		}
	}
	return name
}
