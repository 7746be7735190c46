package runtime_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

// listingStore counts the node rows NodeList returns, and the rows
// returned with more than a brief listing's columns.
type listingStore struct {
	store.Store
	mu         sync.Mutex
	rows, full int
}

func (s *listingStore) NodeList(ctx context.Context, p *store.NodeListParams) ([]*store.Node, error) {
	out, err := s.Store.NodeList(ctx, p)
	s.mu.Lock()
	s.rows += len(out)
	if !p.Brief {
		s.full += len(out)
	}
	s.mu.Unlock()
	return out, err
}

func (s *listingStore) take() (rows, full int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows, full, s.rows, s.full = s.rows, s.full, 0, 0
	return rows, full
}

// TestViewsOfALargeRunReadWhatTheyShow: for a run that waits at an
// approval after 2,000 loop iterations, the summary (ps, why, the API's
// run list), its waits, approvals and pending events, and the failed-loop
// hint read the few nodes they look at, not the 2,000 finished ones; a
// paged inspection lists every node only briefly (for its counts and its
// page) and reads whole only the nodes it shows and those that wait. The
// views agree with an unpaged inspection.
func TestViewsOfALargeRunReadWhatTheyShow(t *testing.T) {
	t.Parallel()
	const n = 2000
	var ls *listingStore
	b := setup(t, nil, func(c *runtime.Config) { ls = &listingStore{Store: c.Store}; c.Store = ls })
	prog := program("big", nil,
		loop("L", fmt.Sprintf("iteration + 1 >= %d", n), n+1, "", value("s", "iteration")),
		approval("gate", "fail"))
	res := start(t, b, prog, nil)
	if res.Status != store.RunWaitingApproval {
		t.Fatalf("status %s: %s", res.Status, res.Error)
	}
	ctx := context.Background()
	ls.take()
	check := func(what string, maxRows int) {
		t.Helper()
		if rows, _ := ls.take(); rows > maxRows {
			t.Errorf("%s read %d node rows, want at most %d", what, rows, maxRows)
		}
	}
	sum, err := b.engine.RunSummary(ctx, res.RunID)
	if err != nil || sum.Status != store.RunWaitingApproval && sum.Status != store.RunRunning {
		t.Fatalf("summary %+v %v", sum, err)
	}
	check("RunSummary", 1)
	if runs, _, err := b.engine.RunList(ctx, runtime.RunListParams{}); err != nil || len(runs) != 1 {
		t.Fatalf("RunList: %v %v", runs, err)
	}
	check("RunList", 1)
	ws, err := b.engine.Waits(ctx, res.RunID)
	if err != nil || len(ws) != 1 || ws[0].NodeID != "gate" {
		t.Fatalf("Waits: %+v %v", ws, err)
	}
	check("Waits", 1)
	aps, err := b.engine.Approvals(ctx, res.RunID)
	if err != nil || len(aps) != 1 || aps[0].NodeID != "gate" {
		t.Fatalf("Approvals: %+v %v", aps, err)
	}
	check("Approvals", 1)
	if evs, err := b.engine.PendingEvents(ctx, res.RunID); err != nil || len(evs) != 0 {
		t.Fatalf("PendingEvents: %+v %v", evs, err)
	}
	check("PendingEvents", 0)
	if loop, err := b.engine.FailedLoop(ctx, res.RunID); err != nil || loop != "" {
		t.Fatalf("FailedLoop: %q %v", loop, err)
	}
	check("FailedLoop", 0)

	page, err := b.engine.InspectPage(ctx, res.RunID, runtime.InspectParams{Head: 5, Tail: 5})
	if err != nil {
		t.Fatal(err)
	}
	rows, full := ls.take()
	if rows < n || full > 20 {
		t.Errorf("paged inspection: %d node rows listed, %d of them whole; want every node briefly and at most 20 whole", rows, full)
	}
	all, err := b.engine.InspectPage(ctx, res.RunID, runtime.InspectParams{})
	if err != nil {
		t.Fatal(err)
	}
	if page.NodeCount != all.NodeCount || page.NodesOmitted != len(all.Nodes)-10 || len(page.Nodes) != 10 {
		t.Fatalf("paged: %d nodes, %d shown, %d omitted; unpaged: %d nodes, %d shown", page.NodeCount, len(page.Nodes), page.NodesOmitted, all.NodeCount, len(all.Nodes))
	}
	for i, v := range page.Nodes {
		w := all.Nodes[i]
		if i >= 5 {
			w = all.Nodes[len(all.Nodes)-10+i]
		}
		// (a waiting node's duration runs on between the two calls)
		sameDuration := v.Duration == w.Duration || v.FinishedAt.IsZero()
		if v.NodeID != w.NodeID || v.Scope != w.Scope || v.State != w.State || string(v.Output) != string(w.Output) || !sameDuration || !v.StartedAt.Equal(w.StartedAt) {
			t.Errorf("paged node %d: %+v, unpaged %+v", i, v, w)
		}
	}
	if len(page.Approvals) != 1 || len(page.Waits) != 1 || page.Run.Status != all.Run.Status || !page.Run.WaitingSince.Equal(all.Run.WaitingSince) {
		t.Errorf("paged: approvals %d, waits %d, summary %+v; unpaged summary %+v", len(page.Approvals), len(page.Waits), page.Run, all.Run)
	}
	for st, c := range all.NodeStates["s"] {
		if page.NodeStates["s"][st] != c {
			t.Errorf("paged counts of s: %v, unpaged %v", page.NodeStates["s"], all.NodeStates["s"])
		}
	}
}

