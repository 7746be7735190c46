package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/smithc/smithc/internal/pgtest"
	"github.com/smithc/smithc/runtime/store"
)

// effectLines reads the effects file as lines of fields.
func effectLines(t *testing.T, dir string) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "effects"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out [][]string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l != "" {
			out = append(out, strings.Fields(l))
		}
	}
	return out
}

// ownerPID is the pid of a worker's owner string ("pid@host/worker-…").
func ownerPID(owner string) int {
	p, _, _ := strings.Cut(owner, "@")
	n, _ := strconv.Atoi(p)
	return n
}

// TestWorkersSpreadOneRunsSteps: three workers on PostgreSQL, one run
// with a for of 200 shell elements. The run is held by one worker, but
// its steps are claimed as tasks by all three: the run finishes with the
// right output, every element's side effect happened exactly once, in
// the process the store names as its attempt's owner, and each worker
// executed some.
func TestWorkersSpreadOneRunsSteps(t *testing.T) {
	db := pgtest.NewDatabase(t)
	dir := t.TempDir()
	src := `workflow spread {
  input { dir: string, n: int }
  for i in 1..input.n {
    max_concurrency = 12
    step sq { run = "echo ${i} $PPID >> ${input.dir}/effects; echo ${i * i}" }
  }
  step sum { value = sum(map(sq, int(trim(.stdout)))) }
  output = sum
}
`
	file := filepath.Join(dir, "spread.smw")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	st := openTestStore(t, db)
	var ws []*workerProc
	pids := map[int]bool{}
	for i := 0; i < 3; i++ {
		w := startWorker(t, dir, db, i, "--lease", "10s", "--tasks", "4", "--max-concurrency", "12")
		ws = append(ws, w)
		pids[w.cmd.Process.Pid] = true
	}
	id := detach(t, db, file, "dir="+dir, "n=200")
	runs := waitRuns(t, st, []string{id}, terminal)
	for _, w := range ws {
		w.stop(t)
	}
	r := runs[id]
	if r.Status != store.RunFinished || string(r.Output) != "2686700" {
		t.Fatalf("run %s: %s %s %s, want finished with 2686700 (the sum of the squares 1..200)", id, r.Status, r.Output, r.Error)
	}
	// Every element's side effect once, by a worker.
	byElem := map[string][]int{}
	for _, f := range effectLines(t, dir) {
		if len(f) != 2 {
			t.Fatalf("effects line %q", strings.Join(f, " "))
		}
		pid, _ := strconv.Atoi(f[1])
		byElem[f[0]] = append(byElem[f[0]], pid)
	}
	if len(byElem) != 200 {
		t.Errorf("%d elements had a side effect, want 200", len(byElem))
	}
	for elem, ps := range byElem {
		if len(ps) != 1 {
			t.Errorf("element %s: side effect %d times (pids %v)", elem, len(ps), ps)
		}
		if !pids[ps[0]] {
			t.Errorf("element %s: side effect in pid %d, not a worker (%v)", elem, ps[0], pids)
		}
	}
	// The store: one finished attempt per element, owned by the worker
	// whose pid wrote the side effect; every worker executed some.
	atts, err := st.AttemptList(context.Background(), &store.AttemptListParams{RunID: id})
	if err != nil {
		t.Fatal(err)
	}
	perOwner := map[string]int{}
	finished := 0
	for _, a := range atts {
		if a.NodeID != "sq" {
			continue
		}
		if a.State != store.AttemptFinished {
			t.Errorf("attempt %d of sq [%s]: %s %s", a.Number, a.Scope, a.State, a.Error)
			continue
		}
		finished++
		perOwner[a.Owner]++
		// Scope "…[k]" is element k (0-based); the element's value is k+1.
		k, _ := strconv.Atoi(a.Scope[strings.LastIndexByte(a.Scope, '[')+1 : len(a.Scope)-1])
		if ps := byElem[strconv.Itoa(k+1)]; len(ps) == 1 && ps[0] != ownerPID(a.Owner) {
			t.Errorf("sq [%s]: side effect in pid %d, attempt owned by %s", a.Scope, ps[0], a.Owner)
		}
	}
	if finished != 200 {
		t.Errorf("%d finished attempts of sq, want 200", finished)
	}
	t.Logf("run held by %v; steps executed per worker: %v", owners(t, st, id), perOwner)
	if len(perOwner) != 3 {
		t.Errorf("the steps were executed by %d workers (%v), want all 3", len(perOwner), perOwner)
	}
	for o, n := range perOwner {
		if n < 1 || !pids[ownerPID(o)] {
			t.Errorf("owner %s executed %d steps", o, n)
		}
	}
}

