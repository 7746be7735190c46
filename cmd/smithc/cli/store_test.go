package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the test takes locks on the store file itself
)

// storeFailure is the --format json result of a session whose store
// failed under it.
type storeFailure struct {
	RunID  string `json:"run_id"`
	Status string `json:"status"`
	Error  string `json:"error"`
	Resume string `json:"resume"`
}

func decodeStoreFailure(t *testing.T, r result) storeFailure {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var out storeFailure
	if err := dec.Decode(&out); err != nil || dec.More() {
		t.Fatalf("stdout is not one JSON object (%v)\n%s", err, r)
	}
	return out
}

// runBin runs the smithc binary with extra environment entries, bounded
// by limit (it is killed past it).
func (e *env) runBin(limit time.Duration, extraEnv []string, args ...string) result {
	e.t.Helper()
	c := e.cmd(args...)
	c.Env = append(c.Env, extraEnv...)
	return runBounded(e.t, c, limit)
}

func runBounded(t *testing.T, c *exec.Cmd, limit time.Duration) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(limit, func() { _ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL) })
	err := c.Wait()
	timer.Stop()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%v: %v", c.Args, err)
		}
		code = ee.ExitCode()
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// TestManyConcurrentRunsOnOneStore: 64 smithc processes (96 with
// SMITHC_STRESS_RUNS=96) start runs on one new SQLite file at once; every
// one finishes with exit 0 and one JSON object, none dies on a locked
// database, and the file is private (0600).
func TestManyConcurrentRunsOnOneStore(t *testing.T) {
	n := 64
	if v, err := strconv.Atoi(os.Getenv("SMITHC_STRESS_RUNS")); err == nil && v > 0 {
		n = v
	}
	e := newEnv(t)
	f := e.write("tiny.smw", `workflow tiny {
  input { n: int }
  step a { run = "echo a${input.n}" }
  step b { value = trim(a.stdout) + "b" }
  step c { run = "echo ${b}c" }
  output = c
}
`)
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.cmd("run", f, "--input", "n="+strconv.Itoa(i), "--run-id", "r"+strconv.Itoa(i), "--format", "json")
			results[i] = runBounded(t, c, 5*time.Minute)
		}()
	}
	wg.Wait()
	failed := 0
	for i, r := range results {
		if r.code != 0 {
			failed++
			if failed <= 3 {
				t.Errorf("run %d of %d: %s", i, n, r)
			}
			continue
		}
		if out := decodeRun(t, r); out.Status != "finished" || !strings.Contains(string(out.Output), "a"+strconv.Itoa(i)+"bc") {
			t.Errorf("run %d: %+v", i, out)
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d concurrent runs failed", failed, n)
	}
	r := e.cli("ps", "--status", "finished", "--limit", "1000", "--format", "json")
	mustCode(t, r, 0)
	var runs []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil || len(runs) != n {
		t.Fatalf("ps lists %d finished runs (%v), want %d", len(runs), err, n)
	}
	fi, err := os.Stat(e.db)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("the store was created with mode %o, want 600", m)
	}
}