// TestNodeTimesAcrossACancelAndAResume: a step cancelled while it runs
// has an end (inspect shows how long it ran), and when a resume runs it
// again it loses that end, so that its duration runs on while it runs.
func TestNodeTimesAcrossACancelAndAResume(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 2)
	release := make(chan struct{})
	var calls sync.Map
	wait := runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		started <- struct{}{}
		if _, again := calls.LoadOrStore("w", true); !again {
			<-ctx.Done() // the first attempt runs until the run is cancelled
			return nil, ctx.Err()
		}
		<-release
		return "done", nil
	})
	b := setup(t, runtime.Actions{"wait": wait})
	prog := program("times", nil, step("w", "wait", nil))
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; time.Sleep(20 * time.Millisecond); cancel() }()
	res, err := b.engine.Start(ctx, runtime.StartParams{Program: prog, RunID: "t1"})
	if err != nil || res.Status != store.RunCancelled {
		t.Fatalf("%+v %v", res, err)
	}
	row, err := b.store.NodeGet(context.Background(), &store.NodeGetParams{RunID: "t1", NodeID: "w"})
	if err != nil {
		t.Fatal(err)
	}
	if row.State != store.NodeCancelled || row.FinishedAt.IsZero() || row.FinishedAt.Sub(row.StartedAt) < 20*time.Millisecond {
		t.Fatalf("cancelled row: state %s, started %v, ended %v", row.State, row.StartedAt, row.FinishedAt)
	}
	done := make(chan *runtime.Result, 1)
	go func() {
		r, err := b.engine.Resume(context.Background(), "t1", runtime.ResumeParams{Program: prog})
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	<-started
	var v *runtime.NodeView
	for range 100 { // the running row is queued before the attempt; wait for it to land
		nodes, err := b.engine.NodeTable(context.Background(), "t1")
		if err != nil {
			t.Fatal(err)
		}
		if v = nodes[0]; v.State == store.NodeRunning {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v.State != store.NodeRunning || !v.FinishedAt.IsZero() || !v.StartedAt.Equal(row.StartedAt) {
		t.Errorf("running again: state %s, started %v (first %v), ended %v", v.State, v.StartedAt, row.StartedAt, v.FinishedAt)
	}
	close(release)
	if r := <-done; r == nil || r.Status != store.RunFinished {
		t.Fatalf("resume: %+v", r)
	}
}
