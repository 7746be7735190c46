package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/pgstore"
)

// TestRunState checks that RunState's one round trip reads what
// NodeList, AttemptList and TaskList read, for a run with several of
// each, and nothing of another run.
func TestRunState(t *testing.T) {
	s := openTemp(t, pgstore.Options{})
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, id := range []string{"r1", "r2"} {
		if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: id, Workflow: "w", Status: store.RunRunning}, Now: now}); err != nil {
			t.Fatal(err)
		}
	}
	b := &store.Batch{}
	for _, run := range []string{"r1", "r2"} {
		for _, n := range []string{"b", "a"} {
			b.Nodes = append(b.Nodes, &store.Node{RunID: run, NodeID: n, Kind: "step", State: store.NodeRunning, Attempts: 2, UpdatedAt: now})
			for num := 1; num <= 2; num++ {
				b.AttemptStarts = append(b.AttemptStarts, &store.Attempt{RunID: run, NodeID: n, Number: num, State: store.AttemptRunning,
					Owner: "o", StartedAt: now, LeaseExpiresAt: now.Add(time.Minute)})
			}
			b.Tasks = append(b.Tasks, &store.Task{RunID: run, NodeID: n, Number: 2, Action: "shell", State: store.TaskQueued, CreatedAt: now})
		}
	}
	if err := s.BatchCommit(ctx, b); err != nil {
		t.Fatal(err)
	}
	nodes, err := s.NodeList(ctx, &store.NodeListParams{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	attempts, err := s.AttemptList(ctx, &store.AttemptListParams{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := s.TaskList(ctx, &store.TaskListParams{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 2 || len(attempts) != 4 || len(tasks) != 2 {
		t.Fatalf("run r1 has %d nodes, %d attempts, %d tasks, want 2, 4, 2", len(nodes), len(attempts), len(tasks))
	}
	got, err := s.RunState(ctx, &store.RunStateParams{RunID: "r1", Tasks: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&store.RunState{Nodes: nodes, Attempts: attempts, Tasks: tasks}, got); diff != "" {
		t.Errorf("RunState differs from the lists (-lists +RunState):\n%s", diff)
	}
	got, err = s.RunState(ctx, &store.RunStateParams{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&store.RunState{Nodes: nodes, Attempts: attempts}, got); diff != "" {
		t.Errorf("RunState without tasks differs (-want +got):\n%s", diff)
	}
	if got, err = s.RunState(ctx, &store.RunStateParams{RunID: "nope", Tasks: true}); err != nil || len(got.Nodes)+len(got.Attempts)+len(got.Tasks) != 0 {
		t.Errorf("RunState of an unknown run = %+v, %v; want nothing", got, err)
	}
}
