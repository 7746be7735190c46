package runtime_test

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// inputReadStore counts a live run's reads of its own row: how many read
// the stored input, and how many did not.
type inputReadStore struct {
	store.Store
	mu               sync.Mutex
	withInput, light int
	beats            int
}

func (s *inputReadStore) RunGetByID(ctx context.Context, p *store.RunGetByIDParams) (*store.Run, error) {
	s.mu.Lock()
	if p.NoInput {
		s.light++
	} else {
		s.withInput++
	}
	s.mu.Unlock()
	return s.Store.RunGetByID(ctx, p)
}

func (s *inputReadStore) RunHeartbeat(ctx context.Context, p *store.RunHeartbeatParams) (*store.Run, error) {
	s.mu.Lock()
	s.beats++
	s.mu.Unlock()
	return s.Store.RunHeartbeat(ctx, p)
}

// TestLivePollsDoNotReadTheInput: a live run polls its row for a cancel
// or a pause at every PollInterval and renews its lease: none of those
// reads carries the run's input, which the run decoded once at its start
// (a 10 MB input was read four times a second: 0.8 s of CPU in a run of
// 3 s). The steps still read the input.
func TestLivePollsDoNotReadTheInput(t *testing.T) {
	var rs *inputReadStore
	bd := setup(t, nil, func(c *runtime.Config) {
		rs = &inputReadStore{Store: c.Store}
		c.Store = rs
		c.PollInterval = 5 * time.Millisecond
		c.LeaseDuration = 60 * time.Millisecond // a renewal every 20 ms
	})
	in := schema.ObjectOf(&schema.Field{Name: "text", Type: schema.StringType})
	prog := program("big", in, sh("wait", x(`"sleep 0.3"`)), value("n", "len(input.text)", withNeeds("wait")))
	text := strings.Repeat("x", 100_000)
	res, err := bd.engine.Start(context.Background(), runtime.StartParams{Program: prog, Input: map[string]any{"text": text}})
	if err != nil || res.Status != store.RunFinished || res.Output != int64(len(text)) {
		t.Fatalf("%+v %v", res, err)
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	t.Logf("polls without the input %d, with it %d, lease renewals %d", rs.light, rs.withInput, rs.beats)
	if rs.light+rs.beats < 10 {
		t.Fatalf("%d polls and %d renewals in 0.3 s: the test did not see the run poll", rs.light, rs.beats)
	}
	if rs.withInput != 0 {
		t.Errorf("a live run read its row with the input %d times, want 0", rs.withInput)
	}
}

// TestFirstSessionReadsTheStoredInput: the first session reads the input
// as a resume will, decoded from the stored encoding (2.0 is stored as 2
// and read as an integer), although it computes that value instead of
// decoding the encoding it has just stored.
func TestFirstSessionReadsTheStoredInput(t *testing.T) {
	bd := setup(t, nil)
	in := schema.ObjectOf(&schema.Field{Name: "x", Type: schema.AnyType})
	prog := program("reads", in, value("v", "input.x"))
	given := map[string]any{"x": map[string]any{"f": 2.0, "l": []any{1.0, 2.5, "é"}, "z": math.Copysign(0, -1)}}
	res, err := bd.engine.Start(context.Background(), runtime.StartParams{Program: prog, Input: given})
	if err != nil || res.Status != store.RunFinished {
		t.Fatalf("%+v %v", res, err)
	}
	want := map[string]any{"f": int64(2), "l": []any{int64(1), 2.5, "é"}, "z": int64(0)}
	if diff := cmp.Diff(want, res.Output); diff != "" {
		t.Errorf("the first session read the input otherwise than a resume reads it (-want +got):\n%s", diff)
	}
	run, err := bd.store.RunGetByID(context.Background(), &store.RunGetByIDParams{ID: res.RunID})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := schema.DecodeJSON(run.Input)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"x": want}, stored); diff != "" {
		t.Errorf("stored input (-read +stored):\n%s", diff)
	}
}
