package runtime_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/smithc/smithc/internal/binfile"
	"github.com/smithc/smithc/internal/testgen"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
)

// cost is one measurement: wall time and the CPU time (user + system)
// it took, and the peak RSS of a child process (KB; 0 in-process).
type cost struct {
	wall, cpu time.Duration
	rssKB     int64
}

func medianCost(n int, f func() cost) cost {
	var cs []cost
	for i := 0; i < n; i++ {
		cs = append(cs, f())
	}
	return medianOf(cs)
}

// interleaved measures each of fs reps times, in turns (fs[0], fs[1],
// ..., fs[0], ...), and returns every measurement of each: a baseline
// measured between the runs it is the baseline of sees the same machine.
// Each measurement starts after a sync(2), so that none pays for writing
// back what the one before it left dirty (an fsync on ext4 can wait for
// other files' data).
func interleaved(reps int, fs ...func() cost) [][]cost {
	cs := make([][]cost, len(fs))
	for i := 0; i < reps; i++ {
		for j, f := range fs {
			syscall.Sync()
			cs[j] = append(cs[j], f())
		}
	}
	return cs
}

// pairedRatio is the median, the least and the greatest of sub[i]/base[i]
// (wall times): each subject against the baseline measured just before it.
func pairedRatio(sub, base []cost) (med, lo, hi float64) {
	rs := make([]float64, len(sub))
	for i := range sub {
		rs[i] = float64(sub[i].wall) / float64(base[i].wall)
	}
	sort.Float64s(rs)
	return rs[len(rs)/2], rs[0], rs[len(rs)-1]
}

// medianOf is the median of each of cs's figures.
func medianOf(cs []cost) cost {
	med := func(get func(c cost) int64) int64 {
		v := make([]int64, len(cs))
		for i, c := range cs {
			v[i] = get(c)
		}
		sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
		return v[len(v)/2]
	}
	return cost{
		wall:  time.Duration(med(func(c cost) int64 { return int64(c.wall) })),
		cpu:   time.Duration(med(func(c cost) int64 { return int64(c.cpu) })),
		rssKB: med(func(c cost) int64 { return c.rssKB }),
	}
}

func (c cost) per(n int) cost {
	return cost{wall: c.wall / time.Duration(n), cpu: c.cpu / time.Duration(n), rssKB: c.rssKB}
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru) //nolint:errcheck // cannot fail for RUSAGE_SELF
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// inProcess measures f's wall and CPU time in this process.
func inProcess(f func()) cost {
	c0, t0 := selfCPU(), time.Now()
	f()
	return cost{wall: time.Since(t0), cpu: selfCPU() - c0}
}