// holdLock takes the store's write lock from this process, as another
// smithc would, until the returned function is called.
func holdLock(t *testing.T, path string) func() {
	t.Helper()
	// It waits for the lock like any writer: the store's own connections
	// (its background checkpointer among them) hold SQLite's locks for
	// moments too.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("take the write lock of %s: %v", path, err)
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK") // ends the lock; nothing was written
			conn.Close()
			db.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// TestStoreFullMidRunIsResumable: the store's file reaches the process's
// file size limit (RLIMIT_FSIZE, `ulimit -f`) in the middle of a run: the
// session ends with exit 4 and one JSON object that says so and names
// `smithc resume RUN_ID`; resumed without the limit, the run finishes
// without running again the step that had finished before.
func TestStoreFullMidRunIsResumable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("big.smw", `workflow big {
  step a { run = "echo ran >> a.count" }
  step b { run = "head -c 3000000 /dev/zero | tr '\\0' x | fold -w 100; echo ${a.exit_code}" }
  step c { run = "echo done-${b.exit_code}" }
  output = c
}
`)
	// The store is created (and migrated) without a limit; the run gets
	// one of 1 MB: above the database file, below step b's 3 MB.
	mustCode(t, e.cli("run", e.write("first.smw", "workflow first {\n  step s { run = \"true\" }\n}\n")), 0)
	c := e.cmd("sh", "-c", `ulimit -f 2000 && exec "$0" "$@"`, smithcBin, "run", f, "--format", "json")
	c.Path = "/bin/sh"
	c.Args = c.Args[1:]
	r := runBounded(t, c, 2*time.Minute)
	mustCode(t, r, 4)
	out := decodeStoreFailure(t, r)
	if out.Status != "store-failed" || out.RunID == "" || out.Resume != "smithc resume "+out.RunID {
		t.Fatalf("result %+v", out)
	}
	mustContain(t, "error", out.Error, e.db, "file size limit", "smithc resume "+out.RunID)
	if strings.Contains(out.Error, "runtime:") || strings.Contains(out.Error, "sqlitestore:") {
		t.Errorf("the message shows internal layers: %s", out.Error)
	}

	r = e.bin("resume", out.RunID, "--format", "json")
	mustCode(t, r, 0)
	if res := decodeRun(t, r); res.Status != "finished" {
		t.Fatalf("resumed: %+v", res)
	}
	if n := e.lines("a.count"); n != 1 {
		t.Errorf("step a ran %d times, want once", n)
	}
}