// TestWorkerTaskFencing: the worker executing a task (not the one
// holding the run) is stopped (SIGSTOP) past its task lease. The holder
// reaps the task and queues a new attempt, another worker executes it
// and the run finishes. Continued (SIGCONT), the stopped worker's step
// has done its side effect (the effects file shows both attempts), but
// its late completion is refused by the fencing token: the store keeps
// the second attempt's output and the worker logs the dropped result.
func TestWorkerTaskFencing(t *testing.T) {
	db := pgtest.NewDatabase(t)
	dir := t.TempDir()
	src := `workflow fenced {
  input { dir: string }
  parallel {
    step x { run = "echo x $PPID >> ${input.dir}/effects; sleep 3; echo $PPID" }
    step y { run = "echo y $PPID >> ${input.dir}/effects; sleep 3; echo $PPID" }
  }
  step done { value = trim(x.stdout) + " " + trim(y.stdout) }
  output = done
}
`
	file := filepath.Join(dir, "fenced.smw")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	st := openTestStore(t, db)
	ts := st.(store.TaskStore)
	// a holds the run and executes one step at a time.
	a := startWorker(t, dir, db, 0, "--lease", "10s", "--tasks", "1")
	id := detach(t, db, file, "dir="+dir)
	task := func(node string) *store.Task {
		rows, err := ts.TaskList(context.Background(), &store.TaskListParams{RunID: id})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.NodeID == node {
				return r
			}
		}
		return nil
	}
	var other string // the step a does not execute
	eventually(t, "worker a to run one step while the other is queued", func() bool {
		x, y := task("x"), task("y")
		if x == nil || y == nil {
			return false
		}
		switch {
		case x.State == store.TaskRunning && y.State == store.TaskQueued:
			other = "y"
		case y.State == store.TaskRunning && x.State == store.TaskQueued:
			other = "x"
		}
		return other != ""
	})
	// b claims the other step under a short lease; once its shell has
	// started, b is stopped.
	b := startWorker(t, dir, db, 1, "--lease", "2s", "--tasks", "1")
	bpid := b.cmd.Process.Pid
	eventually(t, "worker b to start step "+other, func() bool {
		for _, f := range effectLines(t, dir) {
			if f[0] == other && f[1] == strconv.Itoa(bpid) {
				return true
			}
		}
		return false
	})
	if r := task(other); r.LeaseOwner == "" || ownerPID(r.LeaseOwner) != bpid || r.Token != 1 {
		t.Fatalf("task %s = %+v, want running in worker b (pid %d) with token 1", other, r, bpid)
	}
	if err := b.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	runs := waitRuns(t, st, []string{id}, terminal)
	if r := runs[id]; r.Status != store.RunFinished {
		t.Fatalf("run %s: %s %s", id, r.Status, r.Error)
	}
	if r := task(other); r.Token < 2 || r.Number != 2 || r.State != store.TaskFinished || ownerPID(r.LeaseOwner) == bpid {
		t.Errorf("task %s after the takeover = %+v, want attempt 2 finished by another worker with a newer token", other, r)
	}
	if err := b.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	eventually(t, "worker b to report its refused result", func() bool {
		logB, _ := os.ReadFile(b.log)
		return strings.Contains(string(logB), "its result was dropped")
	})
	b.stop(t)
	a.stop(t)
	logB, _ := os.ReadFile(b.log)
	if !strings.Contains(string(logB), "fencing token is 2, not 1") {
		t.Errorf("worker b's log does not name the fencing token:\n%s", logB)
	}
	// Both attempts had their side effect; the stored output is the
	// second one's.
	var by []int
	for _, f := range effectLines(t, dir) {
		if f[0] == other {
			pid, _ := strconv.Atoi(f[1])
			by = append(by, pid)
		}
	}
	if len(by) != 2 || by[0] != bpid || by[1] == bpid {
		t.Fatalf("side effects of %s by pids %v, want b's (%d) then another worker's", other, by, bpid)
	}
	node, err := st.NodeGet(context.Background(), &store.NodeGetParams{RunID: id, NodeID: other})
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Stdout string }
	json.Unmarshal(node.Output, &out)
	if got := strings.TrimSpace(out.Stdout); got != strconv.Itoa(by[1]) {
		t.Errorf("step %s output %q, want the second attempt's pid %d (not the stopped worker's %d)", other, got, by[1], bpid)
	}
	atts, err := st.AttemptList(context.Background(), &store.AttemptListParams{RunID: id})
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, at := range atts {
		if at.NodeID == other {
			states = append(states, fmt.Sprintf("%d:%s:%v", at.Number, at.State, ownerPID(at.Owner) == bpid))
		}
	}
	sort.Strings(states)
	if got := strings.Join(states, " "); got != "1:abandoned:true 2:finished:false" {
		t.Errorf("attempts of %s (number:state:by b) = %s, want 1:abandoned:true 2:finished:false", other, got)
	}
}

