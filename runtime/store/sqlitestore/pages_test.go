package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// walFramesPerCommit commits n batches shaped like the runtime's commit of
// one compute step in durability full (the node row, its attempt started
// and finished in the same transaction, three events, fenced on the
// run's claim), each in its own transaction, and returns the WAL frames
// (pages) written per commit. Automatic checkpoints are off, and so is
// the background checkpointer, so that the WAL keeps every frame: with
// it, the truncation after the warm-up could find the checkpoint lock
// taken, and the count held the warm-up's frames too (8.95 pages per
// commit, seen once).
func walFramesPerCommit(tb testing.TB, n int) float64 {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(tb.TempDir(), "pages.db"), Options{CheckpointFrames: -1})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: "run-1", Workflow: "seq", Status: store.RunRunning}, Now: now}); err != nil {
		tb.Fatal(err)
	}
	run, err := s.RunClaim(ctx, &store.RunClaimParams{ID: "run-1", Owner: "me", LeaseExpiresAt: now.Add(time.Hour), Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	fence := &store.Fence{RunID: "run-1", Owner: "me", Token: run.Fence}
	batch := func(i int) *store.Batch {
		id := fmt.Sprintf("s%d", i)
		t := now.Add(time.Duration(i) * time.Millisecond)
		return &store.Batch{Fence: fence,
			Nodes: []*store.Node{{RunID: "run-1", NodeID: id, Kind: "step", State: store.NodeFinished, Attempts: 1,
				Output: []byte(fmt.Sprint(i)), StartedAt: t, FinishedAt: t, UpdatedAt: t}},
			AttemptStarts: []*store.Attempt{{RunID: "run-1", NodeID: id, Number: 1, State: store.AttemptFinished, Owner: "me",
				LeaseExpiresAt: t.Add(time.Minute), HeartbeatAt: t, StartedAt: t, FinishedAt: t}},
			Events: []*store.Event{
				{RunID: "run-1", NodeID: id, Kind: "NodeStarted", Time: t},
				{RunID: "run-1", NodeID: id, Attempt: 1, Kind: "AttemptStarted", Time: t},
				{RunID: "run-1", NodeID: id, Attempt: 1, Kind: "NodeFinished", Time: t},
			}}
	}
	// Warm up: the statements are prepared, the tables have some pages.
	for i := 0; i < 200; i++ {
		if err := s.BatchCommit(ctx, batch(i)); err != nil {
			tb.Fatal(err)
		}
	}
	var busy, frames, done int
	if err := s.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &done); err != nil {
		tb.Fatal(err)
	}
	if busy != 0 || frames != 0 {
		tb.Fatalf("the WAL was not truncated after the warm-up (busy %d, %d frames left): the count would hold them", busy, frames)
	}
	if _, err := s.w.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0`); err != nil {
		tb.Fatal(err)
	}
	for i := 200; i < 200+n; i++ {
		if err := s.BatchCommit(ctx, batch(i)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := s.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &done); err != nil {
		tb.Fatal(err)
	}
	return float64(frames) / float64(n)
}

// TestStepCommitPages bounds the pages one step commit writes to the WAL:
// the node row (holding its first attempt) and the events (one row) land on few pages (no
// sqlite_sequence row, no index the step does not need).
func TestStepCommitPages(t *testing.T) {
	got := walFramesPerCommit(t, 200)
	t.Logf("%.2f WAL pages per step commit", got)
	if got > 5 {
		t.Errorf("a step commit writes %.2f WAL pages, want at most 5 (9.6 before migration 0005, 6.6 before 0006)", got)
	}
}

// BenchmarkStepCommitPages reports the WAL pages written per step commit.
func BenchmarkStepCommitPages(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.ReportMetric(walFramesPerCommit(b, 500), "pages/commit")
	}
	b.ReportMetric(0, "ns/op")
}

// TestTypeViewReadsPartialIndex: a type view's query is answered from
// the partial index node_type_idx, not by scanning every node row.
func TestTypeViewReadsPartialIndex(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "views.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.TypeViewsEnsure(ctx, &store.TypeViewsEnsureParams{Types: []*schema.Type{{Kind: schema.Int, Name: "Score"}}}); err != nil {
		t.Fatal(err)
	}
	if got := queryPlan(t, s, `SELECT * FROM "Score"`); !strings.Contains(got, "node_type_idx") {
		t.Errorf("the type view's plan is %q, want it to use node_type_idx", got)
	}
}

// TestAgentRepliesReadFromTheirIndex: EventList of the indexed kind is
// answered from event_agent_reply_idx, not by reading every event row of
// the run (storetest's IndexedKind checks what it finds, a data-less
// reply among data-less events of another kind too: that kind is never
// grouped).
func TestAgentRepliesReadFromTheirIndex(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "replies.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q, args := eventListSQL(&store.EventListParams{RunID: "r", Kind: store.IndexedEventKind})
	if got := queryPlan(t, s, q, args...); !strings.Contains(got, "event_agent_reply_idx") {
		t.Errorf("the plan of EventList(Kind: %s) is %q, want it to use event_agent_reply_idx", store.IndexedEventKind, got)
	}
}

// queryPlan is SQLite's EXPLAIN QUERY PLAN of q, its lines joined by "; ".
func queryPlan(t *testing.T, s *Store, q string, args ...any) string {
	t.Helper()
	rows, err := s.r.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "; ")
}
