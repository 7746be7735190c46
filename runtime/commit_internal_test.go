package runtime

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
)

// TestCommitterBackpressure: while the store cannot commit (another
// connection holds SQLite's write lock), async writes queue up to
// maxQueued rows and the next writer waits; once the lock is released
// every write is committed, in order.
func TestCommitterBackpressure(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bp.db")
	st, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lock, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	tx, err := lock.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newCommitter(st, nil, nil, nil)
	c.maxRows, c.maxQueued = 10, 50
	const n = 200
	wrote := make(chan int, n)
	go func() {
		for i := 0; i < n; i++ {
			c.write(&store.Batch{Events: []*store.Event{{RunID: "r", Kind: fmt.Sprintf("E%d", i), Time: time.Now()}}})
			wrote <- i
		}
		close(wrote)
	}()
	// The writer gets as far as the queue bound, then waits: it never
	// finishes while the lock is held.
	n0 := 0
	for {
		c.mu.Lock()
		stalled, queued := c.stalls > 0, c.nrows
		c.mu.Unlock()
		if stalled {
			if queued > c.maxQueued {
				t.Errorf("%d rows queued, want at most %d", queued, c.maxQueued)
			}
			break
		}
		select {
		case _, ok := <-wrote:
			if !ok {
				t.Fatalf("all %d writes went through while the store could not commit", n)
			}
			n0++
		case <-time.After(time.Millisecond): // look at the committer again
		}
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	for range wrote {
		n0++
	}
	if n0 != n {
		t.Fatalf("%d writes returned, want %d", n0, n)
	}
	if err := c.close(); err != nil {
		t.Fatal(err)
	}
	evs, err := st.EventList(ctx, &store.EventListParams{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != n {
		t.Fatalf("%d events committed, want %d", len(evs), n)
	}
	for i, e := range evs {
		if e.Kind != fmt.Sprintf("E%d", i) {
			t.Fatalf("event %d is %s: order lost", i, e.Kind)
		}
	}
}

// recordingStore records the events of each committed batch.
type recordingStore struct {
	store.Store
	mu      sync.Mutex
	batches [][]string
}

func (s *recordingStore) BatchCommit(ctx context.Context, b *store.Batch) error {
	if err := s.Store.BatchCommit(ctx, b); err != nil {
		return err
	}
	var kinds []string
	for _, e := range b.Events {
		kinds = append(kinds, e.Kind)
	}
	s.mu.Lock()
	s.batches = append(s.batches, kinds)
	s.mu.Unlock()
	return nil
}

// TestCommitDirectPath: an awaited commit with no transaction in progress
// runs on the caller's goroutine and takes the async writes queued before
// it into the same transaction; commits from many goroutines at once (some
// direct, some through the loop) are all committed, each writer's in its
// order, and each is in the store when commit returns.
func TestCommitDirectPath(t *testing.T) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "d.db"), sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec := &recordingStore{Store: st}
	c := newCommitter(rec, nil, nil, nil)
	ev := func(kind string) *store.Batch {
		return &store.Batch{Events: []*store.Event{{RunID: "r", Kind: kind, Time: time.Now()}}}
	}
	c.write(ev("A1"))
	c.write(ev("A2"))
	if err := c.commit(ctx, ev("C")); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	if len(rec.batches) != 1 || strings.Join(rec.batches[0], " ") != "A1 A2 C" {
		t.Fatalf("batches %q, want one transaction of A1 A2 C", rec.batches)
	}
	rec.mu.Unlock()

	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				kind := fmt.Sprintf("w%d.%d", w, i)
				if i%3 == 0 {
					c.write(ev(kind))
					continue
				}
				if err := c.commit(ctx, ev(kind)); err != nil {
					t.Error(err)
					return
				}
				evs, err := st.EventList(ctx, &store.EventListParams{RunID: "r", Kind: kind})
				if err != nil || len(evs) != 1 {
					t.Errorf("%s: commit returned before it was in the store (%d events, %v)", kind, len(evs), err)
				}
			}
		}()
	}
	wg.Wait()
	if err := c.close(); err != nil {
		t.Fatal(err)
	}
	evs, err := st.EventList(ctx, &store.EventListParams{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3+writers*each {
		t.Fatalf("%d events, want %d", len(evs), 3+writers*each)
	}
	next := make([]int, writers)
	for _, e := range evs[3:] {
		var w, i int
		if _, err := fmt.Sscanf(e.Kind, "w%d.%d", &w, &i); err != nil {
			t.Fatalf("event %q", e.Kind)
		}
		if i != next[w] {
			t.Fatalf("writer %d: event %d committed where %d was next: order lost", w, i, next[w])
		}
		next[w]++
	}
}

// TestObserverTakesBurstsTogether: commits that follow the observer's
// last hand-over within observeDelay reach it together, in commit order,
// and close hands over what is waiting without sitting out the interval
// (here an hour: the test would time out).
func TestObserverTakesBurstsTogether(t *testing.T) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "obs.db"), sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var (
		mu   sync.Mutex
		seen []string
	)
	c := newCommitter(st, nil, func(e store.Event) {
		mu.Lock()
		seen = append(seen, e.Kind)
		mu.Unlock()
	}, nil)
	c.omu.Lock()
	c.observeDelay = time.Hour
	c.omu.Unlock()
	const n = 50
	var want []string
	for i := 0; i < n; i++ {
		kind := fmt.Sprintf("E%d", i)
		want = append(want, kind)
		if err := c.commit(ctx, &store.Batch{Events: []*store.Event{{RunID: "r", Kind: kind, Time: time.Now()}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.close(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Fatalf("observed %v, want %v", seen, want)
	}
	// The first commit is handed over at once (nothing before it), the
	// other 49 wait for the interval's end, which close brings forward:
	// two hand-overs, or one if the observer woke after the burst.
	if c.handovers > 2 {
		t.Fatalf("%d hand-overs for %d commits in one interval, want at most 2", c.handovers, n)
	}
}
