package ir

import (
	"testing"

	"github.com/expr-lang/expr/vm"
	"github.com/google/go-cmp/cmp"

	exprparser "github.com/expr-lang/expr/parser"
)

// TestConstProgramIsCompiled: the program constProgram builds for a
// constant is the one expr-lang compiles (instructions, constants,
// locations, source, disassembly and value), and other trees are left
// to expr-lang.
func TestConstProgramIsCompiled(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"0", "42", "123456789012345678", "true", "false", "nil"} {
		tree, err := exprparser.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		got := constProgram(tree)
		if got == nil {
			t.Fatalf("%q: no constant program", src)
		}
		want, err := compileSrc(src, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want.Bytecode, got.Bytecode); d != "" {
			t.Errorf("%q: bytecode (-expr +const):\n%s", src, d)
		}
		if d := cmp.Diff(want.Arguments, got.Arguments); d != "" {
			t.Errorf("%q: arguments (-expr +const):\n%s", src, d)
		}
		if d := cmp.Diff(want.Constants, got.Constants); d != "" {
			t.Errorf("%q: constants (-expr +const):\n%s", src, d)
		}
		if d := cmp.Diff(want.Locations(), got.Locations()); d != "" {
			t.Errorf("%q: locations (-expr +const):\n%s", src, d)
		}
		if want.Source().String() != got.Source().String() || want.Disassemble() != got.Disassemble() {
			t.Errorf("%q: source %q, disassembly\n%s\nwant %q,\n%s", src, got.Source().String(), got.Disassemble(), want.Source().String(), want.Disassemble())
		}
		env := map[string]any{}
		wv, werr := vm.Run(want, env)
		gv, gerr := vm.Run(got, env)
		if werr != nil || gerr != nil || !cmp.Equal(wv, gv) {
			t.Errorf("%q: runs to %#v, %v; want %#v, %v", src, gv, gerr, wv, werr)
		}
	}
	for _, src := range []string{"s0", "1 + 2", "\"s\"", "1.5", "-1", "[1]"} {
		tree, err := exprparser.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		if constProgram(tree) != nil {
			t.Errorf("%q: a constant program", src)
		}
	}
	if constProgram(nil) != nil {
		t.Error("a constant program for no tree")
	}
}
