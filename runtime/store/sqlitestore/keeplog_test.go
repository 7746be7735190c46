//go:build unix

package sqlitestore

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestShortLogOutlivesClose: a Close that finds the -wal file shorter
// than closeCheckpointBytes leaves it (the next open appends to it), and
// every commit in it is read back, by a writer and read-only; once the
// commits of many short sessions make it longer, Close checkpoints it
// and truncates it, and the database file alone holds every commit.
func TestShortLogOutlivesClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "short.db")
	// session runs one short session and returns the -wal file's length
	// just before its Close and after it.
	session := func(id string) (before, after int64) {
		t.Helper()
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		commitElements(t, s, ckptRun(t, s, id), 3)
		size := func() int64 {
			fi, err := os.Stat(path + "-wal")
			if err != nil {
				t.Fatal(err)
			}
			return fi.Size()
		}
		before = size()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		return before, size()
	}
	before, size := session("r0")
	if size == 0 || size != before {
		t.Fatalf("after one short session the -wal file is %d bytes (%d before Close), want it left as it was (Close checkpointed it: can noCheckpointOnClose still reach modernc.org/sqlite's connection?)", size, before)
	}
	if got := countNodes(t, path, "r0"); got != 3 {
		t.Fatalf("read-only after close: %d nodes, want 3", got)
	}
	n := 1
	for ; size != 0; n++ {
		if n > 200 {
			t.Fatalf("after %d short sessions the -wal file is still %d bytes: Close never checkpointed it", n, size)
		}
		before, after := session(fmt.Sprintf("r%d", n))
		switch {
		case before < closeCheckpointBytes && after != before:
			t.Fatalf("session %d: Close changed a -wal file of %d bytes (below %d) to %d", n, before, closeCheckpointBytes, after)
		case before >= closeCheckpointBytes && after != 0:
			t.Fatalf("session %d: Close left a -wal file of %d bytes (%d before it)", n, after, before)
		}
		size = after
	}
	t.Logf("%d short sessions before Close checkpointed the log", n)
	alone := fileAlone(t, path)
	for i := 0; i < n; i++ {
		if got := countNodes(t, alone, fmt.Sprintf("r%d", i)); got != 3 {
			t.Fatalf("the database file alone: run r%d has %d nodes, want 3", i, got)
		}
	}
}

// TestShortSessionFsyncsNothing: with synchronous NORMAL a short command
// on an existing store (open, a run, three commits, close) calls no
// fsync at all: its commits append to the log the last one left, and its
// close leaves them there. Counted with strace in a child process.
func TestShortSessionFsyncsNothing(t *testing.T) {
	t.Parallel()
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed (apt-get install strace): it counts the fsyncs")
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "session.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	commitElements(t, s, ckptRun(t, s, "first"), 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "trace")
	cmd := exec.Command(strace, "-f", "-y", "-e", "trace=fsync,fdatasync,sync_file_range", "-o", out, os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "SQLITESTORE_HELPER=session", "SQLITESTORE_HELPER_DB="+path, "SQLITESTORE_HELPER_RUN=second")
	o, err := cmd.CombinedOutput()
	if err != nil {
		if strings.Contains(string(o), "ptrace") {
			t.Skipf("strace cannot trace here: %s", o)
		}
		t.Fatalf("%s: %v\n%s", cmd, err, o)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if calls := regexp.MustCompile(`(?m)^\d+ +(f(data)?sync|sync_file_range)\(.*$`).FindAll(b, -1); len(calls) > 0 {
		t.Errorf("a short session on an existing store made %d fsyncs:\n%s", len(calls), b)
	}
	for _, id := range []string{"first", "second"} {
		if got := countNodes(t, path, id); got != 3 {
			t.Errorf("run %s: %d nodes, want 3", id, got)
		}
	}
}
