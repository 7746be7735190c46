package ir_test

import (
	"strconv"
	"testing"

	"github.com/expr-lang/expr"
	exprparser "github.com/expr-lang/expr/parser"
	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/compiler/ir"
)

// TestMapFunctionsAreOrdered: keys, values and toPairs give the same
// order every time (expr's own follow Go's random map order).
func TestMapFunctionsAreOrdered(t *testing.T) {
	env := map[string]any{"m": map[string]any{"d": 4, "a": 1, "c": 3, "b": 2}}
	cases := map[string]any{
		"keys(m)":             []any{"a", "b", "c", "d"},
		"values(m)":           []any{1, 2, 3, 4},
		"toPairs(m)":          []any{[]any{"a", 1}, []any{"b", 2}, []any{"c", 3}, []any{"d", 4}},
		"join(keys(m), \"\")": "abcd",
	}
	for src, want := range cases {
		x := &ir.Expr{Src: src}
		prog, err := x.Compile()
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		for i := 0; i < 20; i++ {
			got, err := expr.Run(prog, env)
			if err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s (-want +got):\n%s", src, diff)
			}
		}
	}
}

// TestNamesShadowBuiltins: a step called like a builtin means the step.
func TestNamesShadowBuiltins(t *testing.T) {
	x := &ir.Expr{Src: "keys + len(map)", Names: map[string]string{"keys": "keys", "map": "map"}}
	prog, err := x.Compile()
	if err != nil {
		t.Fatal(err)
	}
	got, err := expr.Run(prog, map[string]any{"keys": 1, "map": []any{1, 2}})
	if err != nil || got != 3 {
		t.Errorf("got %v, %v; want 3", got, err)
	}
}

// TestCompileAllSharesPrograms: CompileAll gives expressions of the same
// text and the same shadowed builtins one program, and a different one
// where a name hides a builtin; each behaves as its own compilation would.
func TestCompileAllSharesPrograms(t *testing.T) {
	plain := func() *ir.Expr { return &ir.Expr{Src: "values(m)", Names: map[string]string{"m": "m"}} }
	a, b := plain(), plain()
	// A step called "values" hides the builtin: values(m) calls it.
	shadow := &ir.Expr{Src: "values(m)", Names: map[string]string{"m": "m", "values": "values"}}
	p := &ir.Program{Agents: []*ir.Agent{{Model: a, Args: b, Cwd: shadow}}}
	if err := p.CompileAll(); err != nil {
		t.Fatal(err)
	}
	if a.Program == nil || a.Program != b.Program {
		t.Errorf("the same expression got programs %p and %p, want one", a.Program, b.Program)
	}
	if shadow.Program == nil || shadow.Program == a.Program {
		t.Errorf("the shadowing expression shares the plain one's program")
	}
	m := map[string]any{"d": 4, "a": 1, "c": 3, "b": 2}
	got, err := expr.Run(a.Program, map[string]any{"m": m})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{1, 2, 3, 4}, got); diff != "" {
		t.Errorf("values(m) (-want +got):\n%s", diff)
	}
	got, err = expr.Run(shadow.Program, map[string]any{"m": m, "values": func(any) any { return "the step" }})
	if err != nil || got != "the step" {
		t.Errorf("shadowed values(m) = %v, %v; want the step's function called", got, err)
	}
}

// TestUseParsed: a tree given with UseParsed is compiled in place of
// the source where the configuration would parse the same tree, and
// ignored where it would not (keys is an ordered function of smithc's,
// not expr's builtin; a step called like a builtin hides it).
func TestUseParsed(t *testing.T) {
	env := map[string]any{"m": map[string]any{"b": 2, "a": 1, "c": 3}, "n": 4}
	cases := []struct {
		src   string
		names map[string]string
		want  any
	}{
		{"n + 1", nil, 5},
		{"keys(m)", nil, []any{"a", "b", "c"}},
		{"len(map)", map[string]string{"map": "map"}, 2},
	}
	for _, c := range cases {
		tree, err := exprparser.Parse(c.src)
		if err != nil {
			t.Fatal(err)
		}
		x := &ir.Expr{Src: c.src, Names: c.names}
		x.UseParsed(tree)
		p := &ir.Program{Agents: []*ir.Agent{{Model: x}}}
		if err := p.CompileAll(); err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		run := env
		if c.names != nil {
			run = map[string]any{"map": []any{1, 2}}
		}
		for i := 0; i < 5; i++ {
			got, err := expr.Run(x.Program, run)
			if err != nil {
				t.Fatalf("%s: %v", c.src, err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Fatalf("%s (-want +got):\n%s", c.src, diff)
			}
		}
	}
}

// TestCompileAllMany: with more distinct expressions than one goroutine
// compiles, every expression gets its own program (run it with -race).
func TestCompileAllMany(t *testing.T) {
	p := &ir.Program{}
	for i := 0; i < 1000; i++ {
		src := "n + " + strconv.Itoa(i)
		tree, err := exprparser.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		x := &ir.Expr{Src: src, Names: map[string]string{"n": "n"}}
		if i%2 == 0 {
			x.UseParsed(tree)
		}
		p.Agents = append(p.Agents, &ir.Agent{Model: x, Args: &ir.Expr{Src: src}})
	}
	if err := p.CompileAll(); err != nil {
		t.Fatal(err)
	}
	for i, a := range p.Agents {
		for _, x := range []*ir.Expr{a.Model, a.Args} {
			got, err := expr.Run(x.Program, map[string]any{"n": 1})
			if err != nil || got != 1+i {
				t.Fatalf("%s = %v, %v; want %d", x.Src, got, err, 1+i)
			}
		}
	}
}
