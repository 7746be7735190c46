package runtime

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/smithc/smithc/runtime/store"
)

// committer funnels a run's writes into few transactions: writes queued
// while a transaction commits go together into the next one (group
// commit). Order is kept: a write waited for with commit is durable, and
// so is everything queued before it, when commit returns. Async writes
// are for facts nothing depends on before a later awaited write (an
// attempt's start, a heartbeat, a log line).
type committer struct {
	st      store.Store
	fence   *store.Fence // every batch is fenced on the session's claim
	observe func(store.Event)
	redact  func(*store.Batch) error // redacts text, refuses secrets in data

	mu      sync.Mutex
	space   *sync.Cond // signalled when queued rows are taken (or the committer stops)
	queue   []*request
	waiters int       // queued requests someone waits for
	nrows   int       // rows queued
	since   time.Time // when the oldest queued request came
	wake    chan struct{}
	closed  bool
	// busy: a transaction is in progress, the loop's or one a caller
	// runs itself (commit's direct path); transactions never overlap.
	busy    bool
	err     error // first failed commit: the session stops
	done    chan struct{}
	maxRows int
	// maxQueued bounds the rows waiting for a transaction: a writer that
	// finds that many queued waits for the committer (backpressure), so
	// that a fan-out whose steps run faster than their commits does not
	// hold every step's rows in memory.
	maxQueued int
	stalls    int // writers that waited for room (tests read it)

	// Committed events go to observe on a goroutine of their own, in
	// commit order, so that a slow observer (progress lines written to
	// a terminal) does not hold up the next transaction; close waits
	// until every one was observed.
	omu      sync.Mutex
	ocond    *sync.Cond
	oqueue   []*store.Event
	oclosed  bool
	observed chan struct{}
	// Bursts of commits are handed over together: events committed less
	// than observeDelay after the observer's last hand-over wait for the
	// rest of that interval, so that a run committing every step
	// (--durability full: thousands of commits a second) wakes the
	// observer's goroutine at most once per interval, not once per
	// commit. The first commit after a quiet interval is handed over at
	// once, and close cuts the wait short.
	observeDelay time.Duration
	okick        chan struct{}
	handovers    int // calls of observe's batches (tests read it)
}

// observeDelay is the committer's default observeDelay: progress lines
// and the live view lag a burst of commits by at most this much.
const observeDelay = 5 * time.Millisecond

// flushDelay bounds how long an async write may wait for company before
// it is committed on its own.
const flushDelay = 10 * time.Millisecond

type request struct {
	b    *store.Batch
	done chan error // nil for async writes
}

func newCommitter(st store.Store, fence *store.Fence, observe func(store.Event), redact func(*store.Batch) error) *committer {
	c := &committer{st: st, fence: fence, observe: observe, redact: redact, wake: make(chan struct{}, 1), done: make(chan struct{}),
		maxRows: 2000, maxQueued: 4000}
	c.space = sync.NewCond(&c.mu)
	if observe != nil {
		c.ocond = sync.NewCond(&c.omu)
		c.observed = make(chan struct{})
		c.observeDelay, c.okick = observeDelay, make(chan struct{}, 1)
		go c.observeLoop()
	}
	go c.loop()
	return c
}

// write queues b without waiting.
func (c *committer) write(b *store.Batch) {
	c.enqueue(&request{b: b})
}

// commit queues b and waits until it (and everything before it) is
// committed.
//
// With no transaction in progress, the caller runs the transaction
// itself (the direct path), with everything queued before b: a step that
// waits for its own commit (every step with --durability full, a step
// with an effect after a chain of compute steps) then costs no hand-off
// to the committer's goroutine and back. The order and the outcome are
// those of the queue: what was queued before b goes in the same
// transaction, writes queued while it runs wait for it, and like a
// queued write it is committed whatever ctx does.
func (c *committer) commit(ctx context.Context, b *store.Batch) error {
	c.mu.Lock()
	if !c.busy && !c.closed && c.err == nil && c.nrows+rows(b) < c.maxRows {
		take := append(c.takeLocked(), &request{b: b}) // the whole queue: it holds fewer than maxRows rows
		c.mu.Unlock()
		return c.run(take)
	}
	c.mu.Unlock()
	r := &request{b: b, done: make(chan error, 1)}
	if err := c.enqueue(r); err != nil {
		return err
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		// The write stays queued and will be committed; the caller stops
		// waiting for it.
		return fmt.Errorf("runtime: waiting for a commit: %w", context.Cause(ctx))
	}
}

func (c *committer) enqueue(r *request) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return fmt.Errorf("runtime: commit after the run's session ended")
	}
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	for c.nrows >= c.maxQueued && !c.closed && c.err == nil {
		c.stalls++
		c.space.Wait()
	}
	if len(c.queue) == 0 {
		c.since = time.Now()
	}
	c.queue = append(c.queue, r)
	c.nrows += rows(r.b)
	if r.done != nil {
		c.waiters++
	}
	wake := r.done != nil || c.nrows >= c.maxRows || len(c.queue) == 1
	c.mu.Unlock()
	if wake {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// failed returns the first commit error, if any.
func (c *committer) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// close commits what is queued and stops the committer.
func (c *committer) close() error {
	c.mu.Lock()
	c.closed = true
	c.space.Broadcast()
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	<-c.done
	if c.observed != nil {
		c.omu.Lock()
		c.oclosed = true
		c.ocond.Signal()
		c.omu.Unlock()
		select {
		case c.okick <- struct{}{}: // no waiting for the rest of an interval
		default:
		}
		<-c.observed
	}
	return c.failed()
}

// observeLoop hands committed events to observe, in order.
func (c *committer) observeLoop() {
	defer close(c.observed)
	var (
		last  time.Time // the last hand-over
		timer *time.Timer
	)
	for {
		c.omu.Lock()
		for len(c.oqueue) == 0 && !c.oclosed {
			c.ocond.Wait()
		}
		if wait := c.observeDelay - time.Since(last); wait > 0 && !c.oclosed {
			// A burst: let the rest of it join these events.
			c.omu.Unlock()
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-timer.C:
			case <-c.okick:
				timer.Stop()
			}
			c.omu.Lock()
		}
		evs := c.oqueue
		c.oqueue = nil
		closed := c.oclosed
		if len(evs) > 0 {
			c.handovers++
		}
		c.omu.Unlock()
		last = time.Now()
		for _, e := range evs {
			c.observe(*e)
		}
		if closed && len(evs) == 0 {
			return
		}
	}
}

