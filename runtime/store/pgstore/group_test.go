package pgstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smithc/smithc/internal/pgtest"
	"github.com/smithc/smithc/runtime/store"
)

// TestGroupCommit: batches of different runs committed while the one
// transaction allowed in flight is blocked (another connection holds the
// first run's lock) go together into the next transaction (their rows
// have one xmin); a batch with a stale fence among them fails alone with
// ErrConflict and the others commit; a batch whose caller gives up while
// it is queued is withdrawn, not committed.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.NewDatabase(t), Options{CommitConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC().Truncate(time.Microsecond)
	const n = 8
	fences := map[string]*store.Fence{}
	for i := 0; i <= 3*n; i++ {
		id := fmt.Sprintf("r%02d", i)
		if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: id, Workflow: "w", Status: store.RunRunning}, Now: now}); err != nil {
			t.Fatal(err)
		}
		r, err := s.RunClaim(ctx, &store.RunClaimParams{ID: id, Owner: "me", OwnerStart: "1", LeaseExpiresAt: now.Add(time.Hour), Now: now})
		if err != nil {
			t.Fatal(err)
		}
		fences[id] = &store.Fence{RunID: id, Owner: "me", Token: r.Fence}
	}
	batch := func(id string) *store.Batch {
		return &store.Batch{Fence: fences[id],
			Nodes:  []*store.Node{{RunID: id, NodeID: "a", State: store.NodeFinished, UpdatedAt: now}},
			Events: []*store.Event{{RunID: id, Kind: "NodeFinished", Time: now}, {RunID: id, NodeID: "a", Kind: "X", Time: now}}}
	}

	// round blocks the store's transaction on run r00's lock, queues the
	// batches of ids behind it, then releases the lock; it returns each
	// batch's outcome.
	round := func(ids []string, ctxOf func(id string) context.Context, queued func()) map[string]error {
		t.Helper()
		blocker, err := s.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer blocker.Rollback(ctx) //nolint:errcheck // after Commit, a no-op
		if _, err := blocker.Exec(ctx, lockSQL, []string{"r00"}); err != nil {
			t.Fatal(err)
		}
		first := make(chan error, 1)
		go func() {
			first <- s.BatchCommit(ctx, &store.Batch{Events: []*store.Event{{RunID: "r00", Kind: "Block", Time: now}}})
		}()
		// Taken and blocked on the lock: until a transaction waits on an
		// advisory lock, a leader left from the round before (still
		// gathering) could take the first batch together with the next.
		waitFor(t, "the first batch to be taken and blocked", func(g *group) bool {
			if g.active != 1 || len(g.queue) != 0 {
				return false
			}
			var waiting int
			err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&waiting)
			return err == nil && waiting == 1
		}, &s.group)
		type res struct {
			id  string
			err error
		}
		results := make(chan res, len(ids))
		for _, id := range ids {
			go func() { results <- res{id, s.BatchCommit(ctxOf(id), batch(id))} }()
		}
		waitFor(t, "the batches to queue", func(g *group) bool { return len(g.queue) == len(ids) }, &s.group)
		queued()
		if err := blocker.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		out := map[string]error{}
		for range ids {
			r := <-results
			out[r.id] = r.err
		}
		return out
	}
	xmins := func(ids []string) (int, int) {
		var rows, distinct int
		if err := s.pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT xmin::text) FROM event WHERE run_id = ANY($1)`, ids).Scan(&rows, &distinct); err != nil {
			t.Fatal(err)
		}
		return rows, distinct
	}
	same := func(string) context.Context { return ctx }

	var ids []string
	for i := 1; i <= n; i++ {
		ids = append(ids, fmt.Sprintf("r%02d", i))
	}
	for id, err := range round(ids, same, func() {}) {
		if err != nil {
			t.Errorf("batch of %s: %v", id, err)
		}
	}
	if rows, distinct := xmins(ids); rows != 2*n || distinct != 1 {
		t.Errorf("%d events in %d transactions, want %d in one", rows, distinct, 2*n)
	}

	ids = ids[:0]
	for i := n + 1; i <= 2*n; i++ {
		ids = append(ids, fmt.Sprintf("r%02d", i))
	}
	stale := ids[3]
	fences[stale] = &store.Fence{RunID: stale, Owner: "me", Token: fences[stale].Token - 1}
	for id, err := range round(ids, same, func() {}) {
		if id == stale {
			if !errors.Is(err, store.ErrConflict) {
				t.Errorf("batch with a stale fence: %v, want ErrConflict", err)
			}
		} else if err != nil {
			t.Errorf("batch of %s beside a stale fence: %v", id, err)
		}
	}
	if rows, _ := xmins([]string{stale}); rows != 0 {
		t.Errorf("the stale batch wrote %d events", rows)
	}
	if rows, _ := xmins(ids); rows != 2*(n-1) {
		t.Errorf("%d events beside the stale batch, want %d", rows, 2*(n-1))
	}

	ids = ids[:0]
	for i := 2*n + 1; i <= 3*n; i++ {
		ids = append(ids, fmt.Sprintf("r%02d", i))
	}
	gone, cancel := context.WithCancel(ctx)
	quitter := ids[0]
	outcome := round(ids, func(id string) context.Context {
		if id == quitter {
			return gone
		}
		return ctx
	}, func() {
		cancel()
		waitFor(t, "the batch to be withdrawn", func(g *group) bool { return len(g.queue) == len(ids)-1 }, &s.group)
	})
	if !errors.Is(outcome[quitter], context.Canceled) {
		t.Errorf("withdrawn batch: %v, want context.Canceled", outcome[quitter])
	}
	if rows, _ := xmins([]string{quitter}); rows != 0 {
		t.Errorf("the withdrawn batch wrote %d events", rows)
	}
	var seqs []int64
	rows, err := s.pool.Query(ctx, `SELECT seq FROM event WHERE run_id = $1 ORDER BY seq`, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	if seqs, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil || len(seqs) != 2 || seqs[0] >= seqs[1] {
		t.Errorf("events of a grouped batch: seqs %v, %v", seqs, err)
	}
}

func waitFor(t *testing.T, what string, cond func(*group) bool, g *group) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		g.mu.Lock()
		ok := cond(g)
		g.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
