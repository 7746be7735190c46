package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/smithc/smithc/internal/pgtest"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/pgstore"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
)

// Workflows of the worker tests. Every shell step appends a line naming
// its run and step to the effects file, so a test can count how often
// each side effect happened.
const (
	seqSMW = `workflow seq {
  input { tag: string, dir: string, nap: string = "0" }
  step a { run = "sleep ${input.nap}; echo ${input.tag}:a >> ${input.dir}/effects; echo a" }
  step b { run = "sleep ${input.nap}; echo ${input.tag}:b >> ${input.dir}/effects; echo b" }
  step c { run = "sleep ${input.nap}; echo ${input.tag}:c >> ${input.dir}/effects; echo c" }
  step d { run = "sleep ${input.nap}; echo ${input.tag}:d >> ${input.dir}/effects; echo d" }
  step done { value = trim(a.stdout) + trim(b.stdout) + trim(c.stdout) + trim(d.stdout) }
  output = done
}
`
	parSMW = `workflow par {
  input { tag: string, dir: string }
  parallel {
    step x { run = "echo ${input.tag}:x >> ${input.dir}/effects; echo x" }
    step y { run = "echo ${input.tag}:y >> ${input.dir}/effects; echo y" }
    step z { run = "echo ${input.tag}:z >> ${input.dir}/effects; echo z" }
  }
  step done { value = trim(x.stdout) + trim(y.stdout) + trim(z.stdout) }
  output = done
}
`
	fanSMW = `workflow fan {
  input { tag: string, dir: string, n: int }
  for i in 1..input.n {
    max_concurrency = 8
    step sq { run = "echo ${input.tag}:sq${i} >> ${input.dir}/effects; echo ${i * i}" }
  }
  step sum { value = sum(map(sq, int(trim(.stdout)))) }
  output = sum
}
`
	gateSMW = `workflow gated {
  input { tag: string, dir: string }
  step before { run = "echo ${input.tag}:before >> ${input.dir}/effects; echo b" }
  approval ship { title = "Ship?" }
  step after { run = "echo ${input.tag}:after >> ${input.dir}/effects; echo shipped" }
  output = after
}
`
	napSMW = `workflow napping {
  input { tag: string, dir: string }
  step first { run = "echo ${input.tag}:first >> ${input.dir}/effects; echo 1" }
  timer pause { duration = "1s" }
  step second { run = "echo ${input.tag}:second >> ${input.dir}/effects; echo 2" }
  output = second
}
`
)

// workerProc is one `smithc worker` process.
type workerProc struct {
	cmd  *exec.Cmd
	log  string
	done chan error
}

// startWorker starts a worker on db with extra flags; its stderr goes to
// a log file the test prints on failure.
func startWorker(t *testing.T, dir, db string, n int, flags ...string) *workerProc {
	t.Helper()
	log := filepath.Join(dir, fmt.Sprintf("worker%d-%d.log", n, time.Now().UnixNano()))
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"worker", "--db", db, "--poll", "200ms", "--lease", "1s"}, flags...)
	cmd := exec.Command(smithcBin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	p := &workerProc{cmd: cmd, log: log, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			b, _ := os.ReadFile(log)
			t.Logf("--- %s\n%s", filepath.Base(log), b)
		}
	})
	p.waitStarted(t)
	return p
}

// waitStarted waits until the worker says it started: its signal handlers
// are installed by then, so a SIGTERM drains it (before, the signal's
// default action ends it with 143, as it would any process that is still
// starting), and its first claim follows.
func (p *workerProc) waitStarted(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		b, _ := os.ReadFile(p.log)
		if bytes.Contains(b, []byte(": started on ")) {
			return
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Errorf("worker exited while starting: %v\n%s", err, b) // not Fatal: the killer goroutine starts workers too
			return
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Errorf("worker did not start within a minute:\n%s", b)
			return
		}
	}
}

// stop sends SIGTERM and checks the worker exits 0.
func (p *workerProc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			b, _ := os.ReadFile(p.log)
			t.Errorf("worker after SIGTERM: %v\n%s", err, b)
		}
	case <-time.After(60 * time.Second):
		t.Errorf("worker did not exit within a minute of SIGTERM")
	}
}

