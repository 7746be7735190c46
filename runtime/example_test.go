package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
	"github.com/smithc/smithc/schema"
)

// ExampleEngine_Start runs a two-step workflow on a SQLite file: the
// second step reads the first one's output.
func ExampleEngine_Start() {
	dir, err := os.MkdirTemp("", "smithc-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, "smithers.db"), sqlitestore.Options{})
	if err != nil {
		panic(err)
	}
	defer st.Close()

	compute := runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		return a.Eval(a.Step.Args["value"])
	})
	e, err := runtime.New(runtime.Config{Store: st, Actions: runtime.Actions{"compute": compute}, Dir: dir})
	if err != nil {
		panic(err)
	}

	greet := &ir.Node{ID: "greet", Kind: ir.KindStep, Step: &ir.Step{Action: "compute",
		Args: map[string]*ir.Expr{"value": {Src: `"hello " + input.name`}}}}
	shout := &ir.Node{ID: "shout", Kind: ir.KindStep, Deps: []string{"greet"}, Step: &ir.Step{Action: "compute",
		Args: map[string]*ir.Expr{"value": {Src: `upper(greet)`, Names: map[string]string{"greet": "greet"}}}}}
	wf := &ir.Workflow{Name: "hello", Input: schema.ObjectOf(&schema.Field{Name: "name", Type: schema.StringType}),
		Root: &ir.Node{Kind: ir.KindSequence, Children: []*ir.Node{greet, shout}}, SourceHash: "example"}
	prog := &ir.Program{Workflows: []*ir.Workflow{wf}, SourceHash: "example"}

	res, err := e.Start(ctx, runtime.StartParams{Program: prog, Input: map[string]any{"name": "ann"}, RunID: "r1"})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.RunID, res.Status, res.Output)
	// Output: r1 finished HELLO ANN
}
