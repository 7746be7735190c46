package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// Run runs the conformance suite. newStore returns a fresh, migrated,
// empty store for each subtest; closing it is newStore's business (use
// t.Cleanup).
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := map[string]func(t *testing.T, s store.Store){
		"Run":          testRun,
		"RunClaim":     testRunClaim,
		"RunClaimRace": testRunClaimRace,
		"RunListFree":  testRunListFree,
		"Node":         testNode,
		"Attempt":      testAttempt,
		"Event":        testEvent,
		"EventRuns":    testEventRuns,
		"Approval":     testApproval,
		"Signal":       testSignal,
		"Cache":        testCache,
		"Batch":        testBatch,
		"Views":        testViews,
		"Sources":      testSources,
		"FencePause":   testFencePause,
		"Task":         testTask,
		"LongInput":    testLongInput,
		"NoInputReads": testNoInputReads,
		"NoOutputList": testNoOutputList,
		"ListFilters":  testListFilters,
		"IndexedKind":  testIndexedKind,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, newStore(t))
		})
	}
}

// t0 is the suite's fixed clock origin.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func ptr[T any](v T) *T { return &v }

func mustRun(t *testing.T, s store.Store, id string) *store.Run {
	t.Helper()
	r, err := s.RunCreate(context.Background(), &store.RunCreateParams{
		Run: &store.Run{ID: id, Workflow: "wf", SourceHash: "h1", Input: json.RawMessage(`{"a":1}`),
			Status: store.RunRunning, Owner: "1@host", OwnerStart: "s1", LeaseExpiresAt: at(10)},
		Now: at(0),
	})
	if err != nil {
		t.Fatalf("RunCreate: %v", err)
	}
	return r
}

// testLongInput: an input of 300 KB (past SQLite's row, see
// sqlitestore's inputApart) reads back byte for byte through RunGetByID
// and RunList, after updates of the run's row, and beside a run with an
// empty one.
func testLongInput(t *testing.T, s store.Store) {
	ctx := context.Background()
	long := json.RawMessage(`{"text":"` + strings.Repeat("é", 150_000) + `"}`)
	for id, in := range map[string]json.RawMessage{"long": long, "none": nil} {
		if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: id, Workflow: "wf", Input: in,
			Status: store.RunRunning, Owner: "1@host", LeaseExpiresAt: at(10), Fence: 1}, Now: at(0)}); err != nil {
			t.Fatalf("RunCreate %s: %v", id, err)
		}
	}
	for i := 1; i <= 3; i++ {
		if _, err := s.RunHeartbeat(ctx, &store.RunHeartbeatParams{ID: "long", Owner: "1@host", LeaseExpiresAt: at(10 + i), Now: at(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RunUpdate(ctx, &store.RunUpdateParams{ID: "long", Status: ptr(store.RunFinished), Output: json.RawMessage(`2`), Now: at(5)}); err != nil {
		t.Fatal(err)
	}
	r, err := s.RunGetByID(ctx, &store.RunGetByIDParams{ID: "long"})
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Input) != string(long) || r.Status != store.RunFinished {
		t.Fatalf("RunGetByID: status %s, input of %d bytes, want %d", r.Status, len(r.Input), len(long))
	}
	runs, err := s.RunList(ctx, &store.RunListParams{})
	if err != nil || len(runs) != 2 {
		t.Fatalf("RunList: %d runs, %v", len(runs), err)
	}
	for _, r := range runs {
		want := map[string]string{"long": string(long), "none": "null"}[r.ID]
		if got := string(r.Input); got != want && !(r.ID == "none" && got == "") {
			t.Errorf("RunList: run %s input of %d bytes, want %d", r.ID, len(got), len(want))
		}
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func testRun(t *testing.T, s store.Store) {
	ctx := context.Background()
	created := mustRun(t, s, "r1")
	got, err := s.RunGetByID(ctx, &store.RunGetByIDParams{ID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(created, got); diff != "" {
		t.Errorf("RunGetByID (-created +got):\n%s", diff)
	}
	if string(got.Input) != `{"a":1}` || got.Output != nil || !got.CreatedAt.Equal(at(0)) {
		t.Errorf("stored run = %+v", got)
	}
	_, err = s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: "r1", Workflow: "wf", Status: store.RunRunning}, Now: at(1)})
	wantErr(t, "duplicate RunCreate", err, store.ErrConflict)
	_, err = s.RunGetByID(ctx, &store.RunGetByIDParams{ID: "nope"})
	wantErr(t, "RunGetByID missing", err, store.ErrNotFound)

	r2, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: "r2", Workflow: "other", Status: store.RunFinished}, Now: at(5)})
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.RunList(ctx, &store.RunListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"r2", "r1"}, runIDs(list)); diff != "" {
		t.Errorf("RunList order (-want +got):\n%s", diff)
	}
	list, err = s.RunList(ctx, &store.RunListParams{Statuses: []store.RunStatus{store.RunRunning}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"r1"}, runIDs(list)); diff != "" {
		t.Errorf("RunList by status (-want +got):\n%s", diff)
	}
	list, err = s.RunList(ctx, &store.RunListParams{Workflow: "other", Limit: 5})
	if err != nil || len(list) != 1 || list[0].ID != r2.ID {
		t.Errorf("RunList by workflow = %v, %v", runIDs(list), err)
	}

	up, err := s.RunUpdate(ctx, &store.RunUpdateParams{ID: "r1", Status: ptr(store.RunFinished),
		Output: json.RawMessage(`{"ok":true}`), Error: ptr(""), FinishedAt: ptr(at(7)), Now: at(7)})
	if err != nil {
		t.Fatal(err)
	}
	if up.Status != store.RunFinished || string(up.Output) != `{"ok":true}` || !up.FinishedAt.Equal(at(7)) || up.Owner != "1@host" {
		t.Errorf("after RunUpdate: %+v", up)
	}
	_, err = s.RunUpdate(ctx, &store.RunUpdateParams{ID: "r1", IfOwner: ptr("2@host"), Status: ptr(store.RunFailed), Now: at(8)})
	wantErr(t, "RunUpdate IfOwner mismatch", err, store.ErrConflict)
	_, err = s.RunUpdate(ctx, &store.RunUpdateParams{ID: "nope", Status: ptr(store.RunFailed), Now: at(8)})
	wantErr(t, "RunUpdate missing", err, store.ErrNotFound)

	c, err := s.RunCancelRequest(ctx, &store.RunCancelRequestParams{ID: "r1", Now: at(9)})
	if err != nil || !c.CancelRequested {
		t.Errorf("RunCancelRequest = %+v, %v", c, err)
	}
}

