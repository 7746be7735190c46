package sqlitestore_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
	"github.com/smithc/smithc/runtime/store/storetest"
	"github.com/smithc/smithc/schema"
)

func openTemp(t *testing.T) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "smithers.db"), sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestMigrateUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	steps := []struct {
		dir     sqlitestore.Direction
		want    []int
		version int
	}{
		{sqlitestore.Up, []int{1, 2, 3, 4, 5}, 5},
		{sqlitestore.Up, nil, 5},
		{sqlitestore.Down, []int{5, 4, 3, 2, 1}, 0},
		{sqlitestore.Down, nil, 0},
		{sqlitestore.Up, []int{1, 2, 3, 4, 5}, 5},
	}
	for i, st := range steps {
		got, err := s.Migrate(ctx, st.dir, 0)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("step %d applied (-want +got):\n%s", i, diff)
		}
		v, err := s.Version(ctx)
		if err != nil || v != st.version {
			t.Errorf("step %d: version %d, %v; want %d", i, v, err, st.version)
		}
	}
	// The schema works after up-down-up, views included.
	if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: "r", Workflow: "w", Status: store.RunRunning}, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.TypeViewsEnsure(ctx, &store.TypeViewsEnsureParams{Types: []*schema.Type{{Kind: schema.Object, Name: "T"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx, sqlitestore.Down, 0); err != nil {
		t.Fatalf("down with a view: %v", err)
	}
	// Reopening migrates up again.
	s2, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if v, _ := s2.Version(ctx); v != 5 {
		t.Errorf("version after reopen = %d", v)
	}
}

func TestTypeViewQuery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t)
	typ := &schema.Type{Kind: schema.Object, Name: "Analysis", Fields: []*schema.Field{
		{Name: "summary", Type: schema.StringType}, {Name: "risk", Type: schema.StringType},
		{Name: "run_id", Type: schema.StringType}, {Name: "score", Type: schema.FloatType, Optional: true},
	}}
	if err := s.TypeViewsEnsure(ctx, &store.TypeViewsEnsureParams{Types: []*schema.Type{typ}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: "r1", Workflow: "w", Status: store.RunRunning}, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	nodes := []*store.Node{
		{RunID: "r1", NodeID: "analyze", State: store.NodeFinished, OutputType: "Analysis",
			Output: json.RawMessage(`{"summary":"ok","risk":"low","run_id":"x","score":0.5}`)},
		{RunID: "r1", NodeID: "loop.a", Scope: "L#2", Iteration: 2, State: store.NodeFinished, OutputType: "Analysis",
			Output: json.RawMessage(`{"summary":"it","risk":"high"}`)},
		{RunID: "r1", NodeID: "other", State: store.NodeFinished, OutputType: "Other", Output: json.RawMessage(`{"summary":"no"}`)},
		{RunID: "r1", NodeID: "failed", State: store.NodeFailed, OutputType: "Analysis"},
	}
	if err := s.NodeUpsert(ctx, &store.NodeUpsertParams{Nodes: nodes}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.DB().QueryContext(ctx, `SELECT node_id, iteration, summary, risk, field_run_id, score FROM Analysis WHERE run_id = ? ORDER BY node_id`, "r1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type row struct {
		Node       string
		Iteration  int
		Summary    string
		Risk       string
		FieldRunID *string
		Score      *float64
	}
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.Node, &r.Iteration, &r.Summary, &r.Risk, &r.FieldRunID, &r.Score); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	x, half := "x", 0.5
	want := []row{{"analyze", 0, "ok", "low", &x, &half}, {"loop.a", 2, "it", "high", nil, nil}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("view rows (-want +got):\n%s", diff)
	}
}

// TestConcurrentOpenOfANewFile: several openers racing to create and
// migrate one new file all succeed (one switches it to WAL while the
// others wait or retry).
func TestConcurrentOpenOfANewFile(t *testing.T) {
	t.Parallel()
	for round := 0; round < 5; round++ {
		path := filepath.Join(t.TempDir(), "new.db")
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			go func() {
				s, err := sqlitestore.Open(context.Background(), path, sqlitestore.Options{})
				if err == nil {
					err = s.Close()
				}
				errs <- err
			}()
		}
		for i := 0; i < 8; i++ {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}

// TestMigrateLeanEventsKeepsSeqs: migration 0005 (event.seq without
// AUTOINCREMENT) keeps every event and its seq, and later events still
// get larger seqs.
func TestMigrateLeanEventsKeepsSeqs(t *testing.T) {
	ctx := context.Background()
	s, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "m.db"), sqlitestore.Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx, sqlitestore.Up, 4); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ev := func(kind string) *store.Event { return &store.Event{RunID: "r1", Kind: kind, Time: now} }
	before := []*store.Event{ev("A"), ev("B"), ev("C")}
	if err := s.EventAppend(ctx, &store.EventAppendParams{Events: before}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Migrate(ctx, sqlitestore.Up, 0); err != nil || len(got) != 1 || got[0] != 5 {
		t.Fatalf("migrate up: %v %v", got, err)
	}
	after := []*store.Event{ev("D")}
	if err := s.EventAppend(ctx, &store.EventAppendParams{Events: after}); err != nil {
		t.Fatal(err)
	}
	if after[0].Seq <= before[2].Seq {
		t.Errorf("seq after the migration %d, want more than %d", after[0].Seq, before[2].Seq)
	}
	got, err := s.EventList(ctx, &store.EventListParams{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for i, e := range got {
		kinds = append(kinds, e.Kind)
		if i < 3 && e.Seq != before[i].Seq {
			t.Errorf("event %s has seq %d after the migration, %d before", e.Kind, e.Seq, before[i].Seq)
		}
	}
	if d := cmp.Diff([]string{"A", "B", "C", "D"}, kinds); d != "" {
		t.Errorf("events after the migration (-want +got):\n%s", d)
	}
}
