package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/smithc/smithc/runtime/store"
)

// queueTask commits attempt num of node id at scope of run as a task, in
// one batch with the attempt's start.
func queueTask(t *testing.T, s store.Store, run, id, scope string, num, sec int) {
	t.Helper()
	err := s.BatchCommit(context.Background(), &store.Batch{
		AttemptStarts: []*store.Attempt{{RunID: run, NodeID: id, Scope: scope, Number: num, State: store.AttemptRunning, StartedAt: at(sec)}},
		Tasks: []*store.Task{{RunID: run, NodeID: id, Scope: scope, Number: num, Action: "shell", State: store.TaskQueued,
			Input: json.RawMessage(`{"prev":null}`), CreatedAt: at(sec)}},
	})
	if err != nil {
		t.Fatalf("queue task %s[%s] #%d: %v", id, scope, num, err)
	}
}

func taskOf(t *testing.T, s store.TaskStore, run, id, scope string) *store.Task {
	t.Helper()
	ts, err := s.TaskList(context.Background(), &store.TaskListParams{RunID: run})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ts {
		if x.NodeID == id && x.Scope == scope {
			return x
		}
	}
	t.Fatalf("no task %s[%s] in run %s", id, scope, run)
	return nil
}

// testTask: the task queue of step-level distribution, for stores that
// have one (store.TaskStore): claims, leases, fencing, reaping.
func testTask(t *testing.T, s store.Store) {
	ts, ok := s.(store.TaskStore)
	if !ok {
		t.Skip("the store has no task queue (store.TaskStore)")
	}
	ctx := context.Background()
	mustRun(t, s, "r1")
	queueTask(t, s, "r1", "s", "", 1, 1)
	if q := taskOf(t, ts, "r1", "s", ""); q.State != store.TaskQueued || q.Token != 0 || q.Number != 1 || string(q.Input) != `{"prev":null}` {
		t.Fatalf("queued task = %+v", q)
	}
	if n, err := ts.TaskQueued(ctx); err != nil || n != 1 {
		t.Errorf("TaskQueued = %d, %v", n, err)
	}
	got, err := ts.TaskClaim(ctx, &store.TaskClaimParams{Owner: "w1", Limit: 5, LeaseExpiresAt: at(10), Now: at(2)})
	if err != nil || len(got) != 1 {
		t.Fatalf("TaskClaim = %v, %v", got, err)
	}
	if c := got[0]; c.State != store.TaskRunning || c.LeaseOwner != "w1" || c.Token != 1 || !c.LeaseExpiresAt.Equal(at(10)) || c.Action != "shell" {
		t.Errorf("claimed task = %+v", c)
	}
	atts, err := s.AttemptList(ctx, &store.AttemptListParams{RunID: "r1"})
	if err != nil || len(atts) != 1 || atts[0].Owner != "w1" || !atts[0].LeaseExpiresAt.Equal(at(10)) {
		t.Errorf("the claimed task's attempt = %+v, %v; want owner w1 with its lease", atts, err)
	}
	if again, err := ts.TaskClaim(ctx, &store.TaskClaimParams{Owner: "w2", Limit: 5, LeaseExpiresAt: at(10), Now: at(2)}); err != nil || len(again) != 0 {
		t.Errorf("a second claim took %v, %v", again, err)
	}
	hb := func(owner string, token int64) error {
		return ts.TaskHeartbeat(ctx, &store.TaskHeartbeatParams{RunID: "r1", NodeID: "s", Number: 1, Owner: owner, Token: token, LeaseExpiresAt: at(20), Now: at(3)})
	}
	wantErr(t, "TaskHeartbeat by another owner", hb("w2", 1), store.ErrConflict)
	wantErr(t, "TaskHeartbeat with an old token", hb("w1", 0), store.ErrConflict)
	if err := hb("w1", 1); err != nil {
		t.Fatal(err)
	}
	if c := taskOf(t, ts, "r1", "s", ""); !c.LeaseExpiresAt.Equal(at(20)) {
		t.Errorf("lease after heartbeat = %v", c.LeaseExpiresAt)
	}
	complete := func(num int, owner string, token int64, out string) error {
		return ts.TaskComplete(ctx, &store.TaskCompleteParams{RunID: "r1", NodeID: "s", Number: num, Owner: owner, Token: token,
			State: store.TaskFinished, Output: json.RawMessage(out), Now: at(4)})
	}
	wantErr(t, "TaskComplete with an old token", complete(1, "w1", 0, `{"value":0}`), store.ErrConflict)
	wantErr(t, "TaskComplete of another attempt", complete(2, "w1", 1, `{"value":0}`), store.ErrConflict)
	if err := complete(1, "w1", 1, `{"value":1}`); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "TaskComplete twice", complete(1, "w1", 1, `{"value":2}`), store.ErrConflict)
	if c := taskOf(t, ts, "r1", "s", ""); c.State != store.TaskFinished || string(c.Output) != `{"value":1}` || !c.FinishedAt.Equal(at(4)) {
		t.Errorf("completed task = %+v", c)
	}

	// The next attempt replaces the row and keeps the token, so that the
	// claim of attempt 2 fences out anything still holding token 1.
	queueTask(t, s, "r1", "s", "", 2, 5)
	if q := taskOf(t, ts, "r1", "s", ""); q.State != store.TaskQueued || q.Number != 2 || q.Token != 1 || q.Output != nil || q.LeaseOwner != "" {
		t.Errorf("re-queued task = %+v", q)
	}
	got, err = ts.TaskClaim(ctx, &store.TaskClaimParams{Owner: "w2", Limit: 1, LeaseExpiresAt: at(10), Now: at(6)})
	if err != nil || len(got) != 1 || got[0].Token != 2 || got[0].Number != 2 {
		t.Fatalf("claim of attempt 2 = %+v, %v", got, err)
	}
	abandon := func(num int, token int64, force bool, sec int) error {
		return ts.TaskAbandon(ctx, &store.TaskAbandonParams{RunID: "r1", NodeID: "s", Number: num, Token: token, Force: force, Now: at(sec)})
	}
	wantErr(t, "TaskAbandon within the lease", abandon(2, 2, false, 7), store.ErrConflict)
	wantErr(t, "TaskAbandon of another attempt", abandon(1, 2, false, 11), store.ErrConflict)
	wantErr(t, "TaskAbandon with an old token", abandon(2, 1, false, 11), store.ErrConflict)
	if err := abandon(2, 2, false, 11); err != nil {
		t.Fatalf("reaping an expired lease: %v", err)
	}
	// The worker that lost the lease comes back: refused.
	if err := ts.TaskComplete(ctx, &store.TaskCompleteParams{RunID: "r1", NodeID: "s", Number: 2, Owner: "w2", Token: 2,
		State: store.TaskFailed, Failure: json.RawMessage(`{"kind":"exit"}`), Now: at(12)}); err == nil {
		t.Error("a completion after the task was reaped was accepted")
	} else {
		wantErr(t, "late TaskComplete", err, store.ErrConflict)
	}
	if c := taskOf(t, ts, "r1", "s", ""); c.State != store.TaskAbandoned || c.Failure != nil {
		t.Errorf("reaped task = %+v", c)
	}
	// Force abandons a running task within its lease (a cancelled run);
	// a queued one is abandoned without it.
	queueTask(t, s, "r1", "s", "", 3, 13)
	if err := abandon(3, 2, false, 13); err != nil {
		t.Errorf("abandoning a queued task: %v", err)
	}
	queueTask(t, s, "r1", "s", "", 4, 14)
	if _, err := ts.TaskClaim(ctx, &store.TaskClaimParams{Owner: "w1", Limit: 1, LeaseExpiresAt: at(30), Now: at(14)}); err != nil {
		t.Fatal(err)
	}
	if err := abandon(4, 3, true, 15); err != nil {
		t.Errorf("force-abandoning a running task: %v", err)
	}

	// Concurrent claimers each get distinct tasks (SKIP LOCKED), and a
	// claim limited to some runs takes only theirs.
	mustRun(t, s, "r2")
	for i := 0; i < 30; i++ {
		queueTask(t, s, "r2", "f", fmt.Sprintf("F[%d]", i), 1, 20+i)
	}
	queueTask(t, s, "r1", "only", "", 1, 60)
	only, err := ts.TaskClaim(ctx, &store.TaskClaimParams{Owner: "w9", Limit: 10, RunIDs: []string{"r1"}, LeaseExpiresAt: at(90), Now: at(61)})
	if err != nil || len(only) != 1 || only[0].NodeID != "only" {
		t.Errorf("claim limited to run r1 = %+v, %v", only, err)
	}
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("c%d", w)
			for {
				got, err := ts.TaskClaim(ctx, &store.TaskClaimParams{Owner: owner, Limit: 3, LeaseExpiresAt: at(90), Now: at(61)})
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, c := range got {
					if prev, dup := seen[c.Scope]; dup {
						t.Errorf("task %s claimed by %s and %s", c.Scope, prev, owner)
					}
					seen[c.Scope] = owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 30 {
		t.Errorf("%d of 30 tasks claimed", len(seen))
	}
	some, err := ts.TaskList(ctx, &store.TaskListParams{RunID: "r2", Only: []store.TaskKey{{NodeID: "f", Scope: "F[3]"}, {NodeID: "f", Scope: "F[17]"}, {NodeID: "g", Scope: "F[3]"}}})
	if err != nil || len(some) != 2 || some[0].Scope != "F[17]" || some[1].Scope != "F[3]" {
		t.Errorf("TaskList of two instances = %+v, %v", some, err)
	}
	if n, err := ts.TaskQueued(ctx); err != nil || n != 0 {
		t.Errorf("TaskQueued after the claims = %d, %v", n, err)
	}
}