func runIDs(rs []*store.Run) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func testRunClaim(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustRun(t, s, "r1") // owned by 1@host, lease until at(10)
	tests := []struct {
		name    string
		p       store.RunClaimParams
		wantErr error
	}{
		{"other owner, live lease", store.RunClaimParams{Owner: "2@host", Now: at(5)}, store.ErrConflict},
		{"same owner", store.RunClaimParams{Owner: "1@host", OwnerStart: "s1", Now: at(5)}, nil},
		{"pid reused", store.RunClaimParams{Owner: "1@host", OwnerStart: "s9", Now: at(5)}, store.ErrConflict},
		{"stale owner named", store.RunClaimParams{Owner: "2@host", ExpectOwner: "1@host", Now: at(5)}, nil},
		{"lease lapsed", store.RunClaimParams{Owner: "2@host", Now: at(11)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Reset the owner.
			if _, err := s.RunUpdate(ctx, &store.RunUpdateParams{ID: "r1", Owner: ptr("1@host"), OwnerStart: ptr("s1"),
				LeaseExpiresAt: ptr(at(10)), CancelRequested: ptr(true), Now: at(0)}); err != nil {
				t.Fatal(err)
			}
			p := tt.p
			p.ID, p.LeaseExpiresAt, p.ClearCancel = "r1", at(100), true
			r, err := s.RunClaim(ctx, &p)
			if tt.wantErr != nil {
				wantErr(t, "RunClaim", err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("RunClaim: %v", err)
			}
			if r.Owner != p.Owner || !r.LeaseExpiresAt.Equal(at(100)) || r.CancelRequested {
				t.Errorf("claimed run = owner %q lease %v cancel %v", r.Owner, r.LeaseExpiresAt, r.CancelRequested)
			}
		})
	}
	// Free run.
	if _, err := s.RunUpdate(ctx, &store.RunUpdateParams{ID: "r1", Owner: ptr(""), Now: at(0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunClaim(ctx, &store.RunClaimParams{ID: "r1", Owner: "3@h", Now: at(1), LeaseExpiresAt: at(2)}); err != nil {
		t.Errorf("claim of a free run: %v", err)
	}
	// Heartbeat by the owner extends leases; by another conflicts.
	if err := s.AttemptStart(ctx, &store.AttemptStartParams{Attempt: &store.Attempt{RunID: "r1", NodeID: "a", Number: 1,
		Owner: "3@h", StartedAt: at(1), LeaseExpiresAt: at(2)}}); err != nil {
		t.Fatal(err)
	}
	r, err := s.RunHeartbeat(ctx, &store.RunHeartbeatParams{ID: "r1", Owner: "3@h", LeaseExpiresAt: at(50), Now: at(3)})
	if err != nil || !r.LeaseExpiresAt.Equal(at(50)) {
		t.Fatalf("RunHeartbeat = %+v, %v", r, err)
	}
	as, err := s.AttemptList(ctx, &store.AttemptListParams{RunID: "r1"})
	if err != nil || len(as) != 1 || !as[0].LeaseExpiresAt.Equal(at(50)) || !as[0].HeartbeatAt.Equal(at(3)) {
		t.Fatalf("attempt after RunHeartbeat = %+v, %v", as, err)
	}
	_, err = s.RunHeartbeat(ctx, &store.RunHeartbeatParams{ID: "r1", Owner: "4@h", LeaseExpiresAt: at(60), Now: at(4)})
	wantErr(t, "RunHeartbeat by a stranger", err, store.ErrConflict)
}

// testRunClaimRace: of several owners claiming a free run at once,
// exactly one wins.
func testRunClaimRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: "r", Workflow: "wf", Status: store.RunRunning}, Now: at(0)}); err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			_, err := s.RunClaim(ctx, &store.RunClaimParams{ID: "r", Owner: fmt.Sprintf("%d@h", i), LeaseExpiresAt: at(100), Now: at(1)})
			errs <- err
		}()
	}
	won := 0
	for i := 0; i < n; i++ {
		err := <-errs
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("claim: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d claims won, want 1", won)
	}
}

