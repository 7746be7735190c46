package sqlitestore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
)

// TestOpenOfAnUpToDateStoreWritesNothing: opening a database whose
// schema is current neither takes the write lock (it opens while another
// connection holds it) nor changes a byte of the file; a read and a close
// leave it as it was, and no WAL frame is left behind.
func TestOpenOfAnUpToDateStoreWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "smithers.db")
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // a write would then show in the mtime

	release := holdWriteLock(t, path)
	s, err = sqlitestore.Open(ctx, path, sqlitestore.Options{LockTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("open of an up-to-date store while another connection holds the write lock: %v", err)
	}
	if _, err := s.RunList(ctx, &store.RunListParams{}); err != nil {
		t.Fatalf("list runs: %v", err)
	}
	if wal, err := os.Stat(path + "-wal"); err == nil && wal.Size() != 0 {
		t.Errorf("the open wrote %d bytes of WAL", wal.Size())
	}
	release()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi2, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) || !fi.ModTime().Equal(fi2.ModTime()) {
		t.Errorf("open, read and close changed the database file (size %d → %d, mtime %v → %v)", fi.Size(), fi2.Size(), fi.ModTime(), fi2.ModTime())
	}
	if wal, err := os.Stat(path + "-wal"); err == nil && wal.Size() != 0 {
		t.Errorf("a WAL of %d bytes is left after close", wal.Size())
	}
}

// TestBatchOfManyRows: a batch of 100 nodes and 103 events (written in
// multi-row chunks of 64, 32, 4, 2 and 1) commits every row, and each
// event gets the seq the log lists it under, in order.
func TestBatchOfManyRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTemp(t)
	now := time.Now()
	if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: "r", Workflow: "w", Status: store.RunRunning}, Now: now}); err != nil {
		t.Fatal(err)
	}
	var b store.Batch
	for i := 0; i < 100; i++ {
		b.Nodes = append(b.Nodes, &store.Node{RunID: "r", NodeID: fmt.Sprintf("n%d", i), Kind: "step", State: store.NodeFinished, UpdatedAt: now})
	}
	for i := 0; i < 103; i++ {
		b.Events = append(b.Events, &store.Event{RunID: "r", NodeID: fmt.Sprintf("n%d", i%100), Kind: fmt.Sprintf("K%d", i), Time: now})
	}
	for i := 0; i < 70; i++ {
		b.AttemptStarts = append(b.AttemptStarts, &store.Attempt{RunID: "r", NodeID: fmt.Sprintf("n%d", i), Number: 1, State: store.AttemptRunning, StartedAt: now})
	}
	if err := s.BatchCommit(ctx, &b); err != nil {
		t.Fatal(err)
	}
	if as, err := s.AttemptList(ctx, &store.AttemptListParams{RunID: "r"}); err != nil || len(as) != 70 {
		t.Fatalf("%d attempts, %v", len(as), err)
	}
	// A chunk holding an attempt that exists fails as a conflict naming
	// it, and commits nothing of its batch.
	dup := &store.Batch{Events: []*store.Event{{RunID: "r", Kind: "Dup", Time: now}}}
	for _, id := range []string{"m1", "n5", "m2"} {
		dup.AttemptStarts = append(dup.AttemptStarts, &store.Attempt{RunID: "r", NodeID: id, Number: 1, State: store.AttemptRunning, StartedAt: now})
	}
	if err := s.BatchCommit(ctx, dup); !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), `"n5"`) {
		t.Errorf("batch with an existing attempt: %v, want a conflict naming n5", err)
	}
	nodes, err := s.NodeList(ctx, &store.NodeListParams{RunID: "r"})
	if err != nil || len(nodes) != 100 {
		t.Fatalf("%d nodes, %v", len(nodes), err)
	}
	events, err := s.EventList(ctx, &store.EventListParams{RunID: "r"})
	if err != nil || len(events) != 103 { // not the Dup event
		t.Fatalf("%d events, %v", len(events), err)
	}
	for i, e := range events {
		if e.Kind != b.Events[i].Kind || e.Seq != b.Events[i].Seq {
			t.Errorf("event %d: listed %s seq %d, committed %s seq %d", i, e.Kind, e.Seq, b.Events[i].Kind, b.Events[i].Seq)
		}
	}
}
