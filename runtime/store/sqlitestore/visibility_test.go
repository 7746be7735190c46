package sqlitestore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
)

// TestCommitsAreVisibleAtTheNextRead: several stores on one file (as
// several worker processes would have), each with writers committing
// batches to runs of their own while readers list and read with
// contexts that end at random moments (a worker stopping, a run's
// session ending). After each commit returns, a read of the run through
// the writer's store and through another store shows it; at the end,
// with every store still open and idle, a checkpoint copies the whole
// log back (no reader connection kept an old snapshot open).
func TestCommitsAreVisibleAtTheNextRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vis.db")
	const nstores, writersPer, commits = 3, 3, 60
	stores := make([]*sqlitestore.Store, nstores)
	for i := range stores {
		s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}

	stop := make(chan struct{})
	var readers sync.WaitGroup
	for i, s := range stores {
		readers.Add(1)
		go func() {
			defer readers.Done()
			r := rand.New(rand.NewPCG(uint64(i), 1))
			for {
				select {
				case <-stop:
					return
				default:
				}
				// A context that may end before, during or after the read.
				rctx, cancel := context.WithTimeout(ctx, time.Duration(r.IntN(300))*time.Microsecond)
				switch r.IntN(4) {
				case 0:
					s.RunList(rctx, &store.RunListParams{Statuses: []store.RunStatus{store.RunRunning}}) //nolint:errcheck // any outcome
				case 1:
					s.RunList(rctx, &store.RunListParams{Statuses: []store.RunStatus{store.RunRunning}, FreeAt: time.Now(), Oldest: true, Limit: 4}) //nolint:errcheck
				case 2:
					s.EventList(rctx, &store.EventListParams{RunID: fmt.Sprintf("r-%d-%d", r.IntN(nstores), r.IntN(writersPer))}) //nolint:errcheck
				case 3:
					s.NodeList(rctx, &store.NodeListParams{RunID: fmt.Sprintf("r-%d-%d", r.IntN(nstores), r.IntN(writersPer))}) //nolint:errcheck
				}
				cancel()
			}
		}()
	}

	var writers sync.WaitGroup
	errs := make(chan error, nstores*writersPer)
	for i, s := range stores {
		other := stores[(i+1)%nstores]
		for j := 0; j < writersPer; j++ {
			id := fmt.Sprintf("r-%d-%d", i, j)
			if _, err := s.RunCreate(ctx, newRun(id)); err != nil {
				t.Fatal(err)
			}
			writers.Add(1)
			go func() {
				defer writers.Done()
				errs <- commitAndRead(ctx, s, other, id, commits)
			}()
		}
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}

	// Every store is open and idle: nothing may hold a read snapshot, so
	// a passive checkpoint copies every frame of the log.
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A store's background checkpointer may be checkpointing at this
	// moment (the writers have just gone idle): busy then, tried again.
	var busy, logFrames, done int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &done); err != nil {
			t.Fatal(err)
		}
		if busy == 0 || time.Now().After(deadline) {
			break
		}
	}
	if busy != 0 || done != logFrames {
		t.Errorf("checkpoint with every store idle: busy %d, %d of %d log frames copied: a connection keeps an old read snapshot", busy, done, logFrames)
	}
}

// commitAndRead commits n batches to run id through s, each setting the
// run's output to its number with an event, and after each checks that
// s and other read that output and that event.
func commitAndRead(ctx context.Context, s, other *sqlitestore.Store, id string, n int) error {
	for k := 1; k <= n; k++ {
		out := json.RawMessage(strconv.Itoa(k))
		now := time.Now()
		b := &store.Batch{
			Runs:   []*store.RunUpdateParams{{ID: id, Output: out, Now: now}},
			Events: []*store.Event{{RunID: id, Kind: "Step", Time: now, Data: out}},
		}
		if err := s.BatchCommit(ctx, b); err != nil {
			return fmt.Errorf("run %s, commit %d: %w", id, k, err)
		}
		for name, st := range map[string]*sqlitestore.Store{"its own store": s, "another store": other} {
			r, err := st.RunGetByID(ctx, &store.RunGetByIDParams{ID: id})
			if err != nil {
				return fmt.Errorf("run %s, after commit %d: %w", id, k, err)
			}
			if string(r.Output) != string(out) {
				return fmt.Errorf("run %s: after commit %d returned, %s reads output %s", id, k, name, r.Output)
			}
			evs, err := st.EventList(ctx, &store.EventListParams{RunID: id})
			if err != nil {
				return fmt.Errorf("run %s, after commit %d: %w", id, k, err)
			}
			if len(evs) != k {
				return fmt.Errorf("run %s: after commit %d returned, %s reads %d events", id, k, name, len(evs))
			}
		}
	}
	return nil
}