func testNode(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustRun(t, s, "r1")
	nodes := []*store.Node{
		{RunID: "r1", NodeID: "a", Kind: "step", State: store.NodeFinished, Attempts: 1, Output: json.RawMessage(`{"x":1}`),
			OutputType: "T", StartedAt: at(1), FinishedAt: at(2), UpdatedAt: at(2)},
		{RunID: "r1", NodeID: "b", Scope: "L#1", Iteration: 1, Kind: "step", State: store.NodeFailed, Attempts: 3,
			Error: "boom", ErrorKind: "exit", UpdatedAt: at(3)},
		{RunID: "r1", NodeID: "b", Scope: "L#0", Kind: "step", State: store.NodeFinished, UpdatedAt: at(3)},
		{RunID: "r1", NodeID: "L", Kind: "loop", State: store.NodeRunning, Data: json.RawMessage(`{"iteration":1}`), UpdatedAt: at(3)},
	}
	if err := s.NodeUpsert(ctx, &store.NodeUpsertParams{Nodes: nodes}); err != nil {
		t.Fatal(err)
	}
	got, err := s.NodeList(ctx, &store.NodeListParams{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []*store.Node{nodes[3], nodes[0], nodes[2], nodes[1]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NodeList (-want +got):\n%s", diff)
	}
	// Upsert replaces.
	n := *nodes[1]
	n.State, n.Error = store.NodeFinished, ""
	if err := s.NodeUpsert(ctx, &store.NodeUpsertParams{Nodes: []*store.Node{&n}}); err != nil {
		t.Fatal(err)
	}
	g, err := s.NodeGet(ctx, &store.NodeGetParams{RunID: "r1", NodeID: "b", Scope: "L#1"})
	if err != nil || g.State != store.NodeFinished || g.Error != "" || g.Iteration != 1 {
		t.Errorf("NodeGet after upsert = %+v, %v", g, err)
	}
	_, err = s.NodeGet(ctx, &store.NodeGetParams{RunID: "r1", NodeID: "zz"})
	wantErr(t, "NodeGet missing", err, store.ErrNotFound)

	if err := s.ApprovalRequest(ctx, &store.ApprovalRequestParams{Approval: &store.Approval{RunID: "r1", NodeID: "b", RequestedAt: at(1)}}); err != nil {
		t.Fatal(err)
	}
	// A scoped reset deletes the instances at that scope or inside it,
	// and their approvals, and no others ("_" in a scope is no wildcard).
	scoped := []*store.Node{
		{RunID: "r1", NodeID: "g", Scope: "for:x_y[1]", Kind: "approval", State: store.NodeFinished, UpdatedAt: at(3)},
		{RunID: "r1", NodeID: "g", Scope: "for:x_y[1]/L#0", Kind: "approval", State: store.NodeFinished, UpdatedAt: at(3)},
		{RunID: "r1", NodeID: "g", Scope: "for:x_y[10]", Kind: "approval", State: store.NodeFinished, UpdatedAt: at(3)},
		{RunID: "r1", NodeID: "g", Scope: "for:xzy[1]", Kind: "approval", State: store.NodeFinished, UpdatedAt: at(3)},
	}
	if err := s.NodeUpsert(ctx, &store.NodeUpsertParams{Nodes: scoped}); err != nil {
		t.Fatal(err)
	}
	for _, sc := range []string{"for:x_y[1]", "for:x_y[10]"} {
		if err := s.ApprovalRequest(ctx, &store.ApprovalRequestParams{Approval: &store.Approval{RunID: "r1", NodeID: "g", Scope: sc, RequestedAt: at(1)}}); err != nil {
			t.Fatal(err)
		}
	}
	k, err := s.NodeReset(ctx, &store.NodeResetParams{RunID: "r1", NodeIDs: []string{"g"}, Scope: "for:x_y[1]"})
	if err != nil || k != 2 {
		t.Errorf("scoped NodeReset = %d, %v; want 2", k, err)
	}
	for _, sc := range []string{"for:x_y[10]", "for:xzy[1]"} {
		if _, err := s.NodeGet(ctx, &store.NodeGetParams{RunID: "r1", NodeID: "g", Scope: sc}); err != nil {
			t.Errorf("scoped NodeReset deleted %s: %v", sc, err)
		}
	}
	_, err = s.ApprovalGet(ctx, &store.ApprovalGetParams{RunID: "r1", NodeID: "g", Scope: "for:x_y[1]"})
	wantErr(t, "approval after a scoped NodeReset", err, store.ErrNotFound)
	if _, err := s.ApprovalGet(ctx, &store.ApprovalGetParams{RunID: "r1", NodeID: "g", Scope: "for:x_y[10]"}); err != nil {
		t.Errorf("a scoped NodeReset deleted another instance's approval: %v", err)
	}
	if _, err := s.NodeReset(ctx, &store.NodeResetParams{RunID: "r1", NodeIDs: []string{"g"}}); err != nil {
		t.Fatal(err)
	}

	k, err = s.NodeReset(ctx, &store.NodeResetParams{RunID: "r1", NodeIDs: []string{"b", "L"}})
	if err != nil || k != 3 {
		t.Errorf("NodeReset = %d, %v; want 3", k, err)
	}
	got, _ = s.NodeList(ctx, &store.NodeListParams{RunID: "r1"})
	if len(got) != 1 || got[0].NodeID != "a" {
		t.Errorf("after NodeReset: %d nodes", len(got))
	}
	_, err = s.ApprovalGet(ctx, &store.ApprovalGetParams{RunID: "r1", NodeID: "b"})
	wantErr(t, "approval after NodeReset", err, store.ErrNotFound)
}

func testAttempt(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustRun(t, s, "r1")
	a := &store.Attempt{RunID: "r1", NodeID: "a", Scope: "F[2]", Number: 1, Owner: "1@host", LeaseExpiresAt: at(10), StartedAt: at(1)}
	if err := s.AttemptStart(ctx, &store.AttemptStartParams{Attempt: a}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "AttemptStart twice", s.AttemptStart(ctx, &store.AttemptStartParams{Attempt: a}), store.ErrConflict)
	if err := s.AttemptHeartbeat(ctx, &store.AttemptHeartbeatParams{RunID: "r1", NodeID: "a", Scope: "F[2]", Number: 1,
		PID: 4242, PIDStart: "777", Now: at(2)}); err != nil {
		t.Fatal(err)
	}
	// A heartbeat without PID keeps the process group recorded.
	if err := s.AttemptHeartbeat(ctx, &store.AttemptHeartbeatParams{RunID: "r1", NodeID: "a", Scope: "F[2]", Number: 1,
		Detail: "half", LeaseExpiresAt: at(20), Now: at(5)}); err != nil {
		t.Fatal(err)
	}
	if err := s.AttemptFinish(ctx, &store.AttemptFinishParams{RunID: "r1", NodeID: "a", Scope: "F[2]", Number: 1,
		State: store.AttemptFailed, Error: "exit 1", ErrorKind: "exit", Now: at(6)}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "AttemptFinish missing", s.AttemptFinish(ctx, &store.AttemptFinishParams{RunID: "r1", NodeID: "a", Number: 9,
		State: store.AttemptFailed, Now: at(6)}), store.ErrNotFound)
	if err := s.AttemptStart(ctx, &store.AttemptStartParams{Attempt: &store.Attempt{RunID: "r1", NodeID: "a", Scope: "F[2]",
		Number: 2, Owner: "1@host", StartedAt: at(7)}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.AttemptList(ctx, &store.AttemptListParams{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []*store.Attempt{
		{RunID: "r1", NodeID: "a", Scope: "F[2]", Number: 1, State: store.AttemptFailed, Owner: "1@host",
			LeaseExpiresAt: at(20), HeartbeatAt: at(5), Detail: "half", PID: 4242, PIDStart: "777",
			Error: "exit 1", ErrorKind: "exit", StartedAt: at(1), FinishedAt: at(6)},
		{RunID: "r1", NodeID: "a", Scope: "F[2]", Number: 2, State: store.AttemptRunning, Owner: "1@host", StartedAt: at(7)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AttemptList (-want +got):\n%s", diff)
	}
	running, err := s.AttemptList(ctx, &store.AttemptListParams{RunID: "r1", State: store.AttemptRunning})
	if err != nil || len(running) != 1 || running[0].Number != 2 {
		t.Errorf("AttemptList running = %+v, %v", running, err)
	}
}

func testEvent(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustRun(t, s, "r1")
	mustRun(t, s, "r2")
	evs := []*store.Event{
		{RunID: "r1", Kind: "RunStarted", Time: at(0)},
		{RunID: "r2", Kind: "RunStarted", Time: at(0)},
		{RunID: "r1", NodeID: "a", Scope: "L#1", Iteration: 1, Attempt: 2, Kind: "NodeStarted", Time: at(1), Data: json.RawMessage(`{"k":"v"}`)},
	}
	if err := s.EventAppend(ctx, &store.EventAppendParams{Events: evs}); err != nil {
		t.Fatal(err)
	}
	if !(evs[0].Seq > 0 && evs[1].Seq > evs[0].Seq && evs[2].Seq > evs[1].Seq) {
		t.Errorf("seqs not increasing: %d %d %d", evs[0].Seq, evs[1].Seq, evs[2].Seq)
	}
	got, err := s.EventList(ctx, &store.EventListParams{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*store.Event{evs[0], evs[2]}, got); diff != "" {
		t.Errorf("EventList (-want +got):\n%s", diff)
	}
	got, err = s.EventList(ctx, &store.EventListParams{RunID: "r1", AfterSeq: evs[0].Seq})
	if err != nil || len(got) != 1 || got[0].Kind != "NodeStarted" {
		t.Errorf("EventList after = %+v, %v", got, err)
	}
	got, err = s.EventList(ctx, &store.EventListParams{RunID: "r1", Limit: 1})
	if err != nil || len(got) != 1 || got[0].Kind != "RunStarted" {
		t.Errorf("EventList limit = %+v, %v", got, err)
	}
	got, err = s.EventList(ctx, &store.EventListParams{RunID: "r1", Kind: "NodeStarted"})
	if err != nil || len(got) != 1 || got[0].Seq != evs[2].Seq {
		t.Errorf("EventList kind = %+v, %v", got, err)
	}
}

// testEventRuns appends the events of many steps in one batch and more in
// later commits (a store may keep a run of one node's data-less events as
// one row): every event reads back as appended, seqs are consecutive
// within a commit and increasing, and reading after any seq, in pages of
// any size, or by kind gives exactly the events that match.
func testEventRuns(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustRun(t, s, "r1")
	var all []*store.Event
	var batch []*store.Event
	add := func(e *store.Event) {
		e.RunID = "r1"
		batch = append(batch, e)
	}
	sec := 0
	tick := func() time.Time { sec++; return at(sec) }
	for i := 0; i < 70; i++ { // more than one statement's worth of rows
		node := fmt.Sprintf("s%d", i)
		add(&store.Event{NodeID: node, Kind: "NodeStarted", Time: tick()})
		add(&store.Event{NodeID: node, Attempt: 1, Kind: "AttemptStarted", Time: tick()})
		switch i % 7 {
		case 3: // data breaks a run
			add(&store.Event{NodeID: node, Attempt: 1, Kind: "AttemptFailed", Time: tick(), Data: json.RawMessage(`{"error":"x"}`)})
			add(&store.Event{NodeID: node, Attempt: 2, Kind: "AttemptStarted", Time: tick()})
		case 5: // another scope, then the same kind twice
			add(&store.Event{NodeID: node, Scope: "L#1", Iteration: 1, Kind: "NodeStarted", Time: tick()})
			add(&store.Event{NodeID: node, Scope: "L#1", Iteration: 1, Kind: "NodeStarted", Time: tick()})
		case 6: // more than a few data-less events of one node
			for _, k := range []string{"A", "B", "C", "D", "E"} {
				add(&store.Event{NodeID: node, Attempt: 1, Kind: k, Time: tick()})
			}
		}
		add(&store.Event{NodeID: node, Attempt: 1, Kind: "NodeFinished", Time: tick()})
	}
	add(&store.Event{Kind: "RunFinished", Time: tick()})
	if err := s.BatchCommit(ctx, &store.Batch{Events: batch}); err != nil {
		t.Fatal(err)
	}
	all = append(all, batch...)
	for i := 0; i < 3; i++ {
		batch = nil
		add(&store.Event{NodeID: "late", Kind: "NodeStarted", Time: tick()})
		add(&store.Event{NodeID: "late", Attempt: 1, Kind: "NodeFinished", Time: tick()})
		if err := s.EventAppend(ctx, &store.EventAppendParams{Events: batch}); err != nil {
			t.Fatal(err)
		}
		all = append(all, batch...)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Fatalf("event %d (%s of %s) has seq %d after %d", i, all[i].Kind, all[i].NodeID, all[i].Seq, all[i-1].Seq)
		}
	}
	got, err := s.EventList(ctx, &store.EventListParams{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(all, got); d != "" {
		t.Fatalf("EventList (-want +got):\n%s", d)
	}
	for i := 0; i < len(all); i += 5 {
		got, err := s.EventList(ctx, &store.EventListParams{RunID: "r1", AfterSeq: all[i].Seq})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(all[i+1:], got); d != "" {
			t.Fatalf("EventList after seq %d (-want +got):\n%s", all[i].Seq, d)
		}
	}
	for _, size := range []int{1, 2, 3, 7} {
		var paged []*store.Event
		after := int64(0)
		for {
			page, err := s.EventList(ctx, &store.EventListParams{RunID: "r1", AfterSeq: after, Limit: size})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > size {
				t.Fatalf("EventList limit %d gave %d events", size, len(page))
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			after = page[len(page)-1].Seq
		}
		if d := cmp.Diff(all, paged); d != "" {
			t.Fatalf("EventList in pages of %d (-want +got):\n%s", size, d)
		}
	}
	for _, kind := range []string{"NodeStarted", "AttemptStarted", "NodeFinished", "AttemptFailed", "C", "RunFinished"} {
		var want []*store.Event
		for _, e := range all {
			if e.Kind == kind {
				want = append(want, e)
			}
		}
		got, err := s.EventList(ctx, &store.EventListParams{RunID: "r1", Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("EventList kind %s (-want +got):\n%s", kind, d)
		}
		got, err = s.EventList(ctx, &store.EventListParams{RunID: "r1", Kind: kind, Limit: 2})
		if err != nil || len(got) != min(2, len(want)) {
			t.Fatalf("EventList kind %s limit 2 = %d events, %v; want %d", kind, len(got), err, min(2, len(want)))
		}
	}
}

func testApproval(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustRun(t, s, "r1")
	_, err := s.ApprovalDecide(ctx, &store.ApprovalDecideParams{RunID: "r1", NodeID: "gate", Approved: true, Now: at(1)})
	wantErr(t, "decide before request", err, store.ErrNotFound)
	for i, scope := range []string{"F[1]", "F[0]"} {
		if err := s.ApprovalRequest(ctx, &store.ApprovalRequestParams{Approval: &store.Approval{RunID: "r1", NodeID: "gate",
			Scope: scope, Title: "ok?", RequestedAt: at(2 + i)}}); err != nil {
			t.Fatal(err)
		}
	}
	// Requesting again keeps the original.
	if err := s.ApprovalRequest(ctx, &store.ApprovalRequestParams{Approval: &store.Approval{RunID: "r1", NodeID: "gate",
		Scope: "F[1]", Title: "changed", RequestedAt: at(9)}}); err != nil {
		t.Fatal(err)
	}
	a, err := s.ApprovalDecide(ctx, &store.ApprovalDecideParams{RunID: "r1", NodeID: "gate", Approved: true, By: "ann",
		Note: "fine", Data: json.RawMessage(`{"level":2}`), Now: at(5)})
	if err != nil {
		t.Fatal(err)
	}
	if a.Scope != "F[1]" || !a.Approved || a.By != "ann" || a.Title != "ok?" {
		t.Errorf("decided the wrong approval: %+v", a)
	}
	a, err = s.ApprovalDecide(ctx, &store.ApprovalDecideParams{RunID: "r1", NodeID: "gate", Approved: false, By: "bob", Now: at(6)})
	if err != nil || a.Scope != "F[0]" || a.Approved {
		t.Fatalf("second decide = %+v, %v", a, err)
	}
	_, err = s.ApprovalDecide(ctx, &store.ApprovalDecideParams{RunID: "r1", NodeID: "gate", Scope: "F[0]", Approved: true, Now: at(7)})
	wantErr(t, "decide twice", err, store.ErrConflict)
	got, err := s.ApprovalGet(ctx, &store.ApprovalGetParams{RunID: "r1", NodeID: "gate", Scope: "F[1]"})
	if err != nil {
		t.Fatal(err)
	}
	want := &store.Approval{RunID: "r1", NodeID: "gate", Scope: "F[1]", Title: "ok?", RequestedAt: at(2), Decided: true,
		Approved: true, By: "ann", Note: "fine", Data: json.RawMessage(`{"level":2}`), DecidedAt: at(5)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ApprovalGet (-want +got):\n%s", diff)
	}
	list, err := s.ApprovalList(ctx, &store.ApprovalListParams{RunID: "r1"})
	if err != nil || len(list) != 2 {
		t.Errorf("ApprovalList = %d, %v", len(list), err)
	}
}

func testSignal(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustRun(t, s, "r1")
	_, err := s.SignalSend(ctx, &store.SignalSendParams{RunID: "missing", Name: "x", Now: at(0)})
	wantErr(t, "signal to a missing run", err, store.ErrNotFound)
	_, err = s.SignalConsume(ctx, &store.SignalConsumeParams{RunID: "r1", Name: "go", ConsumerNode: "e", Now: at(0)})
	wantErr(t, "consume with nothing buffered", err, store.ErrNotFound)
	for i, d := range []string{`{"n":1}`, `{"n":2}`} {
		if _, err := s.SignalSend(ctx, &store.SignalSendParams{RunID: "r1", Name: "go", Data: json.RawMessage(d), Now: at(i)}); err != nil {
			t.Fatal(err)
		}
	}
	g, err := s.SignalConsume(ctx, &store.SignalConsumeParams{RunID: "r1", Name: "go", ConsumerNode: "e", Now: at(3)})
	if err != nil || string(g.Data) != `{"n":1}` {
		t.Fatalf("first consume = %+v, %v", g, err)
	}
	again, err := s.SignalConsume(ctx, &store.SignalConsumeParams{RunID: "r1", Name: "go", ConsumerNode: "e", Now: at(4)})
	if err != nil || again.ID != g.ID {
		t.Errorf("consume is not idempotent: %+v, %v", again, err)
	}
	other, err := s.SignalConsume(ctx, &store.SignalConsumeParams{RunID: "r1", Name: "go", ConsumerNode: "e", ConsumerScope: "L#1", Now: at(5)})
	if err != nil || string(other.Data) != `{"n":2}` {
		t.Errorf("second consumer = %+v, %v", other, err)
	}
	list, err := s.SignalList(ctx, &store.SignalListParams{RunID: "r1"})
	if err != nil || len(list) != 2 || !list[0].Consumed || list[0].ConsumerNode != "e" || !list[1].Consumed {
		t.Errorf("SignalList = %+v, %v", list, err)
	}
}

func testCache(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.CacheGet(ctx, &store.CacheGetParams{Workflow: "wf", SourceHash: "h", Key: "k", Now: at(0)})
	wantErr(t, "CacheGet empty", err, store.ErrNotFound)
	put := func(key string, exp time.Time, out string) {
		t.Helper()
		if err := s.CachePut(ctx, &store.CachePutParams{Entry: &store.CacheEntry{Workflow: "wf", SourceHash: "h", Key: key,
			Output: json.RawMessage(out), CreatedAt: at(0), ExpiresAt: exp}}); err != nil {
			t.Fatal(err)
		}
	}
	put("forever", time.Time{}, `1`)
	put("short", at(10), `2`)
	put("forever", time.Time{}, `3`) // replaces
	tests := []struct {
		key, hash string
		now       int
		want      string // "" = not found
	}{
		{"forever", "h", 1000, "3"},
		{"short", "h", 5, "2"},
		{"short", "h", 10, ""},
		{"forever", "other", 1, ""},
	}
	for _, tt := range tests {
		c, err := s.CacheGet(ctx, &store.CacheGetParams{Workflow: "wf", SourceHash: tt.hash, Key: tt.key, Now: at(tt.now)})
		if tt.want == "" {
			wantErr(t, "CacheGet "+tt.key, err, store.ErrNotFound)
			continue
		}
		if err != nil || string(c.Output) != tt.want {
			t.Errorf("CacheGet %s at %d = %v, %v; want %s", tt.key, tt.now, c, err, tt.want)
		}
	}
}

func testBatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustRun(t, s, "r1")
	b := &store.Batch{
		Runs:          []*store.RunUpdateParams{{ID: "r1", Status: ptr(store.RunWaitingApproval), Now: at(2)}},
		Nodes:         []*store.Node{{RunID: "r1", NodeID: "a", State: store.NodeFinished, UpdatedAt: at(2)}},
		AttemptStarts: []*store.Attempt{{RunID: "r1", NodeID: "a", Number: 1, StartedAt: at(1)}},
		AttemptFinishes: []*store.AttemptFinishParams{{RunID: "r1", NodeID: "a", Number: 1,
			State: store.AttemptFinished, Now: at(2)}},
		Approvals: []*store.Approval{{RunID: "r1", NodeID: "gate", RequestedAt: at(2)}},
		Events:    []*store.Event{{RunID: "r1", NodeID: "a", Kind: "NodeFinished", Time: at(2)}},
	}
	if err := s.BatchCommit(ctx, b); err != nil {
		t.Fatal(err)
	}
	if b.Events[0].Seq == 0 {
		t.Error("BatchCommit did not set the event's Seq")
	}
	r, _ := s.RunGetByID(ctx, &store.RunGetByIDParams{ID: "r1"})
	as, _ := s.AttemptList(ctx, &store.AttemptListParams{RunID: "r1"})
	if r.Status != store.RunWaitingApproval || len(as) != 1 || as[0].State != store.AttemptFinished {
		t.Errorf("batch not applied: run %s, attempts %+v", r.Status, as)
	}
	// A failing write rolls the whole batch back.
	bad := &store.Batch{
		Nodes:           []*store.Node{{RunID: "r1", NodeID: "b", State: store.NodeFinished, UpdatedAt: at(3)}},
		AttemptFinishes: []*store.AttemptFinishParams{{RunID: "r1", NodeID: "missing", Number: 1, State: store.AttemptFinished, Now: at(3)}},
	}
	wantErr(t, "bad batch", s.BatchCommit(ctx, bad), store.ErrNotFound)
	if _, err := s.NodeGet(ctx, &store.NodeGetParams{RunID: "r1", NodeID: "b"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed batch left its node behind: %v", err)
	}
	if err := s.BatchCommit(ctx, &store.Batch{}); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

func testViews(t *testing.T, s store.Store) {
	ctx := context.Background()
	typ := &schema.Type{Kind: schema.Object, Name: "Analysis", Fields: []*schema.Field{
		{Name: "summary", Type: schema.StringType}, {Name: "risk", Type: schema.EnumOf("low", "high")},
	}}
	for i := 0; i < 2; i++ { // idempotent
		if err := s.TypeViewsEnsure(ctx, &store.TypeViewsEnsureParams{Types: []*schema.Type{typ, schema.StringType}}); err != nil {
			t.Fatalf("TypeViewsEnsure #%d: %v", i, err)
		}
	}
}

func testSources(t *testing.T, s store.Store) {
	ctx := context.Background()
	main := &store.SourceFile{Path: "dir/main.smw", Content: []byte("workflow w {}\n")}
	lib := &store.SourceFile{Path: "dir/lib/types.smw", Content: []byte("type T { a: int }\n")}
	empty := &store.SourceFile{Path: "dir/empty.smw", Content: []byte{}}
	for _, f := range []*store.SourceFile{main, lib, empty} {
		f.Hash = store.HashSource(f.Content)
	}
	if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: "s1", Workflow: "w", Status: store.RunRunning},
		Sources: []*store.SourceFile{main, lib, empty}, Now: at(0)}); err != nil {
		t.Fatal(err)
	}
	// A second run of the same program shares the content.
	if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: "s2", Workflow: "w", Status: store.RunRunning},
		Sources: []*store.SourceFile{main, lib}, Now: at(0)}); err != nil {
		t.Fatal(err)
	}
	mustRun(t, s, "none")
	got, err := s.RunSourceList(ctx, &store.RunSourceListParams{RunID: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*store.SourceFile{main, lib, empty}, got); diff != "" {
		t.Errorf("RunSourceList s1 (-want +got):\n%s", diff)
	}
	got, err = s.RunSourceList(ctx, &store.RunSourceListParams{RunID: "none"})
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("RunSourceList of a run without sources = %v, %v; want an empty list", got, err)
	}
	_, err = s.RunSourceList(ctx, &store.RunSourceListParams{RunID: "absent"})
	wantErr(t, "RunSourceList absent", err, store.ErrNotFound)

	// RunUpdate with Sources replaces the list (an adopted edit), and
	// only for the run named; nil Sources leave it as it is.
	edited := &store.SourceFile{Path: "dir/main.smw", Content: []byte("workflow w { step a { value = 1 } }\n")}
	edited.Hash = store.HashSource(edited.Content)
	if _, err := s.RunUpdate(ctx, &store.RunUpdateParams{ID: "s1", SourceHash: ptr("h2"), Sources: []*store.SourceFile{edited, lib}, Now: at(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunUpdate(ctx, &store.RunUpdateParams{ID: "s2", Status: ptr(store.RunFailed), Now: at(1)}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.RunSourceList(ctx, &store.RunSourceListParams{RunID: "s1"})
	if diff := cmp.Diff([]*store.SourceFile{edited, lib}, got); diff != "" {
		t.Errorf("RunSourceList s1 after the update (-want +got):\n%s", diff)
	}
	got, _ = s.RunSourceList(ctx, &store.RunSourceListParams{RunID: "s2"})
	if diff := cmp.Diff([]*store.SourceFile{main, lib}, got); diff != "" {
		t.Errorf("RunSourceList s2 (-want +got):\n%s", diff)
	}
	// A batch's run update replaces them in the same transaction, and an
	// update refused by IfOwner leaves them unchanged.
	err = s.BatchCommit(ctx, &store.Batch{Runs: []*store.RunUpdateParams{{ID: "s2", IfOwner: ptr("someone@else"), Sources: []*store.SourceFile{edited}, Now: at(2)}}})
	wantErr(t, "BatchCommit by another owner", err, store.ErrConflict)
	got, _ = s.RunSourceList(ctx, &store.RunSourceListParams{RunID: "s2"})
	if len(got) != 2 {
		t.Errorf("a refused update changed the sources: %v", got)
	}
	if err := s.BatchCommit(ctx, &store.Batch{Runs: []*store.RunUpdateParams{{ID: "s2", Sources: []*store.SourceFile{edited}, Now: at(2)}}}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.RunSourceList(ctx, &store.RunSourceListParams{RunID: "s2"})
	if diff := cmp.Diff([]*store.SourceFile{edited}, got); diff != "" {
		t.Errorf("RunSourceList s2 after the batch (-want +got):\n%s", diff)
	}
}

func testFencePause(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustRun(t, s, "f1") // owned by 1@host, fence 0
	r, err := s.RunClaim(ctx, &store.RunClaimParams{ID: "f1", Owner: "1@host", OwnerStart: "s1", LeaseExpiresAt: at(20), Now: at(1)})
	if err != nil || r.Fence != 1 {
		t.Fatalf("RunClaim: fence %v, %v; want 1", r, err)
	}
	// A newer owner takes over (the lease lapsed): the token moves on.
	r, err = s.RunClaim(ctx, &store.RunClaimParams{ID: "f1", Owner: "2@other", OwnerStart: "s2", LeaseExpiresAt: at(60), Now: at(30)})
	if err != nil || r.Fence != 2 || r.Owner != "2@other" {
		t.Fatalf("take-over RunClaim = %+v, %v; want fence 2", r, err)
	}
	// The old owner's heartbeat and batch are refused, and the batch
	// applies nothing.
	_, err = s.RunHeartbeat(ctx, &store.RunHeartbeatParams{ID: "f1", Owner: "1@host", Fence: 1, LeaseExpiresAt: at(70), Now: at(31)})
	wantErr(t, "RunHeartbeat by the old owner", err, store.ErrConflict)
	stale := &store.Batch{Fence: &store.Fence{RunID: "f1", Owner: "1@host", Token: 1},
		Nodes:  []*store.Node{{RunID: "f1", NodeID: "a", Kind: "step", State: store.NodeFinished, UpdatedAt: at(31)}},
		Events: []*store.Event{{RunID: "f1", Kind: "NodeFinished", Time: at(31)}}}
	wantErr(t, "BatchCommit with a stale fence", s.BatchCommit(ctx, stale), store.ErrConflict)
	// The same owner name with an old token is refused too (a restarted
	// process reusing a pid, an owner id injected twice).
	sameName := &store.Batch{Fence: &store.Fence{RunID: "f1", Owner: "2@other", Token: 1},
		Nodes: []*store.Node{{RunID: "f1", NodeID: "a", Kind: "step", State: store.NodeFinished, UpdatedAt: at(31)}}}
	wantErr(t, "BatchCommit with the owner's name and an old token", s.BatchCommit(ctx, sameName), store.ErrConflict)
	if nodes, _ := s.NodeList(ctx, &store.NodeListParams{RunID: "f1"}); len(nodes) != 0 {
		t.Errorf("a refused batch wrote nodes: %+v", nodes)
	}
	if evs, _ := s.EventList(ctx, &store.EventListParams{RunID: "f1"}); len(evs) != 0 {
		t.Errorf("a refused batch wrote events: %+v", evs)
	}
	// The current owner's writes go through.
	cur := &store.Batch{Fence: &store.Fence{RunID: "f1", Owner: "2@other", Token: 2},
		Nodes: []*store.Node{{RunID: "f1", NodeID: "a", Kind: "step", State: store.NodeFinished, UpdatedAt: at(32)}}}
	if err := s.BatchCommit(ctx, cur); err != nil {
		t.Fatalf("BatchCommit by the current owner: %v", err)
	}
	if _, err := s.RunHeartbeat(ctx, &store.RunHeartbeatParams{ID: "f1", Owner: "2@other", Fence: 2, LeaseExpiresAt: at(90), Now: at(33)}); err != nil {
		t.Fatalf("RunHeartbeat by the current owner: %v", err)
	}
	wantErr(t, "BatchCommit fenced on an absent run",
		s.BatchCommit(ctx, &store.Batch{Fence: &store.Fence{RunID: "absent", Owner: "x", Token: 1},
			Events: []*store.Event{{RunID: "absent", Kind: "K", Time: at(1)}}}), store.ErrNotFound)

	// Pause: requested through RunUpdate, read back, cleared by a claim
	// with ClearPause; the paused status round-trips.
	r, err = s.RunUpdate(ctx, &store.RunUpdateParams{ID: "f1", PauseRequested: ptr(true), Now: at(34)})
	if err != nil || !r.PauseRequested {
		t.Fatalf("RunUpdate PauseRequested = %+v, %v", r, err)
	}
	r, err = s.RunUpdate(ctx, &store.RunUpdateParams{ID: "f1", Status: ptr(store.RunPaused), Owner: ptr(""), Now: at(35)})
	if err != nil || r.Status != store.RunPaused {
		t.Fatalf("RunUpdate status paused = %+v, %v", r, err)
	}
	runs, err := s.RunList(ctx, &store.RunListParams{Statuses: []store.RunStatus{store.RunPaused}})
	if err != nil || len(runs) != 1 || runs[0].ID != "f1" {
		t.Errorf("RunList paused = %v, %v", runIDs(runs), err)
	}
	r, err = s.RunClaim(ctx, &store.RunClaimParams{ID: "f1", Owner: "3@host", LeaseExpiresAt: at(100), ClearPause: true, Now: at(36)})
	if err != nil || r.PauseRequested || r.Fence != 3 {
		t.Errorf("RunClaim ClearPause = %+v, %v", r, err)
	}
}

// testRunListFree: RunList with FreeAt keeps the runs nobody holds (no
// owner, or a lapsed lease), Oldest lists them oldest first.
func testRunListFree(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, r := range []*store.Run{
		{ID: "free", Workflow: "w", Status: store.RunRunning, CreatedAt: at(1)},
		{ID: "held", Workflow: "w", Status: store.RunRunning, Owner: "x", LeaseExpiresAt: at(100), CreatedAt: at(2)},
		{ID: "lapsed", Workflow: "w", Status: store.RunRunning, Owner: "y", LeaseExpiresAt: at(10), CreatedAt: at(3)},
		{ID: "done", Workflow: "w", Status: store.RunFinished, CreatedAt: at(4)},
		{ID: "free2", Workflow: "w", Status: store.RunRunning, CreatedAt: at(5)},
	} {
		if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: r, Now: r.CreatedAt}); err != nil {
			t.Fatal(err)
		}
	}
	running := []store.RunStatus{store.RunRunning}
	for _, c := range []struct {
		p    store.RunListParams
		want []string
	}{
		{store.RunListParams{Statuses: running, FreeAt: at(50), Oldest: true}, []string{"free", "lapsed", "free2"}},
		{store.RunListParams{Statuses: running, FreeAt: at(50), Oldest: true, Limit: 2}, []string{"free", "lapsed"}},
		{store.RunListParams{Statuses: running, FreeAt: at(5)}, []string{"free2", "free"}},
		{store.RunListParams{Statuses: running, Oldest: true}, []string{"free", "held", "lapsed", "free2"}},
	} {
		list, err := s.RunList(ctx, &c.p)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c.want, runIDs(list)); diff != "" {
			t.Errorf("RunList %+v (-want +got):\n%s", c.p, diff)
		}
	}
}

// testNoInputReads: the light reads of a run (RunGetByID and RunList with
// NoInput, and RunHeartbeat's result) leave Input nil, long or short, and
// agree with the full read in every other field; the full read still has
// it.
func testNoInputReads(t *testing.T, s store.Store) {
	ctx := context.Background()
	long := json.RawMessage(`{"text":"` + strings.Repeat("x", 5000) + `"}`)
	inputs := map[string]json.RawMessage{"long": long, "short": json.RawMessage(`{"a":1}`), "none": nil}
	for id, in := range inputs {
		if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: id, Workflow: "wf", Input: in, SourceHash: "h",
			Status: store.RunRunning, Owner: "1@host", LeaseExpiresAt: at(10), Fence: 1}, Now: at(0)}); err != nil {
			t.Fatalf("RunCreate %s: %v", id, err)
		}
	}
	if _, err := s.RunCancelRequest(ctx, &store.RunCancelRequestParams{ID: "long", Now: at(1)}); err != nil {
		t.Fatal(err)
	}
	withoutInput := func(r *store.Run) store.Run { c := *r; c.Input = nil; return c }
	for id, in := range inputs {
		full, err := s.RunGetByID(ctx, &store.RunGetByIDParams{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		if string(full.Input) != string(in) && !(in == nil && full.Input == nil) {
			t.Errorf("%s: the full read has an input of %d bytes, want %d", id, len(full.Input), len(in))
		}
		light, err := s.RunGetByID(ctx, &store.RunGetByIDParams{ID: id, NoInput: true})
		if err != nil {
			t.Fatal(err)
		}
		if light.Input != nil {
			t.Errorf("%s: RunGetByID with NoInput read an input of %d bytes", id, len(light.Input))
		}
		if diff := cmp.Diff(withoutInput(full), *light); diff != "" {
			t.Errorf("%s: RunGetByID with NoInput differs from the full read (-full +light):\n%s", id, diff)
		}
		beat, err := s.RunHeartbeat(ctx, &store.RunHeartbeatParams{ID: id, Owner: "1@host", Fence: 1, LeaseExpiresAt: at(20), Now: at(2)})
		if err != nil {
			t.Fatal(err)
		}
		if beat.Input != nil || !beat.LeaseExpiresAt.Equal(at(20)) || beat.CancelRequested != (id == "long") {
			t.Errorf("%s: RunHeartbeat returned input of %d bytes, lease %v, cancel %v", id, len(beat.Input), beat.LeaseExpiresAt, beat.CancelRequested)
		}
	}
	runs, err := s.RunList(ctx, &store.RunListParams{NoInput: true})
	if err != nil || len(runs) != len(inputs) {
		t.Fatalf("RunList with NoInput = %d runs, %v", len(runs), err)
	}
	for _, r := range runs {
		if r.Input != nil || r.Workflow != "wf" || r.SourceHash != "h" {
			t.Errorf("%s: RunList with NoInput: input of %d bytes, workflow %q, source hash %q", r.ID, len(r.Input), r.Workflow, r.SourceHash)
		}
	}
}

// testNoOutputList: NodeList with NoOutput leaves every node's Output nil
// and agrees with the full listing in every other field, in the same
// order; the full listing still has the outputs.
func testNoOutputList(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustRun(t, s, "r")
	nodes := []*store.Node{
		{RunID: "r", NodeID: "a", Kind: "step", State: store.NodeFinished, Attempts: 1, Output: json.RawMessage(`{"text":"` + strings.Repeat("y", 3000) + `"}`),
			OutputType: "Report", Data: json.RawMessage(`{"session":"s1"}`), StartedAt: at(1), FinishedAt: at(2), UpdatedAt: at(2)},
		{RunID: "r", NodeID: "b", Scope: "L#0", Iteration: 0, Kind: "step", State: store.NodeFailed, Attempts: 2, Error: "boom", ErrorKind: "run", StartedAt: at(3), UpdatedAt: at(4)},
		{RunID: "r", NodeID: "c", Kind: "timer", State: store.NodeWaiting, Data: json.RawMessage(`{"due":"2026-01-02T03:05:05Z"}`), StartedAt: at(5), UpdatedAt: at(5)},
	}
	if err := s.NodeUpsert(ctx, &store.NodeUpsertParams{Nodes: nodes}); err != nil {
		t.Fatal(err)
	}
	full, err := s.NodeList(ctx, &store.NodeListParams{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	light, err := s.NodeList(ctx, &store.NodeListParams{RunID: "r", NoOutput: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != len(nodes) || len(light) != len(full) {
		t.Fatalf("%d nodes listed, %d without outputs, want %d", len(full), len(light), len(nodes))
	}
	if string(full[0].Output) != string(nodes[0].Output) {
		t.Errorf("the full listing has an output of %d bytes, want %d", len(full[0].Output), len(nodes[0].Output))
	}
	for i := range full {
		if light[i].Output != nil {
			t.Errorf("%s: listed with NoOutput, an output of %d bytes", light[i].NodeID, len(light[i].Output))
		}
		want := *full[i]
		want.Output = nil
		if diff := cmp.Diff(want, *light[i]); diff != "" {
			t.Errorf("%s listed with NoOutput (-full without its output +listed):\n%s", want.NodeID, diff)
		}
	}
}

// testListFilters: NodeList with States and Kinds lists the nodes in one
// of those states and of one of those kinds (both: either of each), in
// the full listing's order and with its fields; Brief lists every node
// with its identity, kind, state and attempts only; another run's nodes
// never come.
func testListFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustRun(t, s, "r")
	mustRun(t, s, "other")
	nodes := []*store.Node{
		{RunID: "r", NodeID: "a", Kind: "step", State: store.NodeFinished, Attempts: 1, Output: json.RawMessage(`1`), StartedAt: at(1), FinishedAt: at(2), UpdatedAt: at(2)},
		{RunID: "r", NodeID: "b", Scope: "L#1", Iteration: 1, Kind: "step", State: store.NodeRunning, Attempts: 2, StartedAt: at(3), UpdatedAt: at(3)},
		{RunID: "r", NodeID: "c", Kind: "approval", State: store.NodeWaiting, Data: json.RawMessage(`{"deadline":"2026-01-02T03:05:05Z"}`), StartedAt: at(4), UpdatedAt: at(4)},
		{RunID: "r", NodeID: "d", Kind: "timer", State: store.NodeWaiting, StartedAt: at(5), UpdatedAt: at(5)},
		{RunID: "r", NodeID: "e", Kind: "approval", State: store.NodeFinished, Output: json.RawMessage(`{"approved":true}`), UpdatedAt: at(6)},
		{RunID: "other", NodeID: "c", Kind: "approval", State: store.NodeWaiting, UpdatedAt: at(7)},
	}
	if err := s.NodeUpsert(ctx, &store.NodeUpsertParams{Nodes: nodes}); err != nil {
		t.Fatal(err)
	}
	full, err := s.NodeList(ctx, &store.NodeListParams{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(ns []*store.Node) []string {
		var out []string
		for _, n := range ns {
			out = append(out, n.NodeID)
		}
		return out
	}
	if diff := cmp.Diff([]string{"a", "b", "c", "d", "e"}, ids(full)); diff != "" {
		t.Fatalf("full listing (-want +got):\n%s", diff)
	}
	byID := map[string]*store.Node{}
	for _, n := range full {
		byID[n.NodeID] = n
	}
	for _, c := range []struct {
		name string
		p    store.NodeListParams
		want []string
	}{
		{"waiting", store.NodeListParams{States: []store.NodeState{store.NodeWaiting}}, []string{"c", "d"}},
		{"running or waiting", store.NodeListParams{States: []store.NodeState{store.NodeWaiting, store.NodeRunning}}, []string{"b", "c", "d"}},
		{"approvals", store.NodeListParams{Kinds: []string{"approval"}}, []string{"c", "e"}},
		{"waiting approvals", store.NodeListParams{States: []store.NodeState{store.NodeWaiting}, Kinds: []string{"approval"}}, []string{"c"}},
		{"approvals and timers, no output", store.NodeListParams{Kinds: []string{"timer", "approval"}, NoOutput: true}, []string{"c", "d", "e"}},
		{"none", store.NodeListParams{States: []store.NodeState{store.NodeCancelled}}, nil},
	} {
		p := c.p
		p.RunID = "r"
		got, err := s.NodeList(ctx, &p)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if diff := cmp.Diff(c.want, ids(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
			continue
		}
		for _, n := range got {
			want := *byID[n.NodeID]
			if p.NoOutput {
				want.Output = nil
			}
			if diff := cmp.Diff(want, *n); diff != "" {
				t.Errorf("%s: %s (-full listing +filtered):\n%s", c.name, n.NodeID, diff)
			}
		}
	}
	brief, err := s.NodeList(ctx, &store.NodeListParams{RunID: "r", Brief: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(full), ids(brief)); diff != "" {
		t.Fatalf("brief listing (-full +brief):\n%s", diff)
	}
	for i, n := range brief {
		f := full[i]
		want := store.Node{RunID: f.RunID, NodeID: f.NodeID, Scope: f.Scope, Iteration: f.Iteration, Kind: f.Kind, State: f.State, Attempts: f.Attempts}
		if diff := cmp.Diff(want, *n); diff != "" {
			t.Errorf("brief %s (-want +got):\n%s", n.NodeID, diff)
		}
	}
	waitingBrief, err := s.NodeList(ctx, &store.NodeListParams{RunID: "r", Brief: true, States: []store.NodeState{store.NodeWaiting}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"c", "d"}, ids(waitingBrief)); diff != "" || waitingBrief[0].Data != nil {
		t.Errorf("brief waiting listing (-want +got):\n%s (data %s)", diff, waitingBrief[0].Data)
	}
}

// testIndexedKind: EventList of store.IndexedEventKind (a query of its
// own, on an index of its own) finds exactly that kind's events of the
// run, with data or without (one among data-less events of another
// kind, which a store may keep together), after a seq and in pages, and
// none of another run's.
func testIndexedKind(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustRun(t, s, "r1")
	mustRun(t, s, "r2")
	var evs, want []*store.Event
	for i := 0; i < 300; i++ {
		evs = append(evs, &store.Event{RunID: "r1", NodeID: "s", Kind: "NodeStarted", Time: at(i)})
		if i%50 == 7 {
			reply := &store.Event{RunID: "r1", NodeID: fmt.Sprintf("a%d", i), Kind: store.IndexedEventKind, Time: at(i), Attempt: 1}
			if i%100 == 7 {
				reply.Data = json.RawMessage(fmt.Sprintf(`{"input_tokens":%d}`, i))
			}
			evs = append(evs, reply, &store.Event{RunID: "r2", Kind: store.IndexedEventKind, Time: at(i)})
			want = append(want, reply)
		}
	}
	if err := s.EventAppend(ctx, &store.EventAppendParams{Events: evs}); err != nil {
		t.Fatal(err)
	}
	got, err := s.EventList(ctx, &store.EventListParams{RunID: "r1", Kind: store.IndexedEventKind})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EventList(Kind: %s) (-want +got):\n%s", store.IndexedEventKind, diff)
	}
	got, err = s.EventList(ctx, &store.EventListParams{RunID: "r1", Kind: store.IndexedEventKind, AfterSeq: want[1].Seq, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[2:4], got); diff != "" {
		t.Errorf("EventList(Kind: %s, after the second, limit 2) (-want +got):\n%s", store.IndexedEventKind, diff)
	}
	all, err := s.EventList(ctx, &store.EventListParams{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 300+len(want) {
		t.Errorf("EventList = %d events, want %d", len(all), 300+len(want))
	}
}
