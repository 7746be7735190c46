package store

import "context"

// RunStateParams are the arguments of RunStateLoader.RunState.
type RunStateParams struct {
	RunID string
	// Tasks also lists the run's tasks (a TaskStore's TaskList).
	Tasks bool
}

// RunState is what a session reads of a run when it continues it.
type RunState struct {
	Nodes    []*Node    // as NodeList
	Attempts []*Attempt // as AttemptList
	Tasks    []*Task    // as TaskList, when asked for
}

// RunStateLoader is implemented by stores that read a run's nodes,
// attempts and tasks together, in one round trip (PostgreSQL: one
// pipelined batch), instead of three. Each list is what its own List
// method would return at about the same moment; the lists are not one
// snapshot (neither are three separate calls).
type RunStateLoader interface {
	RunState(ctx context.Context, p *RunStateParams) (*RunState, error)
}
