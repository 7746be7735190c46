package worker

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

// DefaultTasks is the default of Config.Tasks.
const DefaultTasks = 4

// tasks claims and executes the tasks of any run (step-level
// distribution, see runtime.Config.Distribute) until ctx ends: it claims
// as many queued tasks as it has free slots (FOR UPDATE SKIP LOCKED),
// whenever a task is queued (a notification) and every PollInterval,
// and relays completion notices to the engine's waiting sessions. Once
// draining ends (the worker is stopping) it claims only the tasks of the
// runs it still holds; once ctx ends it stops claiming and gives the
// tasks under way DrainTimeout before handing them back.
func (w *Worker) tasks(ctx, draining context.Context, ts store.TaskStore) {
	var notes <-chan store.TaskNote
	if n, ok := w.st.(store.TaskNotifier); ok {
		ch, err := n.TaskNotifications(ctx)
		if err != nil {
			w.cfg.Logf("task notifications unavailable, polling every %s: %v", w.cfg.PollInterval, err)
		} else {
			notes = ch
		}
	}
	tctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	var wg sync.WaitGroup
	free := make(chan struct{}, w.cfg.Tasks)
	for i := 0; i < w.cfg.Tasks; i++ {
		free <- struct{}{}
	}
	slotsDone := make(chan struct{}, w.cfg.Tasks)
	tick := time.NewTicker(w.cfg.PollInterval)
	defer tick.Stop()
	depth := time.Now()
	for {
		if time.Since(depth) >= w.cfg.PollInterval {
			depth = time.Now()
			if n, err := ts.TaskQueued(ctx); err == nil {
				w.cfg.Metrics.setTaskQueue(n)
			}
		}
		var only []string
		if draining.Err() != nil {
			only = w.held()
		}
		if draining.Err() == nil || len(only) > 0 {
			w.claimTasks(ctx, tctx, ts, only, free, slotsDone, &wg)
		}
		select {
		case <-ctx.Done():
			w.drainTasks(&wg, cancel)
			return
		case n, ok := <-notes:
			if !ok {
				notes = nil
				continue
			}
			w.relay(n)
			// Take the burst of notes at once: one claim for them all.
			for more := true; more; {
				select {
				case n, ok := <-notes:
					if !ok {
						notes, more = nil, false
					} else {
						w.relay(n)
					}
				default:
					more = false
				}
			}
		case <-slotsDone:
		case <-tick.C:
		}
	}
}

// held lists the runs this worker executes.
func (w *Worker) held() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.busy))
	for id := range w.busy {
		out = append(out, id)
	}
	return out
}

func (w *Worker) relay(n store.TaskNote) {
	if n.Done || n.RunID == "" {
		w.cfg.Engine.TaskNotify(n)
	}
}

// claimTasks claims up to the free slots and starts each task.
func (w *Worker) claimTasks(ctx, tctx context.Context, ts store.TaskStore, only []string, free chan struct{}, slotsDone chan struct{}, wg *sync.WaitGroup) {
	for ctx.Err() == nil {
		n := len(free)
		if n == 0 {
			return
		}
		now := time.Now()
		claimed, err := ts.TaskClaim(ctx, &store.TaskClaimParams{Owner: w.owner, Limit: n, RunIDs: only,
			LeaseExpiresAt: now.Add(w.cfg.Engine.LeaseDuration()), Now: now})
		if err != nil {
			if ctx.Err() == nil {
				w.cfg.Logf("claim tasks: %v", err)
			}
			return
		}
		if len(claimed) == 0 {
			return
		}
		for _, t := range claimed {
			<-free
			w.cfg.Metrics.taskClaimed(t, now)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					free <- struct{}{}
					select {
					case slotsDone <- struct{}{}:
					default:
					}
				}()
				w.executeTask(tctx, t)
			}()
		}
		if len(claimed) < n {
			return
		}
	}
}

// executeTask executes one claimed task and logs what became of it.
func (w *Worker) executeTask(ctx context.Context, t *store.Task) {
	err := w.cfg.Engine.ExecuteTask(ctx, t)
	switch {
	case err == nil:
		w.cfg.Metrics.taskEnded("completed")
	case errors.Is(err, runtime.ErrTaskLost):
		w.cfg.Metrics.taskEnded("dropped")
		w.cfg.Logf("%v", err)
	case ctx.Err() != nil:
		w.cfg.Metrics.taskEnded("handed_back")
		w.cfg.Logf("%s: handed back", taskName(t))
	default:
		w.cfg.Metrics.taskEnded("error")
		w.cfg.Logf("%s: %v", taskName(t), err)
	}
}

func taskName(t *store.Task) string {
	s := "run " + t.RunID + " step " + t.NodeID
	if t.Scope != "" {
		s += " [" + t.Scope + "]"
	}
	return s
}

// drainTasks waits up to DrainTimeout for the tasks under way, then hands
// the rest back.
func (w *Worker) drainTasks(wg *sync.WaitGroup, cancel context.CancelFunc) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-time.After(w.cfg.DrainTimeout):
	}
	cancel()
	<-done
}
