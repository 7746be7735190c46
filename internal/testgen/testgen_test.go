package testgen_test

import (
	"bytes"
	"testing"

	"github.com/smithc/smithc/internal/testgen"
	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/parser"
)

func TestProgramParsesClean(t *testing.T) {
	t.Parallel()
	for _, lines := range []int{1, 200, 3000} {
		src := testgen.Program(lines)
		n := bytes.Count(src, []byte("\n"))
		if n < lines || n > lines+120 {
			t.Errorf("Program(%d) has %d lines, want %d to %d", lines, n, lines, lines+120)
		}
		f, diags := parser.Parse("gen.smw", src)
		for _, d := range diags {
			t.Errorf("Program(%d): %s", lines, d)
		}
		workflows := 0
		for _, d := range f.Decls {
			if _, ok := d.(*ast.WorkflowDecl); ok {
				workflows++
			}
		}
		if workflows == 0 {
			t.Errorf("Program(%d) has no workflows", lines)
		}
	}
}

func TestProgramDeterministic(t *testing.T) {
	t.Parallel()
	if !bytes.Equal(testgen.Program(1000), testgen.Program(1000)) {
		t.Error("Program is not deterministic")
	}
}
