package pgstore_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/smithc/smithc/internal/pgtest"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/pgstore"
	"github.com/smithc/smithc/runtime/store/storetest"
	"github.com/smithc/smithc/schema"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func openTemp(t *testing.T, opts pgstore.Options) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), pgtest.NewDatabase(t), opts)
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
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t, pgstore.Options{}) })
}

func TestMigrateUpDownUp(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s, err := pgstore.Open(ctx, url, pgstore.Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	steps := []struct {
		dir     pgstore.Direction
		want    []int
		version int
	}{
		{pgstore.Up, []int{1, 2, 3, 4, 5, 6, 7, 8}, 8},
		{pgstore.Up, nil, 8},
		{pgstore.Down, []int{8, 7, 6, 5, 4, 3, 2, 1}, 0},
		{pgstore.Down, nil, 0},
		{pgstore.Up, []int{1, 2, 3, 4, 5, 6, 7, 8}, 8},
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
	// A migration numbered below the latest applied one and not applied
	// (a branch's, merged later) is applied by the next Up: here 5, whose
	// effect is undone and record removed by hand.
	if _, err := s.Pool().Exec(ctx, `ALTER TABLE attempt DROP COLUMN pid_start; ALTER TABLE attempt DROP COLUMN pid;
		DELETE FROM schema_migration WHERE version = 5`); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Migrate(ctx, pgstore.Up, 0); err != nil || !cmp.Equal(got, []int{5}) {
		t.Errorf("up after a gap applied %v, %v; want [5]", got, err)
	}
	if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: "r", Workflow: "w", Status: store.RunRunning}, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.TypeViewsEnsure(ctx, &store.TypeViewsEnsureParams{Types: []*schema.Type{{Kind: schema.Object, Name: "T"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx, pgstore.Down, 0); err != nil {
		t.Fatalf("down with a view: %v", err)
	}
	var n int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
		WHERE ns.nspname = current_schema() AND c.relkind IN ('r', 'v')`).Scan(&n); err != nil || n != 1 {
		t.Errorf("after down: %d tables and views left (want only schema_migration), %v", n, err)
	}
	// Several processes opening one fresh database at once migrate it once.
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			s2, err := pgstore.Open(ctx, url, pgstore.Options{})
			if err == nil {
				s2.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent open: %v", err)
		}
	}
	if v, _ := s.Version(ctx); v != 8 {
		t.Errorf("version after reopen = %d", v)
	}
}

func TestTypeViewQuery(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, pgstore.Options{})
	typ := &schema.Type{Kind: schema.Object, Name: "Analysis", Fields: []*schema.Field{
		{Name: "summary", Type: schema.StringType}, {Name: "risk", Type: schema.EnumOf("low", "high")},
		{Name: "run_id", Type: schema.StringType}, {Name: "score", Type: schema.FloatType, Optional: true},
		{Name: "n", Type: schema.IntType, Optional: true}, {Name: "tags", Type: schema.ListOf(schema.StringType), Optional: true},
	}}
	if err := s.TypeViewsEnsure(ctx, &store.TypeViewsEnsureParams{Types: []*schema.Type{typ}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: "r1", Workflow: "w", Status: store.RunRunning}, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	nodes := []*store.Node{
		{RunID: "r1", NodeID: "analyze", State: store.NodeFinished, OutputType: "Analysis",
			Output: json.RawMessage(`{"summary":"ok","risk":"low","run_id":"x","score":0.5,"n":3,"tags":["a"]}`)},
		{RunID: "r1", NodeID: "loop.a", Scope: "L#2", Iteration: 2, State: store.NodeFinished, OutputType: "Analysis",
			Output: json.RawMessage(`{"summary":"it","risk":"high"}`)},
		{RunID: "r1", NodeID: "other", State: store.NodeFinished, OutputType: "Other", Output: json.RawMessage(`{"summary":"no"}`)},
		{RunID: "r1", NodeID: "failed", State: store.NodeFailed, OutputType: "Analysis"},
	}
	if err := s.NodeUpsert(ctx, &store.NodeUpsertParams{Nodes: nodes}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Pool().Query(ctx, `SELECT node_id, iteration, summary, risk, field_run_id, score, n, tags::text
		FROM "Analysis" WHERE run_id = $1 AND score IS DISTINCT FROM 7 ORDER BY node_id`, "r1")
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
		N          *int64
		Tags       *string
	}
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.Node, &r.Iteration, &r.Summary, &r.Risk, &r.FieldRunID, &r.Score, &r.N, &r.Tags); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	x, half, three, tags := "x", 0.5, int64(3), `["a"]`
	want := []row{{"analyze", 0, "ok", "low", &x, &half, &three, &tags}, {"loop.a", 2, "it", "high", nil, nil, nil, nil}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("view rows (-want +got):\n%s", diff)
	}
	// The view can read its rows through the partial node_type_idx (only
	// finished nodes with an output type are in it).
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	var plan []string
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	prow, err := tx.Query(ctx, `EXPLAIN SELECT node_id FROM "Analysis"`)
	if err != nil {
		t.Fatal(err)
	}
	if plan, err = pgx.CollectRows(prow, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan, "\n"), "node_type_idx") {
		t.Errorf("the view's plan does not use node_type_idx:\n%s", strings.Join(plan, "\n"))
	}
}

// TestJSONBRoundTrip: outputs are JSONB, read back compact; a NUL escape
// (which JSONB refuses) is stored as U+FFFD, an escaped backslash before
// "u0000" is kept.
func TestJSONBRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, pgstore.Options{})
	if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: "r1", Workflow: "w", Status: store.RunRunning}, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		`{"b": [1, 2.5, "x"], "a": {"c": null}}`: `{"a":{"c":null},"b":[1,2.5,"x"]}`,
		`{"s":"nul\u0000here"}`:                  `{"s":"nul` + "\ufffd" + `here"}`,
		`{"s":"lit\\u0000eral"}`:                 `{"s":"lit\\u0000eral"}`,
		`12345678901234567890`:                   `12345678901234567890`,
	}
	for in, want := range cases {
		if err := s.NodeUpsert(ctx, &store.NodeUpsertParams{Nodes: []*store.Node{{RunID: "r1", NodeID: "n", State: store.NodeFinished,
			Output: json.RawMessage(in)}}}); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		n, err := s.NodeGet(ctx, &store.NodeGetParams{RunID: "r1", NodeID: "n"})
		if err != nil {
			t.Fatal(err)
		}
		if string(n.Output) != want {
			t.Errorf("%s stored as %s, want %s", in, n.Output, want)
		}
	}
}

// TestNotifications: a run created, an approval decided, a signal sent
// and a cancel request are notified with the run id.
func TestNotifications(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := openTemp(t, pgstore.Options{})
	ch, err := s.Notifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next := func(what string) {
		t.Helper()
		select {
		case id := <-ch:
			if id != "r1" {
				t.Errorf("%s: notified %q, want r1", what, id)
			}
		case <-ctx.Done():
			t.Fatalf("%s: no notification", what)
		}
	}
	now := time.Now()
	if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: "r1", Workflow: "w", Status: store.RunRunning}, Now: now}); err != nil {
		t.Fatal(err)
	}
	next("create")
	if err := s.ApprovalRequest(ctx, &store.ApprovalRequestParams{Approval: &store.Approval{RunID: "r1", NodeID: "gate", RequestedAt: now}}); err != nil {
		t.Fatal(err)
	}
	next("request")
	if _, err := s.ApprovalDecide(ctx, &store.ApprovalDecideParams{RunID: "r1", NodeID: "gate", Approved: true, Now: now}); err != nil {
		t.Fatal(err)
	}
	next("decide")
	if _, err := s.SignalSend(ctx, &store.SignalSendParams{RunID: "r1", Name: "go", Now: now}); err != nil {
		t.Fatal(err)
	}
	next("signal")
	if _, err := s.RunCancelRequest(ctx, &store.RunCancelRequestParams{ID: "r1", Now: now}); err != nil {
		t.Fatal(err)
	}
	next("cancel")
}
