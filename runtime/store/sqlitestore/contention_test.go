package sqlitestore_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
)

// holdWriteLock takes the database's write lock from a separate
// connection (another process would do the same) and returns the function
// that releases it.
func holdWriteLock(t *testing.T, path string) func() {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("take the write lock: %v", err)
	}
	released := false
	release := func() {
		if released {
			return
		}
		released = true
		if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
			t.Errorf("release the write lock: %v", err)
		}
		conn.Close()
		db.Close()
	}
	t.Cleanup(release)
	return release
}

func newRun(id string) *store.RunCreateParams {
	return &store.RunCreateParams{Run: &store.Run{ID: id, Workflow: "w", Status: store.RunRunning}, Now: time.Now()}
}

// TestBusyWriteIsRetriedUntilTheLockIsFree: a write that finds the
// database locked by another connection backs off and tries again
// (counted by BusyRetries) and succeeds once the lock is released.
func TestBusyWriteIsRetriedUntilTheLockIsFree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "busy.db")
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{LockTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release := holdWriteLock(t, path)
	done := make(chan error, 1)
	go func() {
		_, err := s.RunCreate(ctx, newRun("r1"))
		done <- err
	}()
	for s.BusyRetries() < 2 {
		select {
		case err := <-done:
			t.Fatalf("the write ended while the lock was held: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("write after the lock was released: %v", err)
	}
	if _, err := s.RunGetByID(ctx, &store.RunGetByIDParams{ID: "r1"}); err != nil {
		t.Fatal(err)
	}
}

// TestLockHeldTooLongIsUnavailable: past the lock timeout the write fails
// with store.ErrUnavailable, the message names the file and the lock, and
// nothing was written.
func TestLockHeldTooLongIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "locked.db")
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{LockTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release := holdWriteLock(t, path)
	_, err = s.RunCreate(ctx, newRun("r1"))
	release()
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("RunCreate under a held lock: %v, want ErrUnavailable", err)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "locked") {
		t.Errorf("message %q does not name the file and the lock", msg)
	}
	if s.BusyRetries() == 0 {
		t.Error("no busy retry was counted")
	}
	if _, err := s.RunGetByID(ctx, &store.RunGetByIDParams{ID: "r1"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the failed create left a run: %v", err)
	}
}

// TestReadOnlyOpen: a read-only store never creates a file, never
// migrates, reads while another connection holds the write lock, and
// refuses writes.
func TestReadOnlyOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()

	missing := filepath.Join(dir, "missing.db")
	_, err := sqlitestore.Open(ctx, missing, sqlitestore.Options{ReadOnly: true})
	if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), missing) {
		t.Errorf("read-only open of a missing file: %v, want ErrNotFound naming the path", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only open created %s", missing)
	}

	// A database that was never migrated is refused, and stays unmigrated.
	bare := filepath.Join(dir, "bare.db")
	b, err := sqlitestore.Open(ctx, bare, sqlitestore.Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if _, err := sqlitestore.Open(ctx, bare, sqlitestore.Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "not a smithc store") {
		t.Errorf("read-only open of an unmigrated file: %v", err)
	}
	if n := countTables(t, bare); n != 0 {
		t.Errorf("the read-only open created %d tables", n)
	}

	path := filepath.Join(dir, "s.db")
	w, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.RunCreate(ctx, newRun("r1")); err != nil {
		t.Fatal(err)
	}
	holdWriteLock(t, path)
	r, err := sqlitestore.Open(ctx, path, sqlitestore.Options{ReadOnly: true, LockTimeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("read-only open while the write lock is held: %v", err)
	}
	defer r.Close()
	runs, err := r.RunList(ctx, &store.RunListParams{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("list runs read-only: %v, %d runs", err, len(runs))
	}
	if _, err := r.RunCreate(ctx, newRun("r2")); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("write through a read-only store: %v", err)
	}
}

func countTables(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestNewerSchemaIsRefused: a database migrated past the versions this
// binary knows is refused by both opens with a message saying so, whether
// the newer smithc stamped its version in the file's header (as Migrate
// does) or only recorded it in schema_migration.
func TestNewerSchemaIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, stamp := range []string{`PRAGMA user_version = 9999`, `PRAGMA user_version = 0`} {
		path := filepath.Join(t.TempDir(), "newer.db")
		s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{`INSERT INTO schema_migration (version, name) VALUES (9999, 'from_the_future')`, stamp} {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
		for _, ro := range []bool{false, true} {
			_, err := sqlitestore.Open(ctx, path, sqlitestore.Options{ReadOnly: ro})
			if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "newer smithc") || !strings.Contains(err.Error(), "9999") {
				t.Errorf("open (read-only %v, %s) of a newer database: %v", ro, stamp, err)
			}
		}
	}
}

// TestBatchGivenUpWhileLockedLeavesTheWriterUsable: a batch whose
// context ends while it waits for the write lock fails and writes
// nothing; the writer's connection is not left in a transaction (the
// next batch, once the lock is free, commits, and is read back).
func TestBatchGivenUpWhileLockedLeavesTheWriterUsable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{LockTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.RunCreate(ctx, newRun("r1")); err != nil {
		t.Fatal(err)
	}
	batch := func(node string) *store.Batch {
		return &store.Batch{Nodes: []*store.Node{{RunID: "r1", NodeID: node, State: store.NodeFinished, UpdatedAt: time.Now()}},
			Events: []*store.Event{{RunID: "r1", NodeID: node, Kind: "NodeFinished", Time: time.Now()}}}
	}
	if err := s.BatchCommit(ctx, batch("a")); err != nil { // statements prepared
		t.Fatal(err)
	}
	release := holdWriteLock(t, path)
	short, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
	defer cancel()
	if err := s.BatchCommit(short, batch("b")); err == nil {
		t.Fatal("a batch committed while another connection held the write lock")
	}
	release()
	if err := s.BatchCommit(ctx, batch("c")); err != nil {
		t.Fatalf("the batch after: %v", err)
	}
	nodes, err := s.NodeList(ctx, &store.NodeListParams{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range nodes {
		ids = append(ids, n.NodeID)
	}
	if strings.Join(ids, ",") != "a,c" {
		t.Errorf("nodes %v, want a and c (b given up)", ids)
	}
	// the writer's own view is committed: a reopened store reads c too
	s.Close()
	s2, err := sqlitestore.Open(ctx, path, sqlitestore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.NodeGet(ctx, &store.NodeGetParams{RunID: "r1", NodeID: "c"}); err != nil {
		t.Errorf("after close: %v", err)
	}
}
