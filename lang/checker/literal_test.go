package checker

import (
	"reflect"
	"testing"

	exprast "github.com/expr-lang/expr/ast"
	exprparser "github.com/expr-lang/expr/parser"
)

// sameTree fails t unless literalTree(src), when it gives a tree, is
// the tree exprparser.Parse(src) builds: same nodes, values and
// locations, and the same source.
func sameTree(t *testing.T, src string) bool {
	t.Helper()
	got := literalTree(src)
	if got == nil {
		return false
	}
	want, err := exprparser.Parse(src)
	if err != nil {
		t.Fatalf("%q: literalTree gives a tree, the parser an error: %v", src, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: literalTree gives\n%s at %v\nthe parser\n%s at %v", src,
			exprast.Dump(got.Node), got.Node.Location(), exprast.Dump(want.Node), want.Node.Location())
	}
	return true
}

// TestLiteralTreeIsParse: each expression of the subset literalTree
// takes is the tree the parser builds; everything else is left to the
// parser.
func TestLiteralTreeIsParse(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"0", "7", "42", "123456789012345678", "true", "false", "nil",
		"s0", "input", "_x", "A_b9", "map", "len", "all", "now", "env", "secret", "trueish", "nil_", "notes", "iffy",
		"input.x", "s0.out.n", "a.true", "a.map", "s0 + 1", "s0+1", "1 - 2 - 3", "a * b + c % 2", "a + b * c", "a / b / c",
		"a.b * 2 - c.d / 3", "1 + 2 * 3 - 4 % 5 / 6", " 1", "1 ", " a . b + 1 "} {
		if !sameTree(t, src) {
			t.Errorf("%q: literalTree leaves it to the parser", src)
		}
	}
	for _, src := range []string{"", "  1", "01", "0x1", "0b1", "0o7", "1_000", "1.5", "1e3", "9223372036854775808",
		"1234567890123456789", "-1", "not", "and", "or", "in", "matches", "contains", "startsWith", "endsWith", "let", "if", "else",
		"a[0]", "f()", "a.f()", "a b", "$env", "é", "aé", "\"s\"", "'s'", "1;", "#", "a.in", "a.not", "true.x", "1.x", "a?.b",
		"a  + 1", "a +\t1", "a ** 2", "a // b", "a /* b */", "a..b", "a - -1", "a +", "a ?? b", "a == 1", "(a)", "a.", "a.1"} {
		if literalTree(src) != nil {
			t.Errorf("%q: literalTree gives a tree, want the parser's", src)
		}
	}
}

// FuzzLiteralTree: whatever literalTree accepts, the parser accepts as
// the same tree.
func FuzzLiteralTree(f *testing.F) {
	for _, s := range []string{"0", "42", "true", "nil", "s0", "not", "1.5", "0x1", "a.b", "s0 + 1", "a.b * 2 - c / 3", "a ** b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) { sameTree(t, src) })
}
