package parser_test

import (
	"fmt"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/parser"
)

func ExampleParse() {
	src := []byte(`workflow hello {
  step greet { run = "echo Hello, ${input.name}!" }
}
`)
	f, diags := parser.Parse("hello.smw", src)
	if diags.HasErrors() {
		fmt.Println(diags)
		return
	}
	wf := f.Decls[0].(*ast.WorkflowDecl)
	step := wf.Body.Nodes[0].(*ast.StepStmt)
	run := step.Attrs[0].Value
	fmt.Println(wf.Name.Name, step.ID.Name, run.Range)
	for _, p := range run.Template.Parts {
		if p.Expr != nil {
			fmt.Printf("interpolation %q at %s\n", p.Expr.Src, p.Expr.Range)
		} else {
			fmt.Printf("literal %q\n", p.Lit)
		}
	}
	// Output:
	// hello greet hello.smw:2:22-50
	// literal "echo Hello, "
	// interpolation "input.name" at hello.smw:2:37-47
	// literal "!"
}

func ExampleParse_syntaxError() {
	src := []byte("workflow w {\n  step a {\n    value = 1\n")
	_, diags := parser.Parse("w.smw", src)
	for _, d := range diags {
		fmt.Println(d)
	}
	// Output:
	// w.smw:4:1: error[syntax]: unexpected end of file, expected "}" to close the step block opened at 2:10
}
