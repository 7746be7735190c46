package checker

import "github.com/smithc/smithc/schema"

// testSpecs declares the five standard actions as LANGUAGE.md §5 describes
// them, the way stdlib.Specs does (the checker never imports stdlib).
func testSpecs() []schema.ActionSpec {
	return []schema.ActionSpec{
		{
			Name: "compute", Selectors: []string{"value"},
			Attrs: []schema.AttrSpec{{Name: "value", Type: schema.AnyType, Required: true}},
		},
		{
			Name: "shell", Selectors: []string{"run", "exec"},
			Attrs: []schema.AttrSpec{
				{Name: "run", Type: schema.StringType},
				{Name: "exec", Type: schema.ListOf(schema.AnyType)},
				{Name: "cwd", Type: schema.StringType},
				{Name: "allow_failure", Type: schema.BoolType, Const: true},
			},
			Blocks: []schema.BlockSpec{{Name: "env", FreeForm: schema.StringType}},
			Output: schema.ObjectOf(
				&schema.Field{Name: "stdout", Type: schema.StringType},
				&schema.Field{Name: "stderr", Type: schema.StringType},
				&schema.Field{Name: "exit_code", Type: schema.IntType},
			),
			ParsesDeclaredOutput: true,
		},
		{
			Name: "http", Selectors: []string{"http"},
			Blocks: []schema.BlockSpec{{
				Name: "http", Required: true,
				Attrs: []schema.AttrSpec{
					{Name: "method", Type: schema.StringType, Const: true},
					{Name: "url", Type: schema.StringType, Required: true},
					{Name: "body", Type: schema.AnyType},
					{Name: "allow_status", Type: schema.ListOf(schema.IntType), Const: true},
				},
				Blocks: []schema.BlockSpec{{Name: "headers", FreeForm: schema.StringType}},
			}},
			Output: schema.ObjectOf(
				&schema.Field{Name: "status", Type: schema.IntType},
				&schema.Field{Name: "headers", Type: schema.AnyType},
				&schema.Field{Name: "body", Type: schema.StringType},
				&schema.Field{Name: "json", Type: schema.AnyType},
			),
		},
		{
			Name: "agent", Selectors: []string{"agent"},
			Attrs: []schema.AttrSpec{
				{Name: "agent", Ref: "agent", Required: true},
				{Name: "prompt", Type: schema.StringType, Required: true},
			},
			Output:               schema.ObjectOf(&schema.Field{Name: "text", Type: schema.StringType}),
			ParsesDeclaredOutput: true,
		},
		{
			Name: "call", Selectors: []string{"call"},
			Blocks: []schema.BlockSpec{{
				Name: "call", Label: "workflow", Required: true,
				Attrs: []schema.AttrSpec{{Name: "input", Type: schema.AnyType}},
			}},
		},
	}
}