// sqliteFloor is the cost of n sequential 3-statement step commits
// (upsert a node row, insert an attempt row, insert an event row) made
// directly on SQLite in WAL mode with the given synchronous setting: the
// floor a runtime that commits each step cannot go under.
func sqliteFloor(b *testing.B, dir, sync string, n int) cost {
	path := filepath.Join(dir, fmt.Sprintf("floor-%s-%d.db", sync, time.Now().UnixNano()))
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous("+sync+")&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	for _, q := range []string{
		`CREATE TABLE node (run TEXT NOT NULL, id TEXT NOT NULL, state TEXT NOT NULL, output TEXT, updated_at TEXT NOT NULL, PRIMARY KEY (run, id))`,
		`CREATE TABLE attempt (run TEXT NOT NULL, id TEXT NOT NULL, number INTEGER NOT NULL, state TEXT NOT NULL, started_at TEXT NOT NULL, PRIMARY KEY (run, id, number))`,
		`CREATE TABLE event (seq INTEGER PRIMARY KEY, run TEXT NOT NULL, node TEXT NOT NULL, kind TEXT NOT NULL, time TEXT NOT NULL, data TEXT)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	up, _ := db.PrepareContext(ctx, `INSERT INTO node (run, id, state, output, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (run, id) DO UPDATE SET state = excluded.state, output = excluded.output, updated_at = excluded.updated_at`)
	at, _ := db.PrepareContext(ctx, `INSERT INTO attempt (run, id, number, state, started_at) VALUES (?, ?, ?, ?, ?)`)
	ev, err := db.PrepareContext(ctx, `INSERT INTO event (run, node, kind, time, data) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	return inProcess(func() {
		for i := 0; i < n; i++ {
			now := time.Now().UTC().Format(time.RFC3339Nano)
			id := "s" + strconv.Itoa(i)
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Stmt(up).Exec("run-1", id, "finished", strconv.Itoa(i), now); err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Stmt(at).Exec("run-1", id, 1, "finished", now); err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Stmt(ev).Exec("run-1", id, "NodeFinished", now, `{}`); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// buildSmithc builds the smithc binary into dir as `make build` does
// (CGO_ENABLED=0: static, the shipped configuration), settled
// (binfile.Settle) as an installed binary is.
func buildSmithc(b *testing.B, dir string) string {
	bin := filepath.Join(dir, "smithc")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/smithc/smithc/cmd/smithc")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("go build smithc: %v\n%s", err, out)
	}
	if err := binfile.Settle(bin); err != nil { // timed as an installed binary
		b.Fatal(err)
	}
	return bin
}

// buildTool builds the command internal/name into dir (CGO_ENABLED=0,
// as smithc is built).
func buildTool(b *testing.B, dir, name string) string {
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", bin, "github.com/smithc/smithc/internal/"+name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	if err := binfile.Settle(bin); err != nil {
		b.Fatal(err)
	}
	return bin
}

// whole runs the smithc binary once to completion and measures it.
//
// Its peak RSS is the child's own high-water mark (VmHWM), read from
// /proc while it runs: getrusage's ru_maxrss of a child started with
// vfork (as Go starts processes) is at least the parent's peak RSS, so a
// test binary that grew would inflate every figure after it. Output is
// kept to its last 64 KB (the run id is in the last lines), so that the
// test binary does not grow with the progress lines of 10⁵ elements.
func whole(b *testing.B, bin, db string, args ...string) (cost, string) {
	return wholeRun(b, true, bin, db, args...)
}

// short is whole without the peak RSS, for every row that reports none:
// reading the child's /proc/PID/status every 2 ms is measurable beside a
// process of 10 ms on two cores, and it made a 1,000-step run with
// --durability full 25-50 ms (8-14%) slower (docs/benchmarks.md, Round 13).
func short(b *testing.B, bin, db string, args ...string) cost {
	c, _ := wholeRun(b, false, bin, db, args...)
	return c
}

func wholeRun(b *testing.B, poll bool, bin, db string, args ...string) (cost, string) {
	if db != "" {
		args = append(args, "--db", db)
	}
	cmd := exec.Command(bin, args...)
	out := &tailBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatalf("smithc %v: %v", args, err)
	}
	done := make(chan struct{})
	hwm := make(chan int64, 1)
	if !poll {
		hwm <- 0
	} else {
		go poller(cmd.Process.Pid, done, hwm)
	}
	err := cmd.Wait()
	close(done)
	peak := <-hwm
	if err != nil {
		b.Fatalf("smithc %v: %v\n%s", args, err, out.String())
	}
	c := cost{wall: time.Since(t0), cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), rssKB: peak}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && c.rssKB == 0 && poll {
		c.rssKB = ru.Maxrss
	}
	return c, out.String()
}

// poller sends pid's peak RSS on hwm once done is closed, reading it
// every 2 ms meanwhile.
func poller(pid int, done <-chan struct{}, hwm chan<- int64) {
	var peak int64
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		if kb := vmHWM(pid); kb > peak {
			peak = kb
		}
		select {
		case <-done:
			hwm <- peak
			return
		case <-t.C:
		}
	}
}

// vmHWM reads a process's peak resident set size (KB) from
// /proc/PID/status; 0 when it cannot (the process is gone).
func vmHWM(pid int) int64 {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

func writeFile(b *testing.B, path, text string) string {
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

const fanSource = `workflow fan {
  input {
    n: int = 10000
  }
  for v in 0..(input.n - 1) {
    step w {
      value = v * 2
    }
  }
  step count {
    value = len(w)
  }
  output = count
}
`

const loopSource = `workflow loopy {
  input {
    n: int = 1000
  }
  loop L {
    until = iteration + 1 >= input.n
    max_iterations = 1000000
    step s {
      value = iteration
    }
  }
  output = s
}
`

var runIDRe = regexp.MustCompile(`run (\S+) finished`)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkTargets measures the figures of the performance targets, each
// next to its baseline measured in the same run, and prints them as a
// table (wall time and CPU time, medians of SMITHC_BENCH_REPS runs,
// default 3). SMITHC_BENCH_LARGE=1 adds the 10⁵-element fan-out (the loop
// runs 10³, 10⁴ and 10⁵ iterations always). Run it with -benchtime 1x (make bench-targets).
func BenchmarkTargets(b *testing.B) {
	for i := 0; i < b.N; i++ {
		benchTargets(b)
	}
}

// targetRow is one row of the targets table.
type targetRow struct{ target, figure, baseline, ratio, cpu, verdict string }

// checkTargetRows measures the targets of `smithc check` (the front end
// that run pays too): 10⁵ sequential steps, each reading the one before
// it, in ≤ 2 s and ≤ 500 MB peak RSS, and a template of 10⁵
// interpolations in ≤ 1 s (internal/testgen's Sequential and
// Interpolations; medians of reps whole processes).
func checkTargetRows(b *testing.B, bin, dir string, reps int) []targetRow {
	secs := func(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**not met**"
	}
	steps := writeFile(b, filepath.Join(dir, "steps1e5.smw"), string(testgen.Sequential(100000)))
	interp := writeFile(b, filepath.Join(dir, "interp1e5.smw"), string(testgen.Interpolations(100000)))
	cs := medianCost(reps, func() cost { c, _ := whole(b, bin, "", "check", steps); return c })
	ci := medianCost(reps, func() cost { c, _ := whole(b, bin, "", "check", interp); return c })
	return []targetRow{
		{"`smithc check` of 10⁵ sequential steps ≤ 2 s, peak RSS ≤ 500 MB", fmt.Sprintf("%s, %d MB", secs(cs.wall), cs.rssKB>>10), "2 s, 500 MB",
			fmt.Sprintf("%.2f×, %.2f×", cs.wall.Seconds()/2, float64(cs.rssKB)/(500<<10)), secs(cs.cpu) + " CPU", verdict(cs.wall <= 2*time.Second && cs.rssKB <= 500<<10)},
		{"`smithc check` of a template of 10⁵ interpolations ≤ 1 s", fmt.Sprintf("%s, %d MB", secs(ci.wall), ci.rssKB>>10), "1 s",
			fmt.Sprintf("%.2f×", ci.wall.Seconds()), secs(ci.cpu) + " CPU", verdict(ci.wall <= time.Second)},
	}
}

// BenchmarkCheckTargets prints the check rows of BenchmarkTargets alone
// (run it with -benchtime 1x).
func BenchmarkCheckTargets(b *testing.B) {
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		bin := buildSmithc(b, dir)
		reps := envInt("SMITHC_BENCH_REPS", 3)
		var load string
		if l, err := os.ReadFile("/proc/loadavg"); err == nil {
			load = strings.Join(strings.Fields(string(l))[:3], " ")
		}
		fmt.Printf("\nCheck targets (medians of %d; load average %s)\n\n", reps, load)
		fmt.Printf("| target | measured | target figure | ratio | CPU time (user+sys) | verdict |\n| --- | --- | --- | --- | --- | --- |\n")
		for _, r := range checkTargetRows(b, bin, dir, reps) {
			fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", r.target, r.figure, r.baseline, r.ratio, r.cpu, r.verdict)
		}
		fmt.Println()
	}
}

func benchTargets(b *testing.B) {
	reps := envInt("SMITHC_BENCH_REPS", 3)
	large := os.Getenv("SMITHC_BENCH_LARGE") == "1"
	dir := b.TempDir()
	bin := buildSmithc(b, dir)
	db := filepath.Join(dir, "smithers.db")
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }
	us := func(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d)/1e3) }
	ratio := func(a, base time.Duration) string { return fmt.Sprintf("%.2f×", float64(a)/float64(base)) }
	type row struct{ target, figure, baseline, ratio, cpu, verdict string }
	var rows []row
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**not met**"
	}

	const n = 1000
	seq := writeFile(b, filepath.Join(dir, "seq1000.smw"), string(testgen.Constants(n)))
	seq100 := writeFile(b, filepath.Join(dir, "seq100.smw"), string(testgen.Constants(100)))
	one := writeFile(b, filepath.Join(dir, "one.smw"), string(testgen.Constants(1)))
	whole(b, bin, db, "run", one) // creates and migrates the store

	// Each floor is measured beside what it is the floor of, in turns: an
	// fsync's latency here drifts by 1.5× within minutes (see
	// docs/benchmarks.md, Round 13), and a floor measured once at the start
	// made the ratio a reading of that drift.
	fl := interleaved(max(5, reps),
		func() cost { return sqliteFloor(b, dir, "NORMAL", n) },
		func() cost { return short(b, bin, db, "run", seq) },
		func() cost { return sqliteFloor(b, dir, "FULL", n) },
		func() cost { return short(b, bin, db, "run", seq, "--durability", "full") })
	floorN, wn, floorF, wf := medianOf(fl[0]).per(n), medianOf(fl[1]).per(n), medianOf(fl[2]).per(n), medianOf(fl[3]).per(n)
	rn, rnLo, rnHi := pairedRatio(fl[1], fl[0])
	rf, rfLo, rfHi := pairedRatio(fl[3], fl[2])
	paired := func(med, lo, hi float64) string { return fmt.Sprintf("%.2f× (%.2f–%.2f)", med, lo, hi) }
	rows = append(rows,
		row{"sequential compute step, whole process, N=1,000, normal ≤ 1.5× NORMAL floor", us(wn.wall), us(floorN.wall), paired(rn, rnLo, rnHi),
			us(wn.cpu) + " / " + us(floorN.cpu) + " = " + ratio(wn.cpu, floorN.cpu), verdict(rn <= 1.5)},
		row{"chain of compute steps ≤ 0.5× NORMAL floor (same run as above)", us(wn.wall), us(floorN.wall), paired(rn, rnLo, rnHi),
			ratio(wn.cpu, floorN.cpu), verdict(rn <= 0.5)},
		row{"sequential compute step, whole process, N=1,000, --durability full ≤ 1.3× FULL floor", us(wf.wall), us(floorF.wall), paired(rf, rfLo, rfHi),
			us(wf.cpu) + " / " + us(floorF.cpu) + " = " + ratio(wf.cpu, floorF.cpu), verdict(rf <= 1.3)})

	// In process: the same chain through the engine, no process start.
	prog := seqProgram(n)
	for _, d := range []runtime.Durability{runtime.DurabilityNormal, runtime.DurabilityFull} {
		sync := map[runtime.Durability]string{runtime.DurabilityNormal: "NORMAL", runtime.DurabilityFull: "FULL"}[d]
		st, err := sqlitestore.Open(context.Background(), filepath.Join(dir, "inproc-"+sync+".db"), sqlitestore.Options{Synchronous: sync})
		if err != nil {
			b.Fatal(err)
		}
		e, err := runtime.New(runtime.Config{Store: st, Actions: runtime.Actions{"compute": computeAction()}, Durability: d})
		if err != nil {
			b.Fatal(err)
		}
		c := medianCost(reps, func() cost {
			return inProcess(func() {
				res, err := e.Start(context.Background(), runtime.StartParams{Program: prog})
				if err != nil || res.Status != store.RunFinished {
					b.Fatalf("%+v %v", res, err)
				}
			})
		}).per(n)
		st.Close()
		floor := map[runtime.Durability]cost{runtime.DurabilityNormal: floorN, runtime.DurabilityFull: floorF}[d]
		rows = append(rows, row{"sequential compute step, in process, N=1,000, " + d.String(), us(c.wall), sync + " floor " + us(floor.wall), ratio(c.wall, floor.wall),
			ratio(c.cpu, floor.cpu), "—"})
	}

	// The start-up figures are short and noisy: medians of at least 11
	// runs.
	startReps := max(11, 2*reps+1)
	w100 := medianCost(startReps, func() cost { return short(b, bin, db, "run", seq100) })
	rows = append(rows, row{"100 sequential compute steps, whole process ≤ 24 ms (150× the original's 3.56 s)", ms(w100.wall), "24 ms", ratio(w100.wall, 24*time.Millisecond),
		ms(w100.cpu) + " CPU", verdict(w100.wall <= 24*time.Millisecond)})

	version := medianCost(startReps, func() cost { return short(b, bin, "", "version") })
	start := medianCost(startReps, func() cost { return short(b, bin, "", "check", one) })
	// The start-up floor (internal/startfloor: a Go program with the same
	// SQLite doing a one-step run's store work and nothing else), one run
	// of it after each run of smithc: the same moment, the same load.
	// The link floor (internal/linkfloor: smithc's binary returning
	// before its command starts) is what every smithc process pays
	// first: the runtime's start and the initialisation of every linked
	// package.
	floorBin, floorDB := buildTool(b, dir, "startfloor"), filepath.Join(dir, "floor.db")
	linkBin := buildTool(b, dir, "linkfloor")
	whole(b, floorBin, "", floorDB) // creates its tables
	var floorRuns, linkRuns []cost
	w1 := medianCost(startReps, func() cost {
		c := short(b, bin, db, "run", one)
		f := short(b, floorBin, "", floorDB)
		l := short(b, linkBin, "")
		floorRuns, linkRuns = append(floorRuns, f), append(linkRuns, l)
		return c
	})
	floor1, link1 := medianOf(floorRuns), medianOf(linkRuns)
	rows = append(rows, row{"one-step workflow, whole process, existing store ≤ 10 ms", ms(w1.wall),
		"start-up floor (Go + the same SQLite: open, 2 commits, close) " + ms(floor1.wall) + "; link floor (smithc's binary, nothing run) " + ms(link1.wall) +
			"; `smithc check` of it " + ms(start.wall) + ", `smithc version` " + ms(version.wall),
		ratio(w1.wall, floor1.wall) + " the floor; the link floor is " + ratio(link1.wall, w1.wall) + " of it",
		ms(w1.cpu) + " CPU (floor " + ms(floor1.cpu) + ", link floor " + ms(link1.cpu) + ", check " + ms(start.cpu) + ", version " + ms(version.cpu) + ")", verdict(w1.wall <= 10*time.Millisecond)})
	nfresh := 0
	w1new := medianCost(startReps, func() cost {
		nfresh++
		return short(b, bin, filepath.Join(dir, fmt.Sprintf("new-%d.db", nfresh)), "run", one)
	})
	rows = append(rows, row{"one-step workflow, whole process, new store (created, migrated) ≤ 10 ms", ms(w1new.wall), "`smithc check` of it " + ms(start.wall), ratio(w1new.wall, start.wall),
		ms(w1new.cpu) + " CPU", verdict(w1new.wall <= 10*time.Millisecond)})

	// A 10 MB input: what it costs in peak RSS over the same one-step
	// workflow run without it (medians; both with the RSS poller).
	bigSrc := writeFile(b, filepath.Join(dir, "big.smw"), "workflow big {\n  input { data: string }\n  step n {\n    value = len(input.data)\n  }\n  output = n\n}\n")
	bigIn := writeFile(b, filepath.Join(dir, "big.json"), `{"data":"`+strings.Repeat("x", 10<<20)+`"}`)
	bigRuns := interleaved(reps,
		func() cost { c, _ := whole(b, bin, db, "run", one); return c },
		func() cost { c, _ := whole(b, bin, db, "run", bigSrc, "--input-file", bigIn); return c })
	noIn, withIn := medianOf(bigRuns[0]), medianOf(bigRuns[1])
	rows = append(rows, row{"one-step workflow reading a 10 MB input (--input-file), whole process", fmt.Sprintf("%s, %d MB", ms(withIn.wall), withIn.rssKB>>10),
		fmt.Sprintf("the one-step workflow without it: %d MB", noIn.rssKB>>10), fmt.Sprintf("%.1f× the input's size over it", float64(withIn.rssKB-noIn.rssKB)/float64(10<<10)),
		ms(withIn.cpu) + " CPU", "—"})

	for _, r := range checkTargetRows(b, bin, dir, reps) {
		rows = append(rows, row(r))
	}

	fan := writeFile(b, filepath.Join(dir, "fan.smw"), fanSource)
	fanSizes := []int{10000}
	if large {
		fanSizes = append(fanSizes, 100000)
	}
	for _, k := range fanSizes {
		c := medianCost(reps, func() cost { c, _ := whole(b, bin, db, "run", fan, "--input", fmt.Sprintf("n=%d", k)); return c })
		rate := float64(k) / c.wall.Seconds()
		rssLimit := int64(60 << 10)
		if k > 10000 {
			rssLimit = 300 << 10
		}
		rows = append(rows, row{fmt.Sprintf("for of %d no-op elements ≥ 30,000 steps/s, peak RSS ≤ %d MB", k, rssLimit>>10),
			fmt.Sprintf("%.0f steps/s, %d MB", rate, c.rssKB>>10), "30,000 steps/s", fmt.Sprintf("%.2f×", rate/30000),
			fmt.Sprintf("%.0f steps/CPU-s", float64(k)/c.cpu.Seconds()), verdict(rate >= 30000 && c.rssKB <= rssLimit)})
	}

	loop := writeFile(b, filepath.Join(dir, "loop.smw"), loopSource)
	// The size, 10⁵ iterations, next to 10⁴ and 10³: RSS
	// independent of the count means no growth from 10⁴ to 10⁵ (the
	// store's page cache and the heap's steady state are reached by 10⁴;
	// the 10³ figure shows that warm-up). The growth per iteration
	// between the two largest is printed with it.
	loopSizes := []int{1000, 10000, 100000}
	var rss []int64
	var lastOut string
	var last cost
	for _, k := range loopSizes {
		last, lastOut = whole(b, bin, db, "run", loop, "--input", fmt.Sprintf("n=%d", k))
		rss = append(rss, last.rssKB)
	}
	k := loopSizes[len(loopSizes)-1]
	top, prev := rss[len(rss)-1], rss[len(rss)-2]
	slope := float64(top-prev) * 1024 / float64(k-loopSizes[len(loopSizes)-2])
	rows = append(rows, row{fmt.Sprintf("loop of %d iterations: RSS independent of the count", k),
		fmt.Sprintf("%d MB, %s per iteration", top>>10, us(last.per(k).wall)),
		fmt.Sprintf("%d MB at %d (%d MB at %d)", prev>>10, loopSizes[len(loopSizes)-2], rss[0]>>10, loopSizes[0]),
		fmt.Sprintf("%.2f× (%+.0f bytes per iteration)", float64(top)/float64(prev), slope), us(last.per(k).cpu) + " CPU per iteration", verdict(top*10 <= prev*12)})
	m := runIDRe.FindStringSubmatch(lastOut)
	if m == nil {
		b.Fatalf("no run id in %q", lastOut)
	}
	res := medianCost(2*reps+1, func() cost { return short(b, bin, db, "resume", m[1]) })
	rows = append(rows, row{fmt.Sprintf("resume of the finished %d-iteration loop run, whole process ≤ 100 ms", k), ms(res.wall), "100 ms", ratio(res.wall, 100*time.Millisecond),
		ms(res.cpu) + " CPU", verdict(res.wall <= 100*time.Millisecond)})
	insp := medianCost(reps, func() cost { c, _ := whole(b, bin, db, "inspect", m[1]); return c })
	rows = append(rows, row{fmt.Sprintf("inspect of the %d-iteration loop run (paged: first and last 20), whole process", k),
		fmt.Sprintf("%s, %d MB", ms(insp.wall), insp.rssKB>>10), "resume of it " + ms(res.wall), ratio(insp.wall, res.wall),
		ms(insp.cpu) + " CPU", "—"})

	var load string
	if l, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(l))[:3], " ")
	}
	fmt.Printf("\nTargets (medians of %d, of %d for the first three rows; load average %s; ratios against baselines measured in this run:\n"+
		"in the first three rows, the median and the range of each run's time over the floor's measured just before it)\n\n", reps, max(5, reps), load)
	fmt.Printf("| target | measured | baseline | ratio | CPU time (user+sys) | verdict |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", r.target, r.figure, r.baseline, r.ratio, r.cpu, r.verdict)
	}
	fmt.Println()
}
