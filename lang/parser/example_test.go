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

func ExampleParseRecovered() {
	src := []byte(`type Verdict {
  ok bool
}

workflow judge {
  step a { value 1 }
  step b { value = 2 }
  step c {
    output: Verdict
    value = { ok: true }
  }
}

workflow greet {
  step hello { run = "echo hello" }
}
`)
	f, skipped, diags := parser.ParseRecovered("j.smw", src)
	for _, d := range diags {
		fmt.Println(d)
	}
	for _, d := range f.Decls {
		fmt.Println("parsed", d.(*ast.WorkflowDecl).Name.Name)
	}
	for _, k := range skipped {
		fmt.Println("skipped", k.Kind, k.Name, k.Range)
	}
	// Output:
	// j.smw:2:6-10: error[syntax]: unexpected "bool", expected ":" and a type after field name "ok"
	// j.smw:6:18: error[syntax]: unexpected "1", expected "=" or "{" after "value"
	// parsed greet
	// skipped type Verdict j.smw:1:1-3:2
	// skipped workflow judge j.smw:5:1-12:2
}
