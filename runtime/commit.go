package runtime

import (
	"context"
	"fmt"
	"sync"

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
	observe func(store.Event)
	redact  func(*store.Batch)

	mu      sync.Mutex
	queue   []*request
	wake    chan struct{}
	closed  bool
	err     error // first failed commit: the session stops
	done    chan struct{}
	maxRows int
}

type request struct {
	b    *store.Batch
	done chan error // nil for async writes
}

func newCommitter(st store.Store, observe func(store.Event), redact func(*store.Batch)) *committer {
	c := &committer{st: st, observe: observe, redact: redact, wake: make(chan struct{}, 1), done: make(chan struct{}), maxRows: 2000}
	go c.loop()
	return c
}

// write queues b without waiting.
func (c *committer) write(b *store.Batch) {
	c.enqueue(&request{b: b})
}

// commit queues b and waits until it (and everything before it) is
// committed.
func (c *committer) commit(ctx context.Context, b *store.Batch) error {
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
	c.queue = append(c.queue, r)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
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
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	<-c.done
	return c.failed()
}

func rows(b *store.Batch) int {
	return len(b.Runs) + len(b.Nodes) + len(b.AttemptStarts) + len(b.AttemptHeartbeats) +
		len(b.AttemptFinishes) + len(b.Approvals) + len(b.Events)
}

func (c *committer) loop() {
	defer close(c.done)
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			closed := c.closed
			c.mu.Unlock()
			if closed {
				return
			}
			<-c.wake
			continue
		}
		var take []*request
		n := 0
		for len(c.queue) > 0 && (n == 0 || n < c.maxRows) {
			r := c.queue[0]
			c.queue = c.queue[1:]
			take = append(take, r)
			n += rows(r.b)
		}
		prevErr := c.err
		c.mu.Unlock()

		err := prevErr
		var merged store.Batch
		if err == nil {
			for _, r := range take {
				merged.Merge(r.b)
			}
			if c.redact != nil {
				c.redact(&merged)
			}
			err = c.st.BatchCommit(context.Background(), &merged)
			if err != nil {
				err = fmt.Errorf("runtime: commit: %w", err)
				c.mu.Lock()
				if c.err == nil {
					c.err = err
				}
				c.mu.Unlock()
			}
		}
		for _, r := range take {
			if r.done != nil {
				r.done <- err
			}
		}
		if err == nil && c.observe != nil {
			for _, e := range merged.Events {
				c.observe(*e)
			}
		}
	}
}
