package stdlib

import "github.com/smithc/smithc/schema"

// Specs declares the standard actions to the checker (LANGUAGE.md §5).
// Each call returns fresh values, so callers may keep or modify them.
func Specs() []schema.ActionSpec {
	return []schema.ActionSpec{computeSpec(), shellSpec(), httpSpec(), agentSpec(), callSpec()}
}

func computeSpec() schema.ActionSpec {
	return schema.ActionSpec{
		Name:      ActionCompute,
		Selectors: []string{"value"},
		Attrs: []schema.AttrSpec{
			{Name: "value", Type: schema.AnyType, Required: true, Doc: "the expression whose value is the step's output"},
		},
		Doc: "Evaluates an expression; its value is the step's output.",
	}
}

func shellSpec() schema.ActionSpec {
	return schema.ActionSpec{
		Name:      ActionShell,
		Selectors: []string{"run", "exec"},
		Attrs: []schema.AttrSpec{
			{Name: "run", Type: schema.StringType, Doc: "a shell script run with /bin/sh -c; every ${...} becomes shell-quoted words",
				CheckTemplateFunc: checkShellTemplate},
			{Name: "exec", Type: schema.ListOf(schema.AnyType), Doc: "a program and its arguments, run without a shell"},
			{Name: "cwd", Type: schema.StringType, Doc: "the working directory, relative to the run's (or worktree's) directory"},
			{Name: "allow_failure", Type: schema.BoolType, Const: true, Doc: "a non-zero exit code does not fail the step"},
		},
		Blocks: []schema.BlockSpec{
			{Name: "env", FreeForm: schema.AnyType, Doc: "environment variables added to the process's environment"},
		},
		Output: schema.ObjectOf(
			&schema.Field{Name: "stdout", Type: schema.StringType},
			&schema.Field{Name: "stderr", Type: schema.StringType},
			&schema.Field{Name: "exit_code", Type: schema.IntType},
		),
		ParsesDeclaredOutput: true,
		Doc:                  "Runs a shell script or a program; with a declared output, stdout is parsed as JSON.",
	}
}

func httpSpec() schema.ActionSpec {
	return schema.ActionSpec{
		Name:      ActionHTTP,
		Selectors: []string{"http"},
		Blocks: []schema.BlockSpec{{
			Name:     "http",
			Required: true,
			Attrs: []schema.AttrSpec{
				{Name: "method", Type: schema.StringType, Const: true, Doc: `the request method; default "GET"`},
				{Name: "url", Type: schema.StringType, Required: true, Doc: "the absolute http or https URL"},
				{Name: "body", Type: schema.AnyType, Doc: "a string is sent as it is; any other value as JSON"},
				{Name: "allow_status", Type: schema.ListOf(schema.IntType), Const: true, Doc: "non-2xx statuses that do not fail the step"},
				{Name: "follow_redirects", Type: schema.BoolType, Const: true, Doc: "false: a redirect response is the result instead of being followed; default true"},
			},
			Blocks: []schema.BlockSpec{
				{Name: "headers", FreeForm: schema.StringType, Doc: "request headers"},
			},
			Doc: "the request",
		}},
		Output: schema.ObjectOf(
			&schema.Field{Name: "status", Type: schema.IntType},
			&schema.Field{Name: "headers", Type: schema.AnyType},
			&schema.Field{Name: "body", Type: schema.StringType},
			// json is null when the response is not JSON; a field of type
			// any may be null.
			&schema.Field{Name: "json", Type: schema.AnyType},
		),
		Doc: "Sends an HTTP request; a status outside 2xx fails the step unless allowed.",
	}
}

func agentSpec() schema.ActionSpec {
	return schema.ActionSpec{
		Name:      ActionAgent,
		Selectors: []string{"agent"},
		Attrs: []schema.AttrSpec{
			{Name: "agent", Ref: "agent", Required: true, Doc: "the agent declaration to ask"},
			{Name: "prompt", Type: schema.StringType, Required: true, Doc: "the prompt, usually a template"},
			{Name: "cwd", Type: schema.StringType, Doc: "the agent's working directory, relative to the run's (or worktree's) directory"},
		},
		Output: schema.ObjectOf(
			&schema.Field{Name: "text", Type: schema.StringType},
			&schema.Field{Name: "session_id", Type: schema.StringType},
		),
		ParsesDeclaredOutput: true,
		Doc:                  "Asks an AI agent; with a declared output, the reply must be JSON of that type.",
	}
}

func callSpec() schema.ActionSpec {
	return schema.ActionSpec{
		Name:      ActionCall,
		Selectors: []string{"call"},
		Blocks: []schema.BlockSpec{{
			Name:     "call",
			Label:    "workflow",
			Required: true,
			Attrs: []schema.AttrSpec{
				{Name: "input", Type: schema.AnyType, Doc: "the called workflow's input"},
			},
			Doc: "the workflow to run as a child run",
		}},
		Doc: "Runs another workflow of the program as a child run; its output is the step's output.",
	}
}
