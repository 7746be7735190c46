// Package chain is the Temporal side of the peers benchmark: a workflow of
// n local activities in sequence, each adding one to the previous one's
// result. Both the measuring program (warm worker) and the one-shot worker
// program in ../once (fresh process) register it.
package chain

import (
	"context"
	"time"

	"go.temporal.io/sdk/workflow"
)

// Chain runs n local activities in sequence, each on the previous one's
// result.
func Chain(ctx workflow.Context, n int) (int, error) {
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	v := 0
	for i := 0; i < n; i++ {
		if err := workflow.ExecuteLocalActivity(ctx, Step, v).Get(ctx, &v); err != nil {
			return 0, err
		}
	}
	return v, nil
}

// Step is the compute step: it adds one.
func Step(_ context.Context, v int) (int, error) { return v + 1, nil }
