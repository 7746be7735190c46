package stdlib

import (
	"context"

	"github.com/smithc/smithc/runtime"
)

// callAction runs `call WORKFLOW { input = {...} }` as a child run.
type callAction struct{}

// Run implements runtime.Action.
func (callAction) Run(ctx context.Context, a *runtime.Attempt) (any, error) {
	if a.Step.Call == "" {
		return nil, stepErr(runtime.ErrKindInternal, "call step names no workflow")
	}
	if a.CallFunc == nil {
		return nil, stepErr(runtime.ErrKindInternal, "call %s: this runtime cannot run child workflows", a.Step.Call)
	}
	input, err := evalArg(a, "input")
	if err != nil {
		return nil, err
	}
	if input == nil {
		input = map[string]any{}
	}
	return a.CallFunc(ctx, a.Step.Call, input)
}
