package runtime

import (
	"context"
	"fmt"

	"github.com/smithc/smithc/runtime/store"
)

// loadState reads what a session continues from: the run's nodes, its
// attempts and (with a task store) its tasks. A run Start just created
// (fresh) has no nodes and no attempts yet: only its tasks are asked
// for. A store that reads the three together (store.RunStateLoader,
// PostgreSQL) does it in one round trip.
func (r *runner) loadState(ctx context.Context, fresh bool) ([]*store.Node, []*store.Attempt, []*store.Task, error) {
	if fresh {
		tasks, err := r.loadTasks(ctx)
		return nil, nil, tasks, err
	}
	if l, ok := r.e.cfg.Store.(store.RunStateLoader); ok {
		st, err := l.RunState(ctx, &store.RunStateParams{RunID: r.run.ID, Tasks: r.taskStore() != nil})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("runtime: load run %s: %w", r.run.ID, err)
		}
		return st.Nodes, st.Attempts, st.Tasks, nil
	}
	rows, err := r.e.cfg.Store.NodeList(ctx, &store.NodeListParams{RunID: r.run.ID})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("runtime: load run %s: %w", r.run.ID, err)
	}
	all, err := r.e.cfg.Store.AttemptList(ctx, &store.AttemptListParams{RunID: r.run.ID})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("runtime: load run %s: %w", r.run.ID, err)
	}
	tasks, err := r.loadTasks(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	return rows, all, tasks, nil
}
