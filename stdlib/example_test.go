package stdlib_test

import (
	"context"
	"fmt"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/schema"
	"github.com/smithc/smithc/stdlib"
)

func ExampleShellQuote() {
	fmt.Println(stdlib.ShellQuote("main.go"))
	fmt.Println(stdlib.ShellQuote("it's; rm -rf /"))
	fmt.Println(stdlib.ShellQuote(""))
	// Output:
	// main.go
	// 'it'\''s; rm -rf /'
	// ''
}

func ExampleExtractJSON() {
	reply := "Here is my review:\n```json\n{\"risk\": \"low\", \"files\": 3}\n```\nLet me know!"
	v, err := stdlib.ExtractJSON(reply, schema.ObjectOf(
		&schema.Field{Name: "risk", Type: schema.StringType},
		&schema.Field{Name: "files", Type: schema.IntType},
	))
	fmt.Println(v, err)
	// Output:
	// map[files:3 risk:low] <nil>
}

func ExampleSpecs() {
	for _, s := range stdlib.Specs() {
		fmt.Println(s.Name, s.Selectors, s.Output)
	}
	// Output:
	// compute [value] <nil>
	// shell [run exec] { stdout: string, stderr: string, exit_code: int }
	// http [http] { status: int, headers: any, body: string, json: any }
	// agent [agent] { text: string, session_id: string }
	// call [call] <nil>
}

func ExampleActions() {
	actions := stdlib.Actions(stdlib.Config{})
	step := &ir.Step{Action: "shell", Args: map[string]*ir.Expr{"exec": {Src: `["echo", "hello"]`}}}
	a := &runtime.Attempt{
		Step: step,
		// The runtime evaluates expressions; this stand-in knows one.
		EvalFunc: func(e *ir.Expr) (any, error) { return []any{"echo", "hello; world"}, nil },
	}
	out, err := actions["shell"].Run(context.Background(), a)
	fmt.Printf("%q %v\n", out.(map[string]any)["stdout"], err)
	// Output:
	// "hello; world\n" <nil>
}