func rows(b *store.Batch) int {
	return len(b.Runs) + len(b.Nodes) + len(b.AttemptStarts) + len(b.AttemptHeartbeats) +
		len(b.AttemptFinishes) + len(b.Approvals) + len(b.Events)
}

func (c *committer) loop() {
	defer close(c.done)
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.busy {
			// Idle, or a caller's own transaction is in progress (it
			// wakes the loop when it ends).
			stop := c.closed && !c.busy && len(c.queue) == 0
			c.mu.Unlock()
			if stop {
				return
			}
			<-c.wake
			continue
		}
		// Async writes alone wait a little for an awaited one to share
		// its transaction.
		if c.waiters == 0 && !c.closed && c.nrows < c.maxRows {
			if age := time.Since(c.since); age < flushDelay {
				c.mu.Unlock()
				t := time.NewTimer(flushDelay - age)
				select {
				case <-c.wake:
				case <-t.C:
				}
				t.Stop()
				continue
			}
		}
		take := c.takeLocked()
		c.mu.Unlock()
		c.run(take)
	}
}

// takeLocked takes the queued requests for one transaction, up to
// maxRows rows, and marks it in progress (busy); c.mu is held.
func (c *committer) takeLocked() []*request {
	var take []*request
	n := 0
	for len(c.queue) > 0 && (n == 0 || n < c.maxRows) {
		r := c.queue[0]
		c.queue = c.queue[1:]
		take = append(take, r)
		n += rows(r.b)
		if r.done != nil {
			c.waiters--
		}
	}
	c.nrows -= n
	c.since = time.Now()
	c.space.Broadcast()
	c.busy = true
	return take
}

// run commits the requests taken in one transaction (the caller set
// busy), hands their events to the observer, answers the requests that
// wait, clears busy and wakes the loop for what was queued meanwhile. It
// returns the transaction's error.
func (c *committer) run(take []*request) error {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	merged := store.Batch{Fence: c.fence}
	if err == nil {
		for _, r := range take {
			merged.Merge(r.b)
		}
		merged.Nodes = lastRows(merged.Nodes)
		if c.redact != nil {
			err = c.redact(&merged)
		}
		if err == nil {
			foldAttempts(&merged) // after redaction, which reads the finishes
			err = c.st.BatchCommit(context.Background(), &merged)
		}
		if err != nil {
			err = fmt.Errorf("runtime: commit: %w", err)
			c.mu.Lock()
			if c.err == nil {
				c.err = err
			}
			c.space.Broadcast()
			c.mu.Unlock()
		}
	}
	// Observed in commit order: before the next transaction can start.
	if err == nil && c.observe != nil && len(merged.Events) > 0 {
		c.omu.Lock()
		c.oqueue = append(c.oqueue, merged.Events...)
		c.ocond.Signal()
		c.omu.Unlock()
	}
	c.mu.Lock()
	c.busy = false
	wake := len(c.queue) > 0 || c.closed // the loop waits for what was queued meanwhile
	c.mu.Unlock()
	if wake {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	for _, r := range take {
		if r.done != nil {
			r.done <- err
		}
	}
	return err
}

// lastRows keeps the last write of each node instance, in order of those
// last writes.
func lastRows(nodes []*store.Node) []*store.Node {
	if len(nodes) < 2 {
		return nodes
	}
	type key struct{ id, scope string }
	last := make(map[key]int, len(nodes))
	for i, n := range nodes {
		last[key{n.NodeID, n.Scope}] = i
	}
	if len(last) == len(nodes) {
		return nodes
	}
	out := make([]*store.Node, 0, len(last))
	for i, n := range nodes {
		if last[key{n.NodeID, n.Scope}] == i {
			out = append(out, n)
		}
	}
	return out
}

// foldAttempts writes an attempt that starts and finishes in the same
// transaction (a compute step's) as one finished row: one statement
// instead of an insert and an update. Batches with heartbeats are left
// as they are (a heartbeat applies between the two).
func foldAttempts(b *store.Batch) {
	if len(b.AttemptStarts) == 0 || len(b.AttemptFinishes) == 0 || len(b.AttemptHeartbeats) > 0 {
		return
	}
	type key struct {
		node, scope string
		num         int
	}
	started := make(map[key]int, len(b.AttemptStarts))
	for i, a := range b.AttemptStarts {
		started[key{a.NodeID, a.Scope, a.Number}] = i
	}
	rest := b.AttemptFinishes[:0:0]
	for _, f := range b.AttemptFinishes {
		i, ok := started[key{f.NodeID, f.Scope, f.Number}]
		if !ok || b.AttemptStarts[i].RunID != f.RunID || b.AttemptStarts[i].State != store.AttemptRunning {
			rest = append(rest, f)
			continue
		}
		a := *b.AttemptStarts[i]
		a.State, a.Error, a.ErrorKind, a.FinishedAt = f.State, f.Error, f.ErrorKind, f.Now
		b.AttemptStarts[i] = &a
	}
	b.AttemptFinishes = rest
}
