// Package worker continues runs that no process executes: runs started
// with `smithc run --detach`, runs whose owner died or lost its lease,
// waiting runs whose approval was decided or whose signal arrived, and
// runs waiting on a timer. Any number of workers, on any number of
// machines, may share one store: each run is claimed by one worker at a
// time through the store's run lease (store.Store.RunClaim) and continued
// with runtime.Engine.Resume, so a run whose worker is killed is taken
// over by another once its lease lapses, its attempts in flight abandoned
// and retried.
//
// Distribution is at the level of runs: one worker executes all the
// steps of a run it holds (up to the engine's MaxConcurrency at once).
//
// A worker wakes on the store's notifications (store.Notifier, PostgreSQL
// LISTEN/NOTIFY) and polls the store every PollInterval as the fallback
// (the only way on SQLite).
package worker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

// Defaults of Config's zero values.
const (
	DefaultConcurrency  = 4
	DefaultPollInterval = time.Second
	DefaultDrainTimeout = 30 * time.Second
)

// Config configures a Worker.
type Config struct {
	// Engine executes the runs; its Owner names this worker in leases.
	Engine *runtime.Engine
	// Concurrency bounds the runs this worker executes at once.
	Concurrency int
	// Tasks bounds the tasks (attempts of any run's steps, see
	// runtime.Config.Distribute) this worker executes at once (default
	// DefaultTasks). It claims none when the engine does not distribute.
	Tasks int
	// PollInterval is how often the store is scanned without a
	// notification.
	PollInterval time.Duration
	// DrainTimeout bounds how long Run waits, once its context ends, for
	// the runs under way to finish or wait; the rest are handed back
	// (runtime.ErrHandBack) for another worker.
	DrainTimeout time.Duration
	// Metrics, when set, receives the worker's counts.
	Metrics *Metrics
	// Logf, when set, receives one line per claim, end and error.
	Logf func(format string, args ...any)
}

// Worker continues runs from one store.
type Worker struct {
	cfg   Config
	st    store.Store
	owner string // the engine's owner, in task leases

	mu     sync.Mutex
	busy   map[string]context.CancelCauseFunc // runs executing here
	seen   map[string]string                  // waiting runs: what they waited on when last released
	parent map[string]bool                    // runs to continue after a child ended
	claims map[string]claim                   // runs being claimed
	// ended are the runs that ended here (finished, failed, cancelled),
	// with when: the notification of their end needs no look.
	ended map[string]time.Time
	wake  chan struct{}
	wg    sync.WaitGroup
}