// TestWorkerHolderDiesTaskAwaited: the worker holding a run is killed
// while another worker executes one of the run's steps. The survivor
// takes the run over and awaits that step rather than running it again
// (one side effect, one attempt), while the killed worker's own step,
// whose task lease lapsed, is abandoned and run again as attempt 2.
func TestWorkerHolderDiesTaskAwaited(t *testing.T) {
	db := pgtest.NewDatabase(t)
	dir := t.TempDir()
	src := `workflow held {
  input { dir: string }
  parallel {
    step x { run = "echo x $PPID >> ${input.dir}/effects; sleep 4; echo $PPID" }
    step y { run = "echo y $PPID >> ${input.dir}/effects; sleep 4; echo $PPID" }
  }
  step done { value = trim(x.stdout) + " " + trim(y.stdout) }
  output = done
}
`
	file := filepath.Join(dir, "held.smw")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	st := openTestStore(t, db)
	a := startWorker(t, dir, db, 0, "--lease", "2s", "--tasks", "1")
	apid := a.cmd.Process.Pid
	id := detach(t, db, file, "dir="+dir)
	eventually(t, "worker a to hold the run and start one step", func() bool {
		return len(effectLines(t, dir)) == 1
	})
	first := effectLines(t, dir)[0][0] // a's step
	other := map[string]string{"x": "y", "y": "x"}[first]
	b := startWorker(t, dir, db, 1, "--lease", "10s", "--tasks", "1")
	bpid := b.cmd.Process.Pid
	eventually(t, "worker b to start step "+other, func() bool { return len(effectLines(t, dir)) == 2 })
	a.kill()
	runs := waitRuns(t, st, []string{id}, terminal)
	if r := runs[id]; r.Status != store.RunFinished {
		t.Fatalf("run %s: %s %s", id, r.Status, r.Error)
	}
	b.stop(t)
	by := map[string][]int{}
	for _, f := range effectLines(t, dir) {
		pid, _ := strconv.Atoi(f[1])
		by[f[0]] = append(by[f[0]], pid)
	}
	if got := by[other]; len(got) != 1 || got[0] != bpid {
		t.Errorf("side effects of %s (executed by b, pid %d, when a died) by pids %v, want b's once", other, bpid, got)
	}
	if got := by[first]; len(got) != 2 || got[0] != apid || got[1] != bpid {
		t.Errorf("side effects of %s by pids %v, want a's (%d), then b's (%d) after a's task was abandoned", first, got, apid, bpid)
	}
	atts, err := st.AttemptList(context.Background(), &store.AttemptListParams{RunID: id})
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, at := range atts {
		if at.NodeID == "x" || at.NodeID == "y" {
			who := "b"
			if ownerPID(at.Owner) == apid {
				who = "a"
			}
			role := "awaited"
			if at.NodeID == first {
				role = "killed"
			}
			states = append(states, fmt.Sprintf("%s %d:%s:%s", role, at.Number, at.State, who))
		}
	}
	sort.Strings(states)
	if got, want := strings.Join(states, ", "), "awaited 1:finished:b, killed 1:abandoned:a, killed 2:finished:b"; got != want {
		t.Errorf("attempts = %s, want %s", got, want)
	}
	if o := owners(t, st, id); len(o) != 2 || ownerPID(o[0]) != apid || ownerPID(o[1]) != bpid {
		t.Errorf("run claimed by %v, want a then b", o)
	}
}
