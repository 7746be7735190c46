//go:build unix

package sqlitestore

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smithc/smithc/runtime/store"
)

// openWatched opens a store named name in a temporary directory with
// the checkpointer at frames, closed at the test's end, and returns its
// path, the store, its checkpoints' stats as they happen, and the fence
// of its run "r".
func openWatched(t *testing.T, name string, frames int) (string, *Store, <-chan CheckpointStats, *store.Fence) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	s, err := Open(context.Background(), path, Options{CheckpointFrames: frames})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return path, s, watch(s), ckptRun(t, s, "r")
}

// commitElements commits n one-element batches of fence's run, one
// after the other.
func commitElements(t testing.TB, s *Store, fence *store.Fence, n int) {
	t.Helper()
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		if err := s.BatchCommit(context.Background(), elementBatch(fence, i, 1, now)); err != nil {
			t.Fatal(err)
		}
	}
}

// ckptRun creates and claims run id and returns its fence.
func ckptRun(t testing.TB, s *Store, id string) *store.Fence {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: id, Workflow: "seq", Status: store.RunRunning}, Now: now}); err != nil {
		t.Fatal(err)
	}
	run, err := s.RunClaim(ctx, &store.RunClaimParams{ID: id, Owner: "24622@vm", LeaseExpiresAt: now.Add(time.Hour), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return &store.Fence{RunID: id, Owner: "24622@vm", Token: run.Fence}
}

// watch makes the checkpointer send its stats after every attempt.
func watch(s *Store) <-chan CheckpointStats {
	ch := make(chan CheckpointStats, 1<<16)
	f := func(st CheckpointStats) {
		select {
		case ch <- st:
		default:
		}
	}
	s.ckpt.after.Store(&f)
	return ch
}

// waitFor receives stats until ok holds; it fails the test if none
// comes for a minute (the checkpointer stopped working).
func waitFor(t *testing.T, ch <-chan CheckpointStats, what string, ok func(CheckpointStats) bool) CheckpointStats {
	t.Helper()
	for {
		select {
		case st := <-ch:
			if ok(st) {
				return st
			}
		case <-time.After(time.Minute):
			t.Fatalf("no checkpoint %s for a minute", what)
		}
	}
}

// walFrames is the -wal file's length in frames.
func walFrames(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() <= 32 {
		return 0
	}
	return (fi.Size() - 32) / (4096 + 24)
}

// walRestarts is the -wal file header's checkpoint sequence number: it
// grows by one each time the log restarts from its start (0 with no
// header).
func walRestarts(t *testing.T, path string) uint32 {
	t.Helper()
	b, err := os.ReadFile(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 32 {
		return 0
	}
	return binary.BigEndian.Uint32(b[12:16])
}

// countNodes counts run id's node rows in the database file at path,
// opened afresh (read-only) after every store on it is closed.
func countNodes(t *testing.T, path, id string) int {
	t.Helper()
	ctx := context.Background()
	r, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var n int
	if err := r.DB().QueryRowContext(ctx, `SELECT count(*) FROM node WHERE run_id = ?`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	var ok string
	if err := r.DB().QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q, %v", ok, err)
	}
	return n
}

// TestCheckpointerKeepsTheLogShort: a writer that pauses whenever it
// has written a threshold of frames until the checkpointer has copied
// them restarts the log from its start at its next commit (the -wal
// header's checkpoint sequence number grows), many times more often than
// SQLite's own automatic checkpoint would (every 1,000 frames), and the
// -wal file stays short; one that never pauses stays bounded too (the
// checkpointer asks the writer to restart the log).
func TestCheckpointerKeepsTheLogShort(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const threshold = 32
	path := filepath.Join(t.TempDir(), "short.db")
	s, err := Open(ctx, path, Options{CheckpointFrames: threshold})
	if err != nil {
		t.Fatal(err)
	}
	fence := ckptRun(t, s, "r")
	// the schema's frames gone: Close truncates the -wal file
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(ctx, path, Options{CheckpointFrames: threshold}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ch := watch(s)
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	var most int64
	seq0 := walRestarts(t, path)
	n := 0
	for ; n < 600; n++ {
		if err := s.BatchCommit(ctx, elementBatch(fence, n, 1, now)); err != nil {
			t.Fatal(err)
		}
		most = max(most, walFrames(t, path))
		if s.ckpt.frames.Load() >= threshold {
			// every frame copied (by a checkpoint that began after the
			// last commit, at the threshold or once the writer is idle)
			waitFor(t, ch, "completed", func(st CheckpointStats) bool { return s.ckpt.frames.Load() == 0 })
		}
	}
	t.Logf("pausing writer: the -wal file's longest: %d frames, %d restarts; %+v", most, walRestarts(t, path)-seq0, s.CheckpointStats())
	if st := s.CheckpointStats(); st.Complete < 10 {
		t.Errorf("%d commits: %+v, want checkpoints", n, st)
	}
	// about 2,400 frames: SQLite alone would restart the log twice
	if restarts := walRestarts(t, path) - seq0; restarts < 10 {
		t.Errorf("the log restarted %d times in %d commits with a checkpoint every %d frames", restarts, n, threshold)
	}
	if most >= restartFrames {
		t.Errorf("the -wal file grew to %d frames with a checkpoint every %d", most, threshold)
	}

	// without pauses: 6,000 frames or so, in one burst
	most = 0
	seq0 = walRestarts(t, path)
	for end := n + 1500; n < end; n++ {
		if err := s.BatchCommit(ctx, elementBatch(fence, n, 1, now)); err != nil {
			t.Fatal(err)
		}
		most = max(most, walFrames(t, path))
	}
	t.Logf("a burst: the -wal file's longest: %d frames, %d restarts; %+v", most, walRestarts(t, path)-seq0, s.CheckpointStats())
	// (a checkpointer always running once kept SQLite's own automatic
	// checkpoint from restarting the log: 3,000 frames and growing)
	if restarts := walRestarts(t, path) - seq0; restarts < 3 || most > 3*restartFrames {
		t.Errorf("a burst of about 6,000 frames restarted the log %d times and grew the -wal file to %d frames", restarts, most)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := countNodes(t, path, "r"); got != n {
		t.Fatalf("after reopen: %d nodes, want %d", got, n)
	}
}

// TestCloseAfterABurstLeavesAnEmptyLog: after commits the checkpointer
// copied in part, Close leaves a -wal file of zero bytes, and the
// database file alone (copied elsewhere) holds every commit.
func TestCloseAfterABurstLeavesAnEmptyLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "burst.db")
	s, err := Open(ctx, path, Options{CheckpointFrames: 64})
	if err != nil {
		t.Fatal(err)
	}
	ch := watch(s)
	fence := ckptRun(t, s, "r")
	const n = 400
	commitElements(t, s, fence, n)
	waitFor(t, ch, "completed", func(st CheckpointStats) bool { return st.Complete > 0 })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.ckpt.done:
	default:
		t.Fatal("the checkpointer's goroutine is still running after Close")
	}
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() != 0 {
		t.Fatalf("after close: the -wal file: %v, %v (want 0 bytes)", fi, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	alone := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(alone, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := countNodes(t, alone, "r"); got != n {
		t.Fatalf("the database file alone: %d nodes, want %d", got, n)
	}
}

// TestCheckpointsBesideReadersLoseNothing: commits made while background
// checkpoints run, with a reader of this store reading all along and a
// connection of another process open and reading, are all in the
// database after Close and a reopen, and it is intact. Checkpoints that
// could not copy what a reader still reads are tried again.
func TestCheckpointsBesideReadersLoseNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path, s, ch, fence := openWatched(t, "readers.db", 16)
	other := helper(t, "read", path)
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		var last int
		for {
			select {
			case <-stop:
				readErr <- nil
				return
			default:
			}
			// a read transaction that lasts a while: checkpoints behind it
			// stop at its snapshot
			tx, err := s.DB().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
			if err != nil {
				readErr <- err
				return
			}
			var n int
			err = tx.QueryRowContext(ctx, `SELECT count(*) FROM node WHERE run_id = 'r'`).Scan(&n)
			time.Sleep(time.Millisecond)
			tx.Rollback() //nolint:errcheck // read only
			if err != nil {
				readErr <- err
				return
			}
			if n < last {
				readErr <- fmt.Errorf("a read saw %d nodes after one saw %d", n, last)
				return
			}
			last = n
		}
	}()
	const n = 1500
	commitElements(t, s, fence, n)
	waitFor(t, ch, "completed", func(st CheckpointStats) bool { return st.Complete > 0 })
	close(stop)
	if err := <-readErr; err != nil {
		t.Fatal(err)
	}
	other.stop(t)
	st := s.CheckpointStats()
	t.Logf("checkpoints: %+v", st)
	if st.Errors != 0 {
		t.Errorf("checkpoint errors: %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := countNodes(t, path, "r"); got != n {
		t.Fatalf("after reopen: %d nodes, want %d", got, n)
	}
}

// TestBusyCheckpointIsRetried: while another process holds the WAL's
// checkpoint lock (as its own checkpoint does), background checkpoints
// fail busy, are counted, do not fail the commits, and are tried again
// without another commit once the lock is free.
func TestBusyCheckpointIsRetried(t *testing.T) {
	t.Parallel()
	path, s, ch, fence := openWatched(t, "busy.db", 16)
	lock := helper(t, "lock", path)
	const n = 100
	commitElements(t, s, fence, n)
	st := waitFor(t, ch, "refused busy", func(st CheckpointStats) bool { return st.Busy > 0 })
	if st.Complete != 0 {
		t.Fatalf("a checkpoint completed while the lock was held: %+v", st)
	}
	lock.stop(t)
	st = waitFor(t, ch, "completed after the lock was released", func(st CheckpointStats) bool { return st.Complete > 0 })
	if st.Checkpointed != st.Frames || st.LastErr != nil {
		t.Errorf("the retry: %+v, want every frame copied", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := countNodes(t, path, "r"); got != n {
		t.Fatalf("after reopen: %d nodes, want %d", got, n)
	}
}

// TestReadOnlyAndOffHaveNoCheckpointer: a read-only store, one with
// CheckpointFrames < 0 and one with Synchronous FULL (unless asked)
// start no checkpointer; NORMAL does.
func TestReadOnlyAndOffHaveNoCheckpointer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ro.db")
	for _, c := range []struct {
		opts Options
		want bool
	}{{Options{}, true}, {Options{Synchronous: "FULL"}, false}, {Options{Synchronous: "FULL", CheckpointFrames: 512}, true}} {
		s, err := Open(ctx, path, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.ckpt != nil; got != c.want {
			t.Errorf("%+v: a checkpointer: %v, want %v", c.opts, got, c.want)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(ctx, path, Options{CheckpointFrames: -1})
	if err != nil {
		t.Fatal(err)
	}
	if s.ckpt != nil {
		t.Error("CheckpointFrames -1 started a checkpointer")
	}
	fence := ckptRun(t, s, "r")
	if err := s.BatchCommit(ctx, elementBatch(fence, 0, 1, time.Now())); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.ckpt != nil {
		t.Error("a read-only store started a checkpointer")
	}
}

// TestFullDurabilityFsyncsEveryCommit: with Synchronous FULL (smithc
// run --durability full) and a background checkpointer (asked for: FULL
// has none by default) every commit fsyncs the -wal file, the
// checkpointer's fsyncs besides; with NORMAL commits do not. Counted
// with strace in a child process.
func TestFullDurabilityFsyncsEveryCommit(t *testing.T) {
	t.Parallel()
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed (apt-get install strace): it counts the fsyncs")
	}
	const n = 50
	count := func(sync string) (fsyncs, checkpoints int) {
		dir := t.TempDir()
		out := filepath.Join(dir, "trace")
		cmd := exec.Command(strace, "-f", "-y", "-e", "trace=fsync,fdatasync", "-o", out, os.Args[0], "-test.run=^TestHelperProcess$")
		cmd.Env = append(os.Environ(), "SQLITESTORE_HELPER=commits", "SQLITESTORE_HELPER_DB="+filepath.Join(dir, "full.db"),
			"SQLITESTORE_HELPER_SYNC="+sync, fmt.Sprintf("SQLITESTORE_HELPER_N=%d", n))
		o, err := cmd.CombinedOutput()
		if err != nil {
			if strings.Contains(string(o), "ptrace") {
				t.Skipf("strace cannot trace here: %s", o)
			}
			t.Fatalf("%s: %v\n%s", cmd, err, o)
		}
		m := regexp.MustCompile(`checkpoints=(\d+)`).FindSubmatch(o)
		if m == nil {
			t.Fatalf("the helper did not say how many checkpoints it ran:\n%s", o)
		}
		fmt.Sscan(string(m[1]), &checkpoints) //nolint:errcheck // digits
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		// each call, whole ("...) = 0") or split by another thread's
		// ("... <unfinished ...>", then "<... fsync resumed>")
		return len(regexp.MustCompile(`f(data)?sync\(\d+<[^>]*full\.db-wal>`).FindAll(b, -1)), checkpoints
	}
	full, fullCk := count("FULL")
	normal, normalCk := count("NORMAL")
	t.Logf("fsyncs of the -wal file for %d commits: FULL %d (%d checkpoints), NORMAL %d (%d checkpoints)", n, full, fullCk, normal, normalCk)
	if full < n {
		t.Errorf("FULL: %d fsyncs of the -wal file for %d commits", full, n)
	}
	// NORMAL: the log's header, then per checkpoint one and one for the
	// header of the log it restarts, and Close's
	if normal > 2*normalCk+2 {
		t.Errorf("NORMAL: %d fsyncs of the -wal file for %d commits and %d checkpoints (the count does not tell FULL's apart)", normal, n, normalCk)
	}
}

// proc is a helper process.
type proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// helper starts this test binary as a helper process in mode on the
// database at path, and waits until it is ready.
func helper(t *testing.T, mode, path string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "SQLITESTORE_HELPER="+mode, "SQLITESTORE_HELPER_DB="+path)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stdin: in}
	t.Cleanup(func() { p.stop(t) })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("helper %s: %q, %v", mode, line, err)
	}
	return p
}

// stop closes the helper's stdin and waits for it to exit.
func (p *proc) stop(t *testing.T) {
	if p.stdin == nil {
		return
	}
	p.stdin.Close()
	p.stdin = nil
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("helper: %v", err)
	}
}

// TestHelperProcess is the helper processes' body (it does nothing in
// a test run): "lock" holds the WAL's checkpoint lock on the -shm file
// (SQLite's unix VFS: a write lock on byte 120+1) until its stdin
// closes; "read" keeps a connection open and reads until then;
// "commits" makes SQLITESTORE_HELPER_N commits with synchronous
// SQLITESTORE_HELPER_SYNC and closes.
func TestHelperProcess(t *testing.T) {
	mode, path := os.Getenv("SQLITESTORE_HELPER"), os.Getenv("SQLITESTORE_HELPER_DB")
	if mode == "" {
		return
	}
	ctx := context.Background()
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }() //nolint:errcheck // EOF is the signal
	switch mode {
	case "lock":
		f, err := os.OpenFile(path+"-shm", os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart, Start: 121, Len: 1}
		if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk); err != nil {
			t.Fatal(err)
		}
		fmt.Println("ready")
		<-done
	case "read":
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM node`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		fmt.Println("ready")
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM node`).Scan(&n); err != nil {
				t.Fatal(err)
			}
		}
	case "commits":
		var n int
		fmt.Sscan(os.Getenv("SQLITESTORE_HELPER_N"), &n) //nolint:errcheck // set by the test
		// a checkpointer every 16 frames: its fsyncs beside the commits'
		s, err := Open(ctx, path, Options{Synchronous: os.Getenv("SQLITESTORE_HELPER_SYNC"), CheckpointFrames: 16})
		if err != nil {
			t.Fatal(err)
		}
		fence := ckptRun(t, s, "r")
		for i := 0; i < n; i++ {
			if err := s.BatchCommit(ctx, elementBatch(fence, i, 1, time.Now())); err != nil {
				t.Fatal(err)
			}
		}
		// the stats after Close: a checkpoint the background checkpointer
		// starts late (a loaded machine) is counted with its fsyncs
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		st := s.CheckpointStats()
		fmt.Printf("checkpoints=%d\n", st.Runs+st.Restarts)
	}
}
