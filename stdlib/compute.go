package stdlib

import (
	"context"

	"github.com/smithc/smithc/runtime"
)

// computeAction evaluates `value = EXPR`.
type computeAction struct{}

// Run implements runtime.Action.
func (computeAction) Run(_ context.Context, a *runtime.Attempt) (any, error) {
	if a.Step.Args["value"] == nil {
		return nil, stepErr(runtime.ErrKindInternal, "compute step has no value")
	}
	return evalArg(a, "value")
}