// kill SIGKILLs the worker (not its steps' process groups: those are
// left running, as they would be by a crash).
func (p *workerProc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	err := <-p.done
	p.done <- err
}

// openTestStore opens the store a test's workers use.
func openTestStore(t *testing.T, db string) store.Store {
	t.Helper()
	var st store.Store
	var err error
	if strings.HasPrefix(db, "postgres://") {
		st, err = pgstore.Open(context.Background(), db, pgstore.Options{})
	} else {
		st, err = sqlitestore.Open(context.Background(), db, sqlitestore.Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// detach enqueues a run and returns its id.
func detach(t *testing.T, db, file string, inputs ...string) string {
	t.Helper()
	args := []string{"run", file, "--detach", "--db", db}
	for _, in := range inputs {
		args = append(args, "--input", in)
	}
	r := runMain(args)
	mustCode(t, r, 0)
	id := strings.TrimSpace(r.stdout)
	if id == "" || strings.Contains(id, "\n") {
		t.Fatalf("run --detach printed %q, want one run id", r.stdout)
	}
	return id
}

// waitRuns waits until every run is terminal or waiting (polling the
// store) and returns them by id; it fails after a generous deadline.
func waitRuns(t *testing.T, st store.Store, ids []string, until func(*store.Run) bool) map[string]*store.Run {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		out := map[string]*store.Run{}
		for _, id := range ids {
			r, err := st.RunGetByID(context.Background(), &store.RunGetByIDParams{ID: id})
			if err != nil {
				t.Fatal(err)
			}
			if !until(r) {
				break
			}
			out[id] = r
		}
		if len(out) == len(ids) {
			return out
		}
		if time.Now().After(deadline) {
			var states []string
			for _, id := range ids {
				r, _ := st.RunGetByID(context.Background(), &store.RunGetByIDParams{ID: id})
				states = append(states, fmt.Sprintf("%s=%s(%s)", id, r.Status, r.Owner))
			}
			t.Fatalf("runs did not get there in 3 minutes: %s", strings.Join(states, " "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func terminal(r *store.Run) bool { return r.Status.Terminal() }

func allTerminal(t *testing.T, st store.Store, ids []string) bool {
	for _, id := range ids {
		r, err := st.RunGetByID(context.Background(), &store.RunGetByIDParams{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Status.Terminal() {
			return false
		}
	}
	return true
}

// effects counts the lines of the effects file.
func effects(t *testing.T, dir string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "effects"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l != "" {
			counts[l]++
		}
	}
	return counts
}

// owners returns the owners that claimed (started or resumed) each run,
// from the runs' event logs.
func owners(t *testing.T, st store.Store, id string) []string {
	t.Helper()
	evs, err := st.EventList(context.Background(), &store.EventListParams{RunID: id})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		if e.Kind == "RunResumed" || e.Kind == "RunStarted" {
			var d struct{ Owner string }
			json.Unmarshal(e.Data, &d)
			out = append(out, d.Owner)
		}
	}
	return out
}

func outputOf(r *store.Run) string { return string(r.Output) }

// TestWorkersRunTwentyRuns: three workers on PostgreSQL execute twenty
// detached runs (sequential, parallel, a for of 200 elements, approvals
// decided from another process, timers): all finish with the right
// outputs, every side effect happened once, and the runs are spread over
// the workers.
func TestWorkersRunTwentyRuns(t *testing.T) {
	testWorkersRunTwentyRuns(t, pgtest.NewDatabase(t))
}

// TestWorkersOnSQLite: the same with workers sharing one SQLite file.
func TestWorkersOnSQLite(t *testing.T) {
	t.Parallel()
	testWorkersRunTwentyRuns(t, filepath.Join(t.TempDir(), "smithers.db"))
}

func testWorkersRunTwentyRuns(t *testing.T, db string) {
	dir := t.TempDir()
	files := map[string]string{}
	for name, src := range map[string]string{"seq": seqSMW, "par": parSMW, "fan": fanSMW, "gate": gateSMW, "nap": napSMW} {
		files[name] = filepath.Join(dir, name+".smw")
		if err := os.WriteFile(files[name], []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st := openTestStore(t, db)
	var ws []*workerProc
	for i := 0; i < 3; i++ {
		// The default lease: on a loaded machine a 1s lease can lapse
		// under a live worker, whose in-flight steps then run twice.
		ws = append(ws, startWorker(t, dir, db, i, "--concurrency", "4", "--lease", "10s"))
	}
	type want struct{ output string }
	wants := map[string]want{}
	var ids, gates []string
	add := func(kind, output string, extra ...string) {
		tag := fmt.Sprintf("%s%d", kind, len(ids))
		id := detach(t, db, files[kind], append([]string{"tag=" + tag, "dir=" + dir}, extra...)...)
		ids = append(ids, id)
		wants[id] = want{output}
		if kind == "gate" {
			gates = append(gates, id)
		}
	}
	for i := 0; i < 9; i++ {
		add("seq", `"abcd"`)
	}
	for i := 0; i < 5; i++ {
		add("par", `"xyz"`)
	}
	add("fan", "2686700", "n=200") // the sum of the squares 1..200
	for i := 0; i < 3; i++ {
		add("gate", `"stdout":"shipped\n"`)
	}
	for i := 0; i < 2; i++ {
		add("nap", `"stdout":"2\n"`)
	}
	// The approvals are decided from another process once they wait; the
	// workers continue those runs.
	waitRuns(t, st, gates, func(r *store.Run) bool { return r.Status == store.RunWaitingApproval && r.Owner == "" })
	for _, id := range gates {
		mustCode(t, runMain([]string{"approve", id, "ship", "--no-continue", "--db", db}), 0)
	}
	runs := waitRuns(t, st, ids, terminal)
	for _, w := range ws {
		w.stop(t)
	}
	claimedBy := map[string]int{}
	for _, id := range ids {
		r := runs[id]
		if r.Status != store.RunFinished {
			t.Errorf("run %s: %s %s", id, r.Status, r.Error)
			continue
		}
		if got := outputOf(r); !strings.Contains(got, wants[id].output) {
			t.Errorf("run %s: output %s, want %s", id, got, wants[id].output)
		}
		for _, o := range owners(t, st, id) {
			claimedBy[o]++
		}
	}
	if len(claimedBy) < 2 {
		t.Errorf("all runs were executed by one worker: %v", claimedBy)
	}
	t.Logf("claims by worker: %v", claimedBy)
	counts := effects(t, dir)
	if want := 9*4 + 5*3 + 200 + 3*2 + 2*2; len(counts) != want {
		t.Errorf("%d distinct side effects, want %d", len(counts), want)
	}
	for line, n := range counts {
		if n != 1 {
			t.Errorf("side effect %s happened %d times", line, n)
		}
	}
}

// TestWorkersSurviveKills: while three workers execute runs (their steps
// shared as tasks), a random worker is SIGKILLed every few hundred
// milliseconds and restarted. Every run finishes with the right output,
// no side effect is lost, and a side effect happened twice only for a
// step whose attempt was abandoned by a killed worker (an attempt in
// flight at a kill is run again). Each worker executes one step at a time
// (--tasks 1) and a run's holder executes none itself, so a kill leaves
// at most one attempt in flight: the duplicates are at most the kills.
func TestWorkersSurviveKills(t *testing.T) {
	db := pgtest.NewDatabase(t)
	dir := t.TempDir()
	seq := filepath.Join(dir, "seq.smw")
	if err := os.WriteFile(seq, []byte(seqSMW), 0o644); err != nil {
		t.Fatal(err)
	}
	st := openTestStore(t, db)
	// A lease of 2s: under load a 1s one can lapse under a live worker,
	// whose step then runs twice without any kill.
	tortureFlags := []string{"--concurrency", "4", "--tasks", "1", "--lease", "2s"}
	ws := make([]*workerProc, 3)
	for i := range ws {
		ws[i] = startWorker(t, dir, db, i, tortureFlags...)
	}
	var ids []string
	for i := 0; i < 20; i++ {
		ids = append(ids, detach(t, db, seq, fmt.Sprintf("tag=s%d", i), "dir="+dir, "nap=0.3"))
	}
	stop := make(chan struct{})
	var kills int
	var mu sync.Mutex
	killerDone := make(chan struct{})
	go func() {
		defer close(killerDone)
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(300+rand.IntN(400)) * time.Millisecond):
			}
			i := rand.IntN(len(ws))
			mu.Lock()
			ws[i].kill()
			kills++
			ws[i] = startWorker(t, dir, db, i, tortureFlags...)
			mu.Unlock()
		}
	}()
	// Kill while the runs proceed (at most 40 kills), then let the
	// survivors finish.
	for {
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		k := kills
		mu.Unlock()
		if k >= 40 || allTerminal(t, st, ids) {
			break
		}
	}
	close(stop)
	<-killerDone
	runs := waitRuns(t, st, ids, terminal)
	for _, w := range ws {
		w.stop(t)
	}
	for _, id := range ids {
		if r := runs[id]; r.Status != store.RunFinished || outputOf(r) != `"abcd"` {
			t.Errorf("run %s: %s %s %s", id, r.Status, r.Output, r.Error)
		}
	}
	counts := effects(t, dir)
	dups, abandoned := 0, 0
	for i, id := range ids {
		atts, err := st.AttemptList(context.Background(), &store.AttemptListParams{RunID: id})
		if err != nil {
			t.Fatal(err)
		}
		lost := map[string]int{}
		for _, a := range atts {
			if a.State == store.AttemptAbandoned {
				lost[a.NodeID]++
				abandoned++
			}
		}
		for _, s := range []string{"a", "b", "c", "d"} {
			n := counts[fmt.Sprintf("s%d:%s", i, s)]
			if n == 0 {
				t.Errorf("side effect s%d:%s was lost", i, s)
			}
			if n > 1 {
				dups += n - 1
			}
			// A step ran again only after an attempt of it was abandoned
			// by a killed worker.
			if n-1 > lost[s] {
				t.Errorf("run %s step %s: side effect %d times, %d attempts abandoned", id, s, n, lost[s])
			}
		}
	}
	t.Logf("kills: %d, abandoned attempts: %d, duplicated side effects: %d", kills, abandoned, dups)
	fmt.Fprintf(os.Stderr, "TORTURE kills=%d abandoned=%d duplicates=%d runs=%d\n", kills, abandoned, dups, len(ids))
	if kills == 0 {
		t.Fatal("no worker was killed")
	}
	// Each killed worker had at most one attempt in flight (--tasks 1):
	// the runs it held go on in another worker, awaiting the attempts
	// other workers execute rather than running them again.
	if dups > kills {
		t.Errorf("%d duplicated side effects for %d kills of workers executing one step at a time", dups, kills)
	}
}

// TestWorkerFencing: a worker stopped (SIGSTOP) past its lease loses its
// run to another worker, which re-runs the step and finishes the run.
// Continued (SIGCONT), the stopped worker's step completes (its side
// effect happens: the file shows both attempts), but its late writes are
// refused: the store keeps the second worker's output and attempts.
func TestWorkerFencing(t *testing.T) {
	db := pgtest.NewDatabase(t)
	dir := t.TempDir()
	src := `workflow fenced {
  input { dir: string }
  step slow { run = "echo $$ >> ${input.dir}/effects; sleep 2; echo $$" }
  output = slow
}
`
	file := filepath.Join(dir, "fenced.smw")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	st := openTestStore(t, db)
	a := startWorker(t, dir, db, 0)
	id := detach(t, db, file, "dir="+dir)
	// Wait until a runs the step, then stop it.
	eventually(t, "worker a to start the step", func() bool { return len(effects(t, dir)) == 1 })
	if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	b := startWorker(t, dir, db, 1)
	runs := waitRuns(t, st, []string{id}, terminal)
	if r := runs[id]; r.Status != store.RunFinished {
		t.Fatalf("run %s: %s %s", id, r.Status, r.Error)
	}
	if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// a's step ends about two seconds after it started; give its late
	// commit the time to be tried (and refused).
	time.Sleep(3 * time.Second)
	b.stop(t)
	a.stop(t)
	pids := effects(t, dir)
	if len(pids) != 2 {
		t.Fatalf("side effects %v, want one per attempt (two)", pids)
	}
	run, err := st.RunGetByID(context.Background(), &store.RunGetByIDParams{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	node, err := st.NodeGet(context.Background(), &store.NodeGetParams{RunID: id, NodeID: "slow"})
	if err != nil {
		t.Fatal(err)
	}
	atts, err := st.AttemptList(context.Background(), &store.AttemptListParams{RunID: id})
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, at := range atts {
		states = append(states, fmt.Sprintf("%d:%s", at.Number, at.State))
	}
	sort.Strings(states)
	if strings.Join(states, " ") != "1:abandoned 2:finished" {
		t.Errorf("attempts %v, want 1:abandoned 2:finished (the stopped worker's late finish refused)", states)
	}
	var out struct{ Stdout string }
	json.Unmarshal(node.Output, &out)
	first := ""
	b1, _ := os.ReadFile(filepath.Join(dir, "effects"))
	first = strings.SplitN(string(b1), "\n", 2)[0]
	if strings.TrimSpace(out.Stdout) == first {
		t.Errorf("the node holds the stopped worker's output %s", out.Stdout)
	}
	if run.Status != store.RunFinished || string(run.Output) != string(node.Output) {
		t.Errorf("run %s output %s, node output %s", run.Status, run.Output, node.Output)
	}
	logA, _ := os.ReadFile(a.log)
	if !strings.Contains(string(logA), "conflict") && !strings.Contains(string(logA), "taken over") {
		t.Errorf("the stopped worker did not report its refused write:\n%s", logA)
	}
}

// TestWorkerWokenByNotify: with polling practically off (--poll 1h), a
// detached run and a decision made from another process reach the
// worker through PostgreSQL's NOTIFY alone.
func TestWorkerWokenByNotify(t *testing.T) {
	db := pgtest.NewDatabase(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "gate.smw")
	if err := os.WriteFile(file, []byte(gateSMW), 0o644); err != nil {
		t.Fatal(err)
	}
	st := openTestStore(t, db)
	w := startWorker(t, dir, db, 0, "--poll", "1h")
	eventually(t, "the worker to listen", func() bool {
		b, _ := os.ReadFile(w.log)
		return strings.Contains(string(b), "started on")
	})
	id := detach(t, db, file, "tag=g", "dir="+dir)
	waitRuns(t, st, []string{id}, func(r *store.Run) bool { return r.Status == store.RunWaitingApproval && r.Owner == "" })
	mustCode(t, runMain([]string{"approve", id, "ship", "--no-continue", "--db", db}), 0)
	runs := waitRuns(t, st, []string{id}, terminal)
	if r := runs[id]; r.Status != store.RunFinished {
		t.Errorf("run %s: %s %s", id, r.Status, r.Error)
	}
	w.stop(t)
}

// TestWorkerCancelAndDrain: a run a worker executes is cancelled from
// another process (its step is killed); on SIGTERM a worker whose run
// outlasts --drain-timeout hands it back (exit 0) and another worker
// finishes it.
func TestWorkerCancelAndDrain(t *testing.T) {
	db := pgtest.NewDatabase(t)
	dir := t.TempDir()
	src := `workflow long {
  input { dir: string, nap: string }
  step slow { run = "echo start >> ${input.dir}/effects; sleep ${input.nap}; echo done >> ${input.dir}/effects; echo ok" }
  output = slow
}
`
	file := filepath.Join(dir, "long.smw")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	st := openTestStore(t, db)
	a := startWorker(t, dir, db, 0, "--drain-timeout", "300ms")
	cancelled := detach(t, db, file, "dir="+dir, "nap=30")
	eventually(t, "the step to start", func() bool { return effects(t, dir)["start"] == 1 })
	mustCode(t, runMain([]string{"cancel", cancelled, "--db", db}), 0)
	runs := waitRuns(t, st, []string{cancelled}, terminal)
	if r := runs[cancelled]; r.Status != store.RunCancelled {
		t.Errorf("cancelled run: %s %s", r.Status, r.Error)
	}

	handed := detach(t, db, file, "dir="+dir, "nap=2")
	eventually(t, "the step to start", func() bool { return effects(t, dir)["start"] == 2 })
	a.stop(t) // exit 0, after handing the run back
	r, err := st.RunGetByID(context.Background(), &store.RunGetByIDParams{ID: handed})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != store.RunRunning || r.Owner != "" {
		t.Errorf("after the drain the run is %s owned by %q, want running and no owner", r.Status, r.Owner)
	}
	evs, _ := st.EventList(context.Background(), &store.EventListParams{RunID: handed})
	if len(evs) == 0 || evs[len(evs)-1].Kind != "RunReleased" {
		t.Errorf("the handed back run's last event is not RunReleased: %v", evs[len(evs)-1])
	}
	startWorker(t, dir, db, 1)
	runs = waitRuns(t, st, []string{handed}, terminal)
	if r := runs[handed]; r.Status != store.RunFinished {
		t.Errorf("handed back run: %s %s", r.Status, r.Error)
	}
	if n := effects(t, dir)["start"]; n != 3 {
		t.Errorf("%d step starts, want 3 (cancelled, handed back, finished)", n)
	}
}

// TestWorkersSurvivePostgresRestart: PostgreSQL itself is restarted
// while two workers execute runs; the workers reconnect and every run
// finishes.
func TestWorkersSurvivePostgresRestart(t *testing.T) {
	pgtest.Shared(t) // skips without PostgreSQL
	c, err := pgtest.Start(false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Destroy() })
	db, err := c.CreateDatabase(context.Background(), "restart")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	seq := filepath.Join(dir, "seq.smw")
	if err := os.WriteFile(seq, []byte(seqSMW), 0o644); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 8; i++ {
		ids = append(ids, detach(t, db, seq, fmt.Sprintf("tag=s%d", i), "dir="+dir, "nap=0.4"))
	}
	w0 := startWorker(t, dir, db, 0)
	w1 := startWorker(t, dir, db, 1)
	eventually(t, "the first side effects", func() bool { return len(effects(t, dir)) >= 3 })
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	st := openTestStore(t, db)
	runs := waitRuns(t, st, ids, terminal)
	w0.stop(t)
	w1.stop(t)
	l0, _ := os.ReadFile(w0.log)
	l1, _ := os.ReadFile(w1.log)
	if !strings.Contains(string(l0)+string(l1), "terminating connection") && !strings.Contains(string(l0)+string(l1), "connect") {
		t.Errorf("no worker saw the restart (it came too late to test anything):\n%s\n%s", l0, l1)
	}
	for _, id := range ids {
		if r := runs[id]; r.Status != store.RunFinished || outputOf(r) != `"abcd"` {
			t.Errorf("run %s: %s %s %s", id, r.Status, r.Output, r.Error)
		}
	}
}

// TestWorkerMetricsCountCheckpoints: `smithc worker --metrics-addr` on a
// SQLite store serves the background checkpointer's counts: after a run
// of a 3,000-element fan-out (more WAL frames than its threshold), a
// complete checkpoint, and no error.
func TestWorkerMetricsCountCheckpoints(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "smithers.db")
	f := filepath.Join(dir, "wide.smw")
	src := "workflow wide {\n  for v in 0..2999 {\n    step w {\n      value = v * 2\n    }\n  }\n  output = len(w)\n}\n"
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	st := openTestStore(t, db)
	w := startWorker(t, dir, db, 0, "--metrics-addr", "127.0.0.1:0")
	id := detach(t, db, f)
	runs := waitRuns(t, st, []string{id}, func(r *store.Run) bool { return r.Status == store.RunFinished })
	if string(runs[id].Output) != "3000" {
		t.Fatalf("output %s, want 3000", runs[id].Output)
	}
	var addr string
	for deadline := time.Now().Add(time.Minute); addr == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(w.log)
		if m := regexp.MustCompile(`metrics on (http://\S+/metrics)`).FindSubmatch(b); m != nil {
			addr = string(m[1])
		}
	}
	if addr == "" {
		t.Fatal("the worker did not say where its metrics are")
	}
	var body string
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(addr)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		m := regexp.MustCompile(`(?m)^smithc_sqlite_checkpoints_total\{outcome="complete"\} (\d+)$`).FindStringSubmatch(body)
		if m != nil && m[1] != "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no complete checkpoint counted in a minute:\n%s", body)
		}
	}
	for _, want := range []string{`smithc_sqlite_checkpoints_total{outcome="error"} 0`, `smithc_sqlite_checkpoint_frames{of="log"}`, "smithc_worker_attempts_total"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	w.stop(t)
}