// New returns a worker for cfg.
func New(cfg Config) (*Worker, error) {
	if cfg.Engine == nil {
		return nil, errors.New("worker: Config.Engine is required")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Tasks <= 0 {
		cfg.Tasks = DefaultTasks
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	return &Worker{cfg: cfg, st: cfg.Engine.Store(), owner: cfg.Engine.Owner().String(), busy: map[string]context.CancelCauseFunc{},
		seen: map[string]string{}, parent: map[string]bool{}, claims: map[string]claim{}, ended: map[string]time.Time{}, wake: make(chan struct{}, 1)}, nil
}

func (w *Worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run claims and executes runs until ctx ends, then drains: it stops
// claiming, waits up to DrainTimeout for the runs under way, hands the
// others back, and returns nil.
func (w *Worker) Run(ctx context.Context) error {
	// Tasks are claimed until the runs held here are drained (then only
	// those runs' tasks), so that a draining worker's runs go on.
	tctx, stopTasks := context.WithCancel(context.WithoutCancel(ctx))
	tasksDone := make(chan struct{})
	if ts, ok := w.st.(store.TaskStore); ok && w.cfg.Engine.Distributes() {
		go func() { defer close(tasksDone); w.tasks(tctx, ctx, ts) }() // task.go
	} else {
		close(tasksDone)
	}
	defer func() { stopTasks(); <-tasksDone }()
	var notes <-chan string
	if n, ok := w.st.(store.Notifier); ok {
		ch, err := n.Notifications(ctx)
		if err != nil {
			w.cfg.Logf("notifications unavailable, polling every %s: %v", w.cfg.PollInterval, err)
		} else {
			notes = ch
		}
	}
	tick := time.NewTicker(w.cfg.PollInterval)
	defer tick.Stop()
	full := true                  // the first scan, and each poll, looks at every run
	notified := map[string]bool{} // the runs notifications named since the last scan
	poked := false                // a run ended here: a slot is free
	for {
		if full || poked || !w.ours(notified) {
			keep, err := w.scan(ctx, full, notified)
			if err != nil && ctx.Err() == nil {
				w.cfg.Logf("scan: %v", err)
			}
			// A run named while it executed here is looked at again once
			// its session ends (start pokes the loop): a decision that
			// arrived just as it was released is not left to the next
			// poll.
			notified = keep
		} else {
			w.dropEnded(notified) // the rest execute here: kept as above
		}
		full, poked = false, false
		select {
		case <-ctx.Done():
			return w.drain()
		case id, ok := <-notes:
			if !ok {
				notes = nil
				full = true
				continue
			}
			notified[id] = true
			// Coalesce a burst of notifications into one scan.
			for more := true; more; {
				select {
				case id, ok := <-notes:
					more = ok
					if ok {
						notified[id] = true
					}
				default:
					more = false
				}
			}
			if notified[""] { // reconnected: anything may have changed
				full = true
			}
		case <-tick.C:
			full = true
		case <-w.wake:
			poked = true
		}
	}
}

// ours reports that every run notified is one this worker executes or
// just ended: its own commits' notifications, which need no scan now (a
// session ending here pokes a scan, which looks at the runs executing
// here that were notified). A wake-up without notifications (notified
// empty) is not ours.
func (w *Worker) ours(notified map[string]bool) bool {
	if len(notified) == 0 {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for id := range notified {
		_, busy := w.busy[id]
		if id == "" || !busy && !w.endedLocked(id) {
			return false
		}
	}
	return true
}

// dropEnded removes from notified the runs that just ended here.
func (w *Worker) dropEnded(notified map[string]bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id := range notified {
		if w.endedLocked(id) {
			delete(notified, id)
		}
	}
}

// endedFor is how long a run that ended here is remembered: long enough
// for the notification of its end, short enough that a run retried soon
// after waits at most the poll for its notification to count.
const endedFor = time.Second

// endedLocked reports that id ended here less than endedFor ago.
func (w *Worker) endedLocked(id string) bool {
	at, ok := w.ended[id]
	return ok && time.Since(at) < endedFor
}

// drain waits for the runs under way, then hands back what is left.
func (w *Worker) drain() error {
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	w.mu.Lock()
	n := len(w.busy)
	w.mu.Unlock()
	if n > 0 {
		w.cfg.Logf("draining: waiting up to %s for %d run(s)", w.cfg.DrainTimeout, n)
	}
	select {
	case <-done:
		return nil
	case <-time.After(w.cfg.DrainTimeout):
	}
	w.mu.Lock()
	for id, cancel := range w.busy {
		w.cfg.Logf("run %s: handing back", id)
		cancel(runtime.ErrHandBack)
	}
	w.mu.Unlock()
	<-done
	return nil
}

// candidates are the statuses a worker may have to continue.
var candidates = []store.RunStatus{store.RunRunning, store.RunWaitingApproval, store.RunWaitingEvent, store.RunWaitingTimer}

// scan starts as many runs that need a worker as free slots allow,
// picked at random among the oldest (so that workers woken together
// mostly claim different runs). A full scan (at start, at each poll, after
// a lost notification connection) lists every run that may need a worker
// and refreshes the metrics; otherwise, with a free slot, only the oldest
// free running runs and runs waiting on a timer are listed, with the
// waiting runs that notifications named: a scan costs a few rows, not all
// the queue's.
//
// It returns the notified runs it could not start (they execute here, or
// no slot was free), for the scan after a session ends.
func (w *Worker) scan(ctx context.Context, full bool, notified map[string]bool) (keep map[string]bool, err error) {
	keep = map[string]bool{}
	for id := range notified {
		w.mu.Lock()
		_, busy := w.busy[id]
		w.mu.Unlock()
		if busy {
			keep[id] = true
		}
	}
	if ctx.Err() != nil {
		return keep, nil
	}
	free := w.cfg.Concurrency - w.running()
	if !full && free <= 0 {
		return notified, nil
	}
	var runs []*store.Run
	if full {
		runs, err = w.st.RunList(ctx, &store.RunListParams{Statuses: candidates, NoInput: true})
		if err != nil {
			return notified, err
		}
		sort.SliceStable(runs, func(i, j int) bool { return runs[i].CreatedAt.Before(runs[j].CreatedAt) })
		w.mu.Lock()
		for id, at := range w.ended {
			if time.Since(at) > endedFor {
				delete(w.ended, id)
			}
		}
		w.mu.Unlock()
		w.cfg.Metrics.observeRuns(runs)
	} else {
		runs, err = w.st.RunList(ctx, &store.RunListParams{NoInput: true, Statuses: []store.RunStatus{store.RunRunning, store.RunWaitingTimer},
			FreeAt: time.Now(), Oldest: true, Limit: 4 * free})
		if err != nil {
			return notified, err
		}
		listed := make(map[string]bool, len(runs))
		for _, r := range runs {
			listed[r.ID] = true
		}
		for id := range notified {
			w.mu.Lock()
			ended := w.endedLocked(id)
			w.mu.Unlock()
			// Executing or just ended here (its own commits notify), or
			// listed already: nothing to read.
			if id == "" || keep[id] || ended || listed[id] {
				continue
			}
			r, err := w.st.RunGetByID(ctx, &store.RunGetByIDParams{ID: id, NoInput: true})
			if err != nil {
				continue // deleted, or the store is away: the next poll sees it
			}
			if r.Status == store.RunWaitingApproval || r.Status == store.RunWaitingEvent {
				runs = append(runs, r)
			}
		}
	}
	var ready []*store.Run
	whys := map[string]string{}
	fps := map[string]string{}
	for _, run := range runs {
		w.mu.Lock()
		_, busy := w.busy[run.ID]
		w.mu.Unlock()
		if busy || whys[run.ID] != "" {
			continue
		}
		why, fp, err := w.needs(ctx, run)
		if err != nil {
			w.cfg.Logf("run %s: %v", run.ID, err)
			continue
		}
		if why == "" {
			continue
		}
		ready = append(ready, run)
		whys[run.ID], fps[run.ID] = why, fp
	}
	// Among the oldest 4 per free slot, a random choice.
	pick := ready
	if len(pick) > 4*free {
		pick = pick[:4*free]
	}
	rand.Shuffle(len(pick), func(i, j int) { pick[i], pick[j] = pick[j], pick[i] })
	started := 0
	for _, run := range pick {
		if ctx.Err() != nil || w.running() >= w.cfg.Concurrency {
			break
		}
		w.start(ctx, run, whys[run.ID], fps[run.ID])
		delete(whys, run.ID)
		started++
	}
	if full {
		w.cfg.Metrics.setQueue(len(ready) - started)
	}
	for id := range whys {
		if notified[id] {
			keep[id] = true // ready, no free slot: once one frees
		}
	}
	return keep, nil
}

func (w *Worker) running() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.busy)
}

// needs says why run needs a worker now ("" when it does not), and, for
// a waiting run, its fingerprint (what it may be waiting on, read before
// the claim: see execute).
func (w *Worker) needs(ctx context.Context, run *store.Run) (why, fp string, err error) {
	if run.Owner != "" {
		// Owned: only a dead owner's or a lapsed lease's run is ours. A
		// worker judges other owners by their lease (see LiveOwner: their
		// host differs from a worker's), so a lease still running is
		// enough to skip the run without asking the store.
		if run.LeaseExpiresAt.After(time.Now()) {
			return "", "", nil
		}
		live, err := w.cfg.Engine.LiveOwner(ctx, run.ID)
		if err != nil || live != "" {
			return "", "", err
		}
		fresh, err := w.st.RunGetByID(ctx, &store.RunGetByIDParams{ID: run.ID})
		if err != nil || fresh.Status.Terminal() {
			return "", "", err
		}
		if fresh.Owner != "" {
			why = "owner " + fresh.Owner + " is gone"
		} else {
			*run = *fresh // released since the scan listed it
		}
	}
	w.mu.Lock()
	force := w.parent[run.ID]
	w.mu.Unlock()
	if why == "" && force {
		why = "its child run ended"
	}
	switch run.Status {
	case store.RunRunning, store.RunWaitingTimer:
		// Not waiting on a decision: no fingerprint (see execute).
		switch {
		case why != "":
		case run.Status == store.RunRunning:
			why = "not executing"
		default:
			why = "waiting on a timer"
		}
		return why, "", nil
	}
	fp, actionable, err := w.fingerprint(ctx, run)
	if err != nil {
		return "", "", err
	}
	if why != "" {
		return why, fp, nil
	}
	if !actionable {
		return "", "", nil
	}
	w.mu.Lock()
	last, known := w.seen[run.ID]
	w.mu.Unlock()
	if known && last == fp {
		return "", "", nil // nothing new since this worker last released it
	}
	return "a decision or signal arrived", fp, nil
}

// fingerprint summarises what a waiting run may be waiting on: decided
// approvals of waiting nodes and unconsumed signals. actionable is false
// when there is neither.
func (w *Worker) fingerprint(ctx context.Context, run *store.Run) (string, bool, error) {
	aps, err := w.st.ApprovalList(ctx, &store.ApprovalListParams{RunID: run.ID})
	if err != nil {
		return "", false, err
	}
	sigs, err := w.st.SignalList(ctx, &store.SignalListParams{RunID: run.ID})
	if err != nil {
		return "", false, err
	}
	decided, unconsumed := 0, 0
	for _, a := range aps {
		if a.Decided {
			decided++
		}
	}
	for _, g := range sigs {
		if !g.Consumed {
			unconsumed++
		}
	}
	fp := fmt.Sprintf("%d/%d/%d", decided, len(sigs), unconsumed)
	return fp, decided > 0 || unconsumed > 0, nil
}

// claim is a run this worker is claiming.
type claim struct {
	since    time.Time // when the run became claimable
	why      string
	takeover bool
}

// Observe sees the events of the runs this worker executes; pass it as
// (or call it from) the engine's ObserveFunc. It logs claims and feeds
// the metrics.
func (w *Worker) Observe(e store.Event) {
	w.cfg.Metrics.Observe(e)
	if e.Kind != runtime.EventRunResumed || e.NodeID != "" {
		return
	}
	w.mu.Lock()
	c, ok := w.claims[e.RunID]
	delete(w.claims, e.RunID)
	w.mu.Unlock()
	if !ok {
		return
	}
	if c.takeover {
		w.cfg.Metrics.takeover()
	} else {
		w.cfg.Metrics.claimLatency(e.Time.Sub(c.since))
	}
	w.cfg.Logf("run %s: claimed (%s)", e.RunID, c.why)
}

// start executes run in a goroutine.
func (w *Worker) start(ctx context.Context, run *store.Run, why, fp string) {
	sctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	w.mu.Lock()
	w.busy[run.ID] = cancel
	delete(w.parent, run.ID)
	w.mu.Unlock()
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer cancel(nil)
		w.execute(sctx, run, why, fp)
		w.mu.Lock()
		delete(w.busy, run.ID)
		w.mu.Unlock()
		w.poke()
	}()
}

// execute continues run. fp is the fingerprint of a waiting run, read
// before the claim (by needs): when the session ends waiting again, it
// is what the run waited on before, so that anything arriving since (even
// while the session ran) makes it ready again. A run that was not waiting
// (running, or on a timer) has none: none is read, saving two round
// trips per run, and a session of it that ends waiting records nothing,
// so the next scan reads its fingerprint and continues it once more if
// it has a decided approval or an unconsumed signal (a session that
// waits again, never a missed decision).
func (w *Worker) execute(ctx context.Context, run *store.Run, why, fp string) {
	waiting := run.Status == store.RunWaitingApproval || run.Status == store.RunWaitingEvent
	w.mu.Lock()
	w.claims[run.ID] = claim{since: run.UpdatedAt, why: why, takeover: run.Owner != ""}
	w.mu.Unlock()
	// The scan's read of the run is the claim's (Resume reads it again
	// only when it changed, or to take it over).
	res, err := w.cfg.Engine.Resume(ctx, run.ID, runtime.ResumeParams{Wait: runtime.WaitAuto, Run: run})
	w.mu.Lock()
	_, unclaimed := w.claims[run.ID] // Observe removes it at the claim
	delete(w.claims, run.ID)
	w.mu.Unlock()
	switch {
	case errors.Is(err, runtime.ErrRunLive):
		w.cfg.Metrics.claimConflict()
		return // another worker was quicker
	case err == nil && unclaimed:
		return // it ended elsewhere since the scan listed it
	case err != nil:
		w.cfg.Logf("run %s: %v", run.ID, err)
		w.cfg.Metrics.runEnded("error")
		return
	}
	w.cfg.Logf("run %s: %s", run.ID, res.Status)
	w.cfg.Metrics.runEnded(string(res.Status))
	if res.Status.Waiting() {
		// What it waited on before this session: anything that arrived
		// since (even while it ran) makes it ready again.
		w.mu.Lock()
		if waiting {
			w.seen[run.ID] = fp
		} else {
			delete(w.seen, run.ID)
		}
		w.mu.Unlock()
		return
	}
	w.mu.Lock()
	delete(w.seen, run.ID)
	if res.Status.Terminal() {
		w.ended[run.ID] = time.Now()
	}
	if res.Status.Terminal() && run.ParentRunID != "" {
		w.parent[run.ParentRunID] = true
	}
	w.mu.Unlock()
}
