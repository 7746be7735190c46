package runtime

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
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
