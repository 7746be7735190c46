package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
)

// TestMain lets the test binary act as a helper process that runs a
// workflow (crash, concurrency and cross-process cancel tests).
func TestMain(m *testing.M) {
	if mode := os.Getenv("SMITHC_RUNTIME_HELPER"); mode != "" {
		os.Exit(helperMain(mode))
	}
	os.Exit(m.Run())
}

// recordAction appends the node id to the side-effect file, then sleeps
// when the node is in sleepOn.
func recordAction(file string, sleepOn string) runtime.Action {
	return runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, err
		}
		fmt.Fprintln(f, a.NodeID)
		f.Close()
		if a.NodeID == sleepOn {
			select {
			case <-time.After(time.Minute):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return a.NodeID + " done", nil
	})
}

func crashProgram() *ir.Program {
	return program("crash", nil,
		step("one", "record", nil),
		step("two", "record", nil),
		value("three", `one + ", " + two`),
	)
}

func manyProgram() *ir.Program {
	var steps []*ir.Node
	for i := 0; i < 30; i++ {
		steps = append(steps, value(fmt.Sprintf("s%d", i), fmt.Sprintf("%d", i)))
	}
	steps = append(steps, forEach("F", "v", "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]", 0, value("sq", "v * v")),
		value("sum", "sum(sq)"))
	return program("many", nil, steps...)
}

func helperMain(mode string) int {
	ctx := context.Background()
	s, err := sqlitestore.Open(ctx, os.Getenv("SMITHC_DB"), sqlitestore.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer s.Close()
	actions := runtime.Actions{"compute": computeAction(), "shell": shellAction(),
		"record": recordAction(os.Getenv("SMITHC_FILE"), "two")}
	e, err := runtime.New(runtime.Config{Store: s, Actions: actions, PollInterval: 20 * time.Millisecond, Dir: os.Getenv("SMITHC_DIR")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var prog *ir.Program
	switch mode {
	case "crash":
		prog = crashProgram()
	case "many":
		prog = manyProgram()
	case "sleep":
		prog = program("sleep", nil, sh("slow", tmpl("sleep 30")))
	case "chain":
		prog = chainProgram(chainLen)
	}
	res, err := e.Start(ctx, runtime.StartParams{Program: prog, RunID: os.Getenv("SMITHC_RUN")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println(res.Status, res.Output)
	return 0
}

func helper(t *testing.T, mode, db, run string, extra ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SMITHC_RUNTIME_HELPER="+mode, "SMITHC_DB="+db, "SMITHC_RUN="+run,
		"SMITHC_DIR="+filepath.Dir(db))
	cmd.Env = append(cmd.Env, extra...)
	return cmd
}

func lines(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func TestCrashThenResume(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db, file := filepath.Join(dir, "smithers.db"), filepath.Join(dir, "effects")
	cmd := helper(t, "crash", db, "crash-1", "SMITHC_FILE="+file)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(lines(t, file)) == 2 })

	b := setupAt(t, db, runtime.Actions{"record": recordAction(file, "")})
	// While the helper lives, resuming is refused with its name.
	_, err := b.engine.Resume(ctx, "crash-1", runtime.ResumeParams{Program: crashProgram()})
	owner := fmt.Sprintf("%d@", cmd.Process.Pid)
	if !errors.Is(err, runtime.ErrRunLive) || !strings.Contains(err.Error(), owner) {
		t.Errorf("resume of a live run: %v (want it to name %s)", err, owner)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait() //nolint:errcheck // killed on purpose

	// The owner is gone: resume at once, without waiting for the lease.
	res, err := b.engine.Resume(ctx, "crash-1", runtime.ResumeParams{Program: crashProgram()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != store.RunFinished || res.Output != "one done, two done" {
		t.Fatalf("resumed run: %+v", res)
	}
	if diff := cmp.Diff([]string{"one", "two", "two"}, lines(t, file)); diff != "" {
		t.Errorf("side effects (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"one#1 finished ", "three#1 finished ", "two#1 abandoned internal", "two#2 finished "},
		attempts(t, b, "crash-1")); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}

func TestConcurrentProcesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "smithers.db")
	// The four helpers open the new file at once: migrations serialize.
	var cmds []*exec.Cmd
	for i := 0; i < 4; i++ {
		cmd := helper(t, "many", db, fmt.Sprintf("many-%d", i))
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("helper %d: %s", i, out.String())
			}
		})
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper %d: %v", i, err)
		}
	}
	b := setupAt(t, db, nil)
	runs, err := b.store.RunList(context.Background(), &store.RunListParams{Statuses: []store.RunStatus{store.RunFinished}})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 4 {
		t.Fatalf("%d finished runs, want 4", len(runs))
	}
	for _, r := range runs {
		if string(r.Output) != "2870" {
			t.Errorf("run %s output %s", r.ID, r.Output)
		}
	}
}

func TestCancelAcrossProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "smithers.db")
	cmd := helper(t, "sleep", db, "sleepy")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := setupAt(t, db, nil)
	waitFor(t, func() bool { return b.nodeStates(t, "sleepy")["slow"] == "running" })
	begin := time.Now()
	if _, err := b.engine.Cancel(ctx, "sleepy"); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v: %s", err, out.String())
	}
	if !strings.HasPrefix(out.String(), "cancelled") {
		t.Errorf("helper printed %q", out.String())
	}
	if time.Since(begin) > 20*time.Second {
		t.Error("the sleeping process was not killed")
	}
	if st := b.nodeStates(t, "sleepy")["slow"]; st != "cancelled" {
		t.Errorf("node state %s", st)
	}
}