// TestStoreFullAtCreateSaysStartAgain: the store's log reaches the
// process's file size limit as the run is created: nothing of the run is
// stored, and the result says so and names `smithc run FILE` instead of a
// resume of a run that does not exist; without the limit that command
// runs it.
func TestStoreFullAtCreateSaysStartAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mustCode(t, e.cli("run", e.write("first.smw", "workflow first {\n  step s { run = \"true\" }\n}\n")), 0)
	// A limit of 32 KiB, the -shm file's length: the log starts empty, and
	// the run's creation writes its source, 200 KB of it a comment, past it.
	f := e.write("second.smw", strings.Repeat("// "+strings.Repeat("x", 97)+"\n", 2000)+"workflow second {\n  step s { run = \"echo ran >> s.count\" }\n}\n")
	c := e.cmd("sh", "-c", `ulimit -f 64 && exec "$0" "$@"`, smithcBin, "run", f, "--format", "json")
	c.Path = "/bin/sh"
	c.Args = c.Args[1:]
	r := runBounded(t, c, time.Minute)
	mustCode(t, r, 4)
	var out struct {
		RunID  string `json:"run_id"`
		Status string `json:"status"`
		Error  string `json:"error"`
		Resume string `json:"resume"`
		Rerun  string `json:"rerun"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("stdout is not one JSON object (%v)\n%s", err, r)
	}
	if out.Status != "store-failed" || out.RunID == "" || out.Resume != "" || out.Rerun != "smithc run "+f {
		t.Fatalf("result %+v", out)
	}
	mustContain(t, "error", out.Error, "file size limit", "was not created", "smithc run "+f)
	if e.lines("s.count") != 0 {
		t.Fatal("the step ran")
	}
	mustCode(t, e.bin("resume", out.RunID), 2) // no such run
	mustCode(t, e.bin("run", f), 0)
	if n := e.lines("s.count"); n != 1 {
		t.Errorf("started again, the step ran %d times, want once", n)
	}
}

// TestLockHeldTooLongEndsTheSession: another process holds the store's
// write lock longer than $SMITHC_LOCK_TIMEOUT while a run executes: the
// session ends with exit 4 and a result naming the lock and the resume
// command; the run resumes to its end once the lock is free.
func TestLockHeldTooLongEndsTheSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("wait.smw", `workflow wait {
  step a { run = "touch started; while [ ! -e go ]; do sleep 0.05; done; echo a" }
  step b { run = "echo after-${a.exit_code}" }
  output = b
}
`)
	c := e.cmd("run", f, "--run-id", "locked", "--format", "json")
	c.Env = append(c.Env, "SMITHC_LOCK_TIMEOUT=1s")
	done := make(chan result, 1)
	go func() { done <- runBounded(t, c, 2*time.Minute) }()
	eventually(t, "step a to start", func() bool { return fileExists(e.path("started")) })
	release := holdLock(t, e.db)
	e.write("go", "")
	r := <-done
	release()
	mustCode(t, r, 4)
	out := decodeStoreFailure(t, r)
	if out.Status != "store-failed" || out.RunID != "locked" || out.Resume != "smithc resume locked" {
		t.Fatalf("result %+v", out)
	}
	mustContain(t, "error", out.Error, e.db, "locked by another process", "smithc resume locked")

	r = e.bin("resume", "locked", "--format", "json")
	mustCode(t, r, 0)
	if res := decodeRun(t, r); res.Status != "finished" || !strings.Contains(string(res.Output), "after-0") {
		t.Fatalf("resumed: %+v", res)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestReadOnlyCommandsNeverWrite: ps, inspect, logs, why and graph --run
// open the store
// read-only: on a missing file they fail naming the path and create
// nothing; they work while another process holds the write lock (with a
// lock timeout that would fail any write at once), on a file this user
// cannot write, and on a read-only mount.
func TestReadOnlyCommandsNeverWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, args := range [][]string{{"ps"}, {"inspect", "r1"}, {"logs", "r1"}, {"why", "r1"}, {"graph", "--run", "r1"}} {
		r := e.runBin(time.Minute, nil, args...)
		mustCode(t, r, 1)
		mustContain(t, args[0], r.stderr, e.db)
		if fileExists(e.db) {
			t.Fatalf("smithc %s created %s", args[0], e.db)
		}
	}

	f := e.write("hello.smw", "workflow hello {\n  step s { run = \"echo hi\" }\n}\n")
	mustCode(t, e.bin("run", f, "--run-id", "r1"), 0)
	readAll := func(what string, extraEnv []string, wrap func(*exec.Cmd)) {
		t.Helper()
		for _, args := range [][]string{{"ps", "r1"}, {"inspect", "r1", "r1"}, {"logs", "r1", "hi"}, {"why", "r1", "r1"}, {"graph", "--run", "r1", "s"}} {
			want := args[len(args)-1]
			args = args[:len(args)-1]
			c := e.cmd(args...)
			c.Env = append(c.Env, extraEnv...)
			if wrap != nil {
				wrap(c)
			}
			r := runBounded(t, c, time.Minute)
			if r.code != 0 {
				t.Fatalf("%s: smithc %s: %s", what, args[0], r)
			}
			mustContain(t, what+": "+args[0], r.stdout, want)
		}
	}

	release := holdLock(t, e.db)
	readAll("write lock held", []string{"SMITHC_LOCK_TIMEOUT=200ms"}, nil)
	release()

	// A file and directory this user cannot write: as root, the commands
	// run as nobody; otherwise the modes are taken away.
	if err := os.Chmod(e.db, 0o644); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		for d := e.dir; d != "/" && d != os.TempDir(); d = filepathDir(d) {
			_ = os.Chmod(d, 0o755) // the test's own temporary directories
		}
		_ = os.Chmod(filepathDir(smithcBin), 0o755) // so that nobody can run it
		nobody := func(c *exec.Cmd) { c.SysProcAttr.Credential = &syscall.Credential{Uid: 65534, Gid: 65534} }
		readAll("not writable", nil, nobody)

		// While a run executes, its commits are in the log (-wal, created
		// 0600): a reader who cannot read it is told so, not served the
		// database file without them; with the log readable it sees them.
		w := e.cmd("run", e.write("slow.smw", "workflow slow {\n  step s { run = \"sleep 60\" }\n}\n"), "--run-id", "r2")
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.Process.Kill(); _ = w.Wait() })
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
			if fi, err := os.Stat(e.db + "-wal"); err == nil && fi.Size() > 0 && strings.Contains(e.bin("ps").stdout, "r2") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the slow run did not start in a minute")
			}
		}
		// (the -wal file has the mode the database file had when it was
		// created; the lock holder's close above removed the first one)
		if err := os.Chmod(e.db+"-wal", 0o600); err != nil {
			t.Fatal(err)
		}
		c := e.cmd("ps")
		nobody(c)
		r := runBounded(t, c, time.Minute)
		mustCode(t, r, 4)
		mustContain(t, "ps with an unreadable log", r.stderr, e.db+"-wal", "cannot read", "read access to the database file and its -wal and -shm files")
		for _, suffix := range []string{"-wal", "-shm"} {
			if err := os.Chmod(e.db+suffix, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		c = e.cmd("ps")
		nobody(c)
		mustContain(t, "ps as nobody beside the running writer", runBounded(t, c, time.Minute).stdout, "r2", "running")
		_ = w.Process.Kill()
		_ = w.Wait()
	} else {
		if err := os.Chmod(e.dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(e.dir, 0o755) })
		if err := os.Chmod(e.db, 0o444); err != nil {
			t.Fatal(err)
		}
		readAll("not writable", nil, nil)
	}

	// A read-only bind mount of the store's directory, in a mount
	// namespace of its own.
	if out, err := exec.Command("unshare", "-m", "sh", "-c", "mount --bind -o ro \"$0\" \"$0\"", e.dir).CombinedOutput(); err != nil {
		t.Logf("read-only mount skipped: unshare -m / mount --bind not permitted here (%v: %s)", err, strings.TrimSpace(string(out)))
		return
	}
	readAll("read-only mount", nil, func(c *exec.Cmd) {
		c.Args = append([]string{"unshare", "-m", "sh", "-c", `mount --bind -o ro "$0" "$0" && echo probe > "$0/probe" 2>/dev/null && exit 99; exec "$@"`, e.dir, smithcBin}, c.Args[1:]...)
		c.Path = mustLookPath(t, "unshare")
	})
}

func filepathDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

func mustLookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not found: %v", name, err)
	}
	return p
}

// TestNewerStoreIsRefused: a store migrated by a newer smithc (a schema
// version above this binary's migrations) is refused by every command
// with a message saying so; run exits 4.
func TestNewerStoreIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("hello.smw", "workflow hello {\n  step s { run = \"echo hi\" }\n}\n")
	mustCode(t, e.cli("run", f), 0)
	db, err := sql.Open("sqlite", "file:"+e.db)
	if err != nil {
		t.Fatal(err)
	}
	// What a newer smithc's Migrate leaves: its migration recorded and
	// the file's user_version stamped with it.
	for _, q := range []string{`INSERT INTO schema_migration (version, name) VALUES (9999, 'from_a_newer_smithc')`, `PRAGMA user_version = 9999`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	for _, args := range [][]string{{"run", f}, {"ps"}} {
		r := e.cli(args...)
		mustCode(t, r, 4)
		mustContain(t, args[0], r.stderr, "newer smithc", "9999", e.db)
	}
}

// TestDiskFullMidRunIsResumable: the store lives on a small tmpfs that
// fills up in the middle of a run (ENOSPC, SQLITE_FULL): exit 4 with a
// result naming the resume command; once the file system has room again
// the run resumes to its end. It needs a mount namespace (unshare -m) and
// the right to mount a tmpfs in it, and skips without them.
func TestDiskFullMidRunIsResumable(t *testing.T) {
	t.Parallel()
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare not found: the disk-full test needs a mount namespace")
	}
	if out, err := exec.Command(unshare, "-m", "sh", "-c", `mount -t tmpfs -o size=1m tmpfs "$0"`, t.TempDir()).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs in a mount namespace here (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	e := newEnv(t)
	mnt := e.path("small")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	e.write("first.smw", "workflow first {\n  step s { run = \"true\" }\n}\n")
	e.write("big.smw", `workflow big {
  step a { run = "echo ran >> a.count" }
  step b { run = "head -c 3000000 /dev/zero | tr '\\0' x | fold -w 100; echo ${a.exit_code}" }
  step c { run = "echo done-${b.exit_code}" }
  output = c
}
`)
	// One namespace for the whole story, since its tmpfs goes with it:
	// create the store, fill the disk mid-run, make room, resume.
	script := `set -u
db="$MNT/s.db"
mount -t tmpfs -o size=400k tmpfs "$MNT" || exit 97
"$SMITHC" run first.smw --db "$db" >/dev/null 2>&1 || exit 98
"$SMITHC" run big.smw --db "$db" --run-id full --format json > full.json 2> full.err
echo $? > full.code
mount -o remount,size=20m "$MNT" || exit 99
"$SMITHC" resume full --db "$db" --format json > resumed.json 2> resumed.err
echo $? > resumed.code
`
	c := exec.Command(unshare, "-m", "sh", "-c", script)
	c.Dir = e.dir
	c.Env = append(os.Environ(), "MNT="+mnt, "SMITHC="+smithcBin)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r := runBounded(t, c, 3*time.Minute)
	if r.code != 0 {
		t.Fatalf("the namespace script failed: %s", r)
	}
	full := result{code: atoiOr(e.read("full.code"), -1), stdout: e.read("full.json"), stderr: e.read("full.err")}
	mustCode(t, full, 4)
	out := decodeStoreFailure(t, full)
	if out.Status != "store-failed" || out.RunID != "full" || out.Resume != "smithc resume full" {
		t.Fatalf("result %+v", out)
	}
	t.Logf("disk full: %s", out.Error)
	mustContain(t, "error", out.Error, "s.db", "the disk is full", "smithc resume full")
	resumed := result{code: atoiOr(e.read("resumed.code"), -1), stdout: e.read("resumed.json"), stderr: e.read("resumed.err")}
	mustCode(t, resumed, 0)
	if res := decodeRun(t, resumed); res.Status != "finished" || !strings.Contains(string(res.Output), "done-0") {
		t.Fatalf("resumed: %+v", res)
	}
	if n := e.lines("a.count"); n != 1 {
		t.Errorf("step a ran %d times, want once", n)
	}
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return def
	}
	return n
}

// TestDecisionUnderAHeldLockIsAStoreFailure: approve while another
// process holds the store's write lock past $SMITHC_LOCK_TIMEOUT exits 4
// with one JSON object; nothing was recorded, and the same approval
// succeeds once the lock is free.
func TestDecisionUnderAHeldLockIsAStoreFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("gate.smw", `workflow gate {
  approval ok_to_go { title = "Go?" }
  step after { value = "done" }
  output = after
}
`)
	mustCode(t, e.bin("run", f, "--run-id", "g1", "--wait", "never"), 3)
	release := holdLock(t, e.db)
	r := e.runBin(time.Minute, []string{"SMITHC_LOCK_TIMEOUT=300ms"}, "approve", "g1", "ok_to_go", "--format", "json")
	release()
	mustCode(t, r, 4)
	out := decodeStoreFailure(t, r)
	if out.Status != "store-failed" || out.RunID != "g1" || out.Resume != "smithc resume g1" {
		t.Fatalf("result %+v", out)
	}
	mustContain(t, "error", out.Error, "locked by another process")
	r = e.bin("approve", "g1", "ok_to_go", "--format", "json")
	mustCode(t, r, 0)
	if res := decodeRun(t, r); res.Status != "finished" {
		t.Fatalf("approve after the lock was released: %+v", res)
	}
}

// TestStoreThatCannotBeCreatedSaysWhy: a --db in a directory that does
// not exist is refused with the directory named and what to do, and
// nothing created (the permission and full-disk phrasings: TestCreateFailure).
func TestStoreThatCannotBeCreatedSaysWhy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("hello.smw", "workflow hello {\n  step s { value = 1 }\n}\n")
	dir := filepath.Join(e.dir, "missing")
	e.db = filepath.Join(dir, "x.db") // e.cli gives it as --db
	r := e.cli("run", f)
	mustCode(t, r, 1)
	mustContain(t, "run", r.stderr, "cannot create the store", "the directory "+dir+" does not exist", "--db")
	if strings.Contains(r.stderr, "sqlitestore") {
		t.Errorf("the message names a Go package: %s", r.stderr)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the directory was created: %v", err)
	}
}
