package sqlitestore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
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
		{sqlitestore.Up, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}, 9},
		{sqlitestore.Up, nil, 9},
		{sqlitestore.Down, []int{9, 8, 7, 6, 5, 4, 3, 2, 1}, 0},
		{sqlitestore.Down, nil, 0},
		{sqlitestore.Up, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}, 9},
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
	if v, _ := s2.Version(ctx); v != 9 {
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
	if got, err := s.Migrate(ctx, sqlitestore.Up, 5); err != nil || len(got) != 1 || got[0] != 5 {
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

// TestEventRunsShareARow checks the storage of data-less events: the
// NodeStarted, AttemptStarted and NodeFinished of 3 steps committed
// together are one row of the event table, and read back as 9 events.
func TestEventRunsShareARow(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "e.db")
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC()
	var evs []*store.Event
	for _, node := range []string{"a", "b", "c"} {
		evs = append(evs,
			&store.Event{RunID: "r1", NodeID: node, Kind: "NodeStarted", Time: now},
			&store.Event{RunID: "r1", NodeID: node, Attempt: 1, Kind: "AttemptStarted", Time: now.Add(time.Microsecond)},
			&store.Event{RunID: "r1", NodeID: node, Attempt: 1, Kind: "NodeFinished", Time: now.Add(2 * time.Microsecond)})
	}
	if err := s.BatchCommit(ctx, &store.Batch{Events: evs}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows int
	if err := db.QueryRow(`SELECT count(*) FROM event WHERE run_id = 'r1'`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Errorf("the events of 3 steps are %d rows, want 1", rows)
	}
	got, err := s.EventList(ctx, &store.EventListParams{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(evs, got); d != "" {
		t.Errorf("EventList (-want +got):\n%s", d)
	}
}

// fanoutEvents returns the events of n for elements of a run as a group
// commit has them: interleaved across elements (instances with scopes,
// node ids and iterations of all sorts, text included that JSON
// escapes), kinds repeated, and now and then an event with data (a row
// of its own) or of another run.
func fanoutEvents(run string, n int, now time.Time) []*store.Event {
	var evs []*store.Event
	scope := func(i int) string {
		return []string{fmt.Sprintf("F[%d]", i), fmt.Sprintf(`M["k %d"]/G[0]`, i), "", "<&>\t\u2028é"}[i%4]
	}
	for i := 0; i < n; i++ {
		t := now.Add(time.Duration(i) * time.Millisecond)
		node := []string{"w", "step-2", "a"}[i%3]
		evs = append(evs, &store.Event{RunID: run, NodeID: node, Scope: scope(i), Iteration: i % 5, Kind: "NodeStarted", Time: t})
		if i > 0 {
			p := evs[len(evs)-2] // the element before's finish comes after this start
			evs = append(evs, &store.Event{RunID: run, NodeID: p.NodeID, Scope: p.Scope, Iteration: p.Iteration, Attempt: 1, Kind: "NodeFinished", Time: t})
		}
		evs = append(evs, &store.Event{RunID: run, NodeID: node, Scope: scope(i), Iteration: i % 5, Attempt: 1, Kind: "AttemptStarted", Time: t.Add(time.Microsecond)})
		if i%17 == 5 {
			evs = append(evs, &store.Event{RunID: run, NodeID: node, Scope: scope(i), Kind: "StepLog", Time: t, Data: json.RawMessage(`{"line":"x"}`)})
		}
		if i%23 == 7 {
			evs = append(evs, &store.Event{RunID: "other", NodeID: node, Kind: "NodeStarted", Time: t})
		}
	}
	return evs
}

// TestEventBlocksAcrossInstances: the data-less events of many node
// instances committed together share rows of at most 32 events, and read
// back exactly: in full, after a seq inside a row, by kind with a limit
// (paging through them as the live view does).
func TestEventBlocksAcrossInstances(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "b.db")
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs := fanoutEvents("r1", 200, time.Now().UTC())
	if err := s.BatchCommit(ctx, &store.Batch{Events: evs}); err != nil {
		t.Fatal(err)
	}
	var mine []*store.Event
	breaks := 0 // events that end a row: with data, or of another run
	for _, e := range evs {
		if e.RunID == "r1" {
			mine = append(mine, e)
		}
		if e.RunID != "r1" || e.Data != nil {
			breaks++
		}
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, most int
	if err := db.QueryRow(`SELECT count(*), max(length(kind) - length(replace(kind, ',', '')) + 1) FROM event WHERE run_id = 'r1'`).Scan(&rows, &most); err != nil {
		t.Fatal(err)
	}
	if limit := len(mine)/32 + 2*breaks + 1; rows > limit || most > 32 {
		t.Errorf("%d events are %d rows of up to %d events, want at most %d rows of up to 32", len(mine), rows, most, limit)
	}
	got, err := s.EventList(ctx, &store.EventListParams{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(mine, got); d != "" {
		t.Fatalf("EventList (-want +got):\n%s", d)
	}
	for _, after := range []int{1, 17, 100, len(mine) - 1} {
		got, err := s.EventList(ctx, &store.EventListParams{RunID: "r1", AfterSeq: mine[after-1].Seq})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(mine[after:], got); d != "" {
			t.Errorf("EventList after the %dth event (-want +got):\n%s", after, d)
		}
	}
	var finished []*store.Event
	for _, e := range mine {
		if e.Kind == "NodeFinished" {
			finished = append(finished, e)
		}
	}
	var paged []*store.Event
	for after := int64(0); ; {
		page, err := s.EventList(ctx, &store.EventListParams{RunID: "r1", AfterSeq: after, Kind: "NodeFinished", Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 7 {
			t.Fatalf("a page of %d events, limit 7", len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1].Seq
	}
	if d := cmp.Diff(finished, paged); d != "" {
		t.Errorf("NodeFinished events paged by 7 (-want +got):\n%s", d)
	}
}

// TestEventBlocksDownAndUp checks migration 0007 both ways: migrating
// down splits the rows that hold several instances into one row per
// event (what a smithc before 0007 reads: no row has an instance in its
// data), and the events read back the same before, after and up again.
func TestEventBlocksDownAndUp(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "d.db")
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs := fanoutEvents("r1", 120, time.Now().UTC())
	if err := s.BatchCommit(ctx, &store.Batch{Events: evs}); err != nil {
		t.Fatal(err)
	}
	// a step's own row (one instance) is a row a smithc before 0007 reads
	step := []*store.Event{{RunID: "r2", NodeID: "s", Kind: "NodeStarted", Time: time.Now().UTC()},
		{RunID: "r2", NodeID: "s", Attempt: 1, Kind: "NodeFinished", Time: time.Now().UTC()}}
	if err := s.BatchCommit(ctx, &store.Batch{Events: step}); err != nil {
		t.Fatal(err)
	}
	byRun := func() map[string][]*store.Event {
		out := map[string][]*store.Event{}
		for _, run := range []string{"r1", "r2", "other"} {
			got, err := s.EventList(ctx, &store.EventListParams{RunID: run})
			if err != nil {
				t.Fatal(err)
			}
			out[run] = got
		}
		return out
	}
	want := byRun()
	if len(want["r1"])+len(want["other"])+len(want["r2"]) != len(evs)+len(step) {
		t.Fatalf("read %d events, wrote %d", len(want["r1"])+len(want["other"])+len(want["r2"]), len(evs)+len(step))
	}
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	count := func(q string) int {
		var n int
		if err := raw.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const mixed = `SELECT count(*) FROM event WHERE instr(kind, ',') > 0
		AND EXISTS (SELECT 1 FROM json_each(event.data) x WHERE json_array_length(x.value) = 5)`
	if count(mixed) == 0 {
		t.Fatal("no event row holds several instances")
	}
	if _, err := s.Migrate(ctx, sqlitestore.Down, 6); err != nil {
		t.Fatal(err)
	}
	if n := count(mixed); n != 0 {
		t.Errorf("after migrating down, %d rows hold several instances", n)
	}
	if n := count(`SELECT count(*) FROM event WHERE run_id = 'r2'`); n != 1 {
		t.Errorf("after migrating down, the step's events are %d rows, want its 1", n)
	}
	if d := cmp.Diff(want, byRun()); d != "" {
		t.Errorf("events after migrating down (-want +got):\n%s", d)
	}
	if _, err := s.Migrate(ctx, sqlitestore.Up, 0); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, byRun()); d != "" {
		t.Errorf("events down and up again (-want +got):\n%s", d)
	}
	if _, err := s.Migrate(ctx, sqlitestore.Down, 5); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM event WHERE instr(kind, ',') > 0`); n != 0 {
		t.Errorf("after migrating down to 5, %d rows hold several events", n)
	}
	if d := cmp.Diff(want, byRun()); d != "" {
		t.Errorf("events after migrating down to 5 (-want +got):\n%s", d)
	}
}

// TestCompactStepsDownAndUp checks migration 0006 both ways: a compute
// step's first attempt kept in its node row and its events kept in one
// row read back as written, and migrating down puts them back in rows
// of their own (what a smithc before 0006 reads).
func TestCompactStepsDownAndUp(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC()
	if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: "r1", Workflow: "w", Status: store.RunRunning}, Now: now}); err != nil {
		t.Fatal(err)
	}
	att := &store.Attempt{RunID: "r1", NodeID: "s", Number: 1, State: store.AttemptFinished, Owner: "1@h",
		LeaseExpiresAt: now.Add(time.Minute), HeartbeatAt: now, StartedAt: now, FinishedAt: now.Add(time.Millisecond)}
	evs := []*store.Event{
		{RunID: "r1", NodeID: "s", Kind: "NodeStarted", Time: now},
		{RunID: "r1", NodeID: "s", Attempt: 1, Kind: "AttemptStarted", Time: now},
		{RunID: "r1", NodeID: "s", Attempt: 1, Kind: "NodeFinished", Time: now.Add(time.Millisecond)},
	}
	node := &store.Node{RunID: "r1", NodeID: "s", State: store.NodeFinished, Attempts: 1, Output: json.RawMessage(`1`),
		StartedAt: now, FinishedAt: now.Add(time.Millisecond), UpdatedAt: now.Add(time.Millisecond)}
	if err := s.BatchCommit(ctx, &store.Batch{Nodes: []*store.Node{node}, AttemptStarts: []*store.Attempt{att}, Events: evs}); err != nil {
		t.Fatal(err)
	}
	// a later write of the node row keeps its attempt
	if err := s.NodeUpsert(ctx, &store.NodeUpsertParams{Nodes: []*store.Node{node}}); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	count := func(q string) int {
		var n int
		if err := raw.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if a, e := count(`SELECT count(*) FROM attempt`), count(`SELECT count(*) FROM event WHERE run_id = 'r1'`); a != 0 || e != 1 {
		t.Errorf("a compute step is %d attempt rows and %d event rows, want 0 and 1", a, e)
	}
	check := func(when string) {
		t.Helper()
		got, err := s.AttemptList(ctx, &store.AttemptListParams{RunID: "r1"})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]*store.Attempt{att}, got); d != "" {
			t.Errorf("%s: attempts (-want +got):\n%s", when, d)
		}
		gotEv, err := s.EventList(ctx, &store.EventListParams{RunID: "r1"})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(evs, gotEv); d != "" {
			t.Errorf("%s: events (-want +got):\n%s", when, d)
		}
	}
	check("written")
	if _, err := s.Migrate(ctx, sqlitestore.Down, 5); err != nil {
		t.Fatal(err)
	}
	if a, e := count(`SELECT count(*) FROM attempt`), count(`SELECT count(*) FROM event WHERE run_id = 'r1' AND instr(kind, ',') = 0`); a != 1 || e != 3 {
		t.Errorf("after migrating down: %d attempt rows and %d event rows, want 1 and 3", a, e)
	}
	if _, err := s.Migrate(ctx, sqlitestore.Up, 0); err != nil {
		t.Fatal(err)
	}
	check("down and up again")
	// resetting a node keeps its attempt, in the attempt table
	att2 := *att
	att2.NodeID = "t"
	node2 := *node
	node2.NodeID = "t"
	if err := s.BatchCommit(ctx, &store.Batch{Nodes: []*store.Node{&node2}, AttemptStarts: []*store.Attempt{&att2}}); err != nil {
		t.Fatal(err)
	}
	if a := count(`SELECT count(*) FROM attempt`); a != 1 {
		t.Fatalf("%d attempt rows before the reset, want 1", a)
	}
	if _, err := s.NodeReset(ctx, &store.NodeResetParams{RunID: "r1", NodeIDs: []string{"t"}}); err != nil {
		t.Fatal(err)
	}
	if a := count(`SELECT count(*) FROM attempt`); a != 2 {
		t.Errorf("%d attempt rows after the reset, want 2", a)
	}
	got, err := s.AttemptList(ctx, &store.AttemptListParams{RunID: "r1"})
	if d := cmp.Diff([]*store.Attempt{att, &att2}, got); err != nil || d != "" {
		t.Errorf("attempts after a reset (-want +got):\n%s %v", d, err)
	}
	got, err = s.AttemptList(ctx, &store.AttemptListParams{RunID: "r1", State: store.AttemptFinished})
	if err != nil || len(got) != 2 {
		t.Errorf("finished attempts after a reset = %d, %v", len(got), err)
	}
}

// TestCloseLeavesAnEmptyLog: the last close checkpoints every commit into
// the database file and truncates the -wal file to zero bytes, keeping it
// (and -shm) for the next process; the database file alone, copied
// elsewhere, holds the committed run; a reopen reads it and writes again.
func TestCloseLeavesAnEmptyLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "s.db")
	for i, id := range []string{"r1", "r2"} {
		s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: id, Workflow: "w", Status: store.RunRunning}, Now: time.Now()}); err != nil {
			t.Fatal(err)
		}
		// a batch: the statements BatchCommit prepares on the writer's
		// connection are closed with it (else SQLite keeps the connection
		// open, and its log unchecked)
		if err := s.BatchCommit(ctx, &store.Batch{Nodes: []*store.Node{{RunID: id, NodeID: "a", State: store.NodeFinished, UpdatedAt: time.Now()}},
			Events: []*store.Event{{RunID: id, NodeID: "a", Kind: "NodeFinished", Time: time.Now()}}}); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
			t.Fatalf("open %d: the log before close: %v, %v (want the commit in it)", i, fi, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		for _, suffix := range []string{"-wal", "-shm"} {
			fi, err := os.Stat(path + suffix)
			if err != nil {
				t.Fatalf("after close %d: %v", i, err)
			}
			if suffix == "-wal" && fi.Size() != 0 {
				t.Fatalf("after close %d: the -wal file has %d bytes, want 0", i, fi.Size())
			}
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	alone := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(alone, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := sqlitestore.Open(ctx, alone, sqlitestore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, id := range []string{"r1", "r2"} {
		if _, err := c.RunGetByID(ctx, &store.RunGetByIDParams{ID: id}); err != nil {
			t.Errorf("the database file alone: run %s: %v", id, err)
		}
	}
}

// TestFenceSeenAcrossConnections: a fenced batch skips reading the run
// row while nothing else wrote since the last one (data_version and the
// writer's own transactions unchanged); a take-over by another
// connection (another process) or through this store in between, and
// events another connection appends, are seen by the next batch.
func TestFenceSeenAcrossConnections(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "f.db")
	open := func() *sqlitestore.Store {
		s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	now := time.Now()
	for _, id := range []string{"r1", "r2"} {
		if _, err := a.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: id, Workflow: "w", Status: store.RunRunning}, Now: now}); err != nil {
			t.Fatal(err)
		}
	}
	claims := 0
	claim := func(s *sqlitestore.Store, owner string) *store.Fence {
		at := now.Add(time.Duration(claims) * 2 * time.Hour) // the last lease lapsed
		claims++
		r, err := s.RunClaim(ctx, &store.RunClaimParams{ID: "r1", Owner: owner, LeaseExpiresAt: at.Add(time.Hour), Now: at})
		if err != nil {
			t.Fatal(err)
		}
		return &store.Fence{RunID: "r1", Owner: owner, Token: r.Fence}
	}
	n := 0
	batch := func(f *store.Fence) *store.Batch {
		n++
		return &store.Batch{Fence: f,
			Nodes:  []*store.Node{{RunID: "r1", NodeID: fmt.Sprintf("s%d", n), Kind: "step", State: store.NodeFinished, UpdatedAt: now}},
			Events: []*store.Event{{RunID: "r1", NodeID: fmt.Sprintf("s%d", n), Kind: "NodeStarted", Time: now}, {RunID: "r1", NodeID: fmt.Sprintf("s%d", n), Kind: "NodeFinished", Time: now}}}
	}
	mine := claim(a, "1@a")
	for range 3 {
		if err := a.BatchCommit(ctx, batch(mine)); err != nil {
			t.Fatal(err)
		}
	}
	// Another connection appends events (another run's): the next batch
	// numbers its own after them.
	for range 3 {
		if err := b.BatchCommit(ctx, &store.Batch{Events: []*store.Event{{RunID: "r2", Kind: "K", Time: now}}}); err != nil {
			t.Fatal(err)
		}
		if err := a.BatchCommit(ctx, batch(mine)); err != nil {
			t.Fatalf("after another connection's events: %v", err)
		}
	}
	// Another connection takes the run over.
	theirs := claim(b, "2@b")
	if err := a.BatchCommit(ctx, batch(mine)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a batch with the fence another connection replaced: %v, want a conflict", err)
	}
	if err := b.BatchCommit(ctx, batch(theirs)); err != nil {
		t.Fatal(err)
	}
	// A take-over through the same store (the same connection: no
	// data_version change).
	if err := b.BatchCommit(ctx, batch(theirs)); err != nil {
		t.Fatal(err)
	}
	claim(b, "3@b")
	if err := b.BatchCommit(ctx, batch(theirs)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a batch with the fence this store replaced: %v, want a conflict", err)
	}
	evs, err := a.EventList(ctx, &store.EventListParams{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2*8 {
		t.Fatalf("%d events of r1, want %d (refused batches write nothing)", len(evs), 2*8)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Seq <= evs[i-1].Seq {
			t.Fatalf("event seqs %d then %d", evs[i-1].Seq, evs[i].Seq)
		}
	}
}
