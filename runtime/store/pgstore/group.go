package pgstore

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/smithc/smithc/runtime/store"
)

// group is group commit across the goroutines of one process: a batch
// committed while the store's transactions in flight are at their limit
// waits, and the batches that waited go together into the next
// transaction, one commit (one WAL flush) for all. A batch committed
// while fewer transactions are in flight starts one at once, so an idle
// store adds no delay. Batches of one run are never in the same
// transaction (each keeps its own order and outcome).
//
// The runs of the last transaction come back with their next batches
// microseconds after it commits: a leader waits up to groupWait for as
// many batches as the last transaction held before it starts the next,
// so that they stay together instead of the first one going alone.
type group struct {
	s        *Store
	limit    int // transactions in flight at most
	maxBatch int // batches per transaction at most

	mu      sync.Mutex
	queue   []*pending
	active  int
	last    int           // batches in the last transaction
	arrived chan struct{} // a batch was queued
}

// groupWait bounds how long a leader waits for company.
const groupWait = 500 * time.Microsecond

type pending struct {
	b    *store.Batch
	runs []string
	done chan error
}

func (g *group) commit(ctx context.Context, b *store.Batch) error {
	p := &pending{b: b, runs: batchRuns(b), done: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, p)
	lead := g.active < g.limit
	if lead {
		g.active++
	}
	g.mu.Unlock()
	if lead {
		go g.lead()
	} else {
		select {
		case g.arrived <- struct{}{}:
		default:
		}
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
	}
	// Still queued: withdrawn, not committed. Taken: committed or not, the
	// outcome comes soon.
	g.mu.Lock()
	for i, q := range g.queue {
		if q == p {
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			g.mu.Unlock()
			return context.Cause(ctx)
		}
	}
	g.mu.Unlock()
	return <-p.done
}

// lead commits queued batches until the queue is empty.
func (g *group) lead() {
	for {
		g.mu.Lock()
		if len(g.queue) < g.last {
			g.mu.Unlock()
			g.gather()
			g.mu.Lock()
		}
		take := g.takeLocked()
		g.last = len(take)
		if len(take) == 0 {
			g.active--
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		g.commitTaken(take)
	}
}

// gather waits up to groupWait for as many queued batches as the last
// transaction held.
func (g *group) gather() {
	t := time.NewTimer(groupWait)
	defer t.Stop()
	for {
		g.mu.Lock()
		enough := len(g.queue) >= g.last
		g.mu.Unlock()
		if enough {
			return
		}
		select {
		case <-g.arrived:
		case <-t.C:
			return
		}
	}
}

// takeLocked removes from the queue the oldest batches of distinct runs,
// up to maxBatch.
func (g *group) takeLocked() []*pending {
	var take []*pending
	seen := map[string]bool{}
	rest := g.queue[:0]
	for _, p := range g.queue {
		ok := len(take) < g.maxBatch
		for _, id := range p.runs {
			if seen[id] {
				ok = false
			}
		}
		if !ok {
			rest = append(rest, p)
			continue
		}
		for _, id := range p.runs {
			seen[id] = true
		}
		take = append(take, p)
	}
	clear(g.queue[len(rest):])
	g.queue = rest
	return take
}

func (g *group) commitTaken(take []*pending) {
	ctx := context.Background() // the batches are taken: they commit whatever their callers do
	bs := make([]*store.Batch, len(take))
	for i, p := range take {
		bs[i] = p.b
	}
	err := g.s.commitBatches(ctx, bs)
	if err == nil || len(take) == 1 {
		if err != nil {
			err = g.s.batchError(ctx, err)
		}
		for _, p := range take {
			p.done <- err
		}
		return
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		// Not an answer of the server (a lost connection): the outcome is
		// unknown for all of them.
		err = g.s.batchError(ctx, err)
		for _, p := range take {
			p.done <- err
		}
		return
	}
	// The server refused the transaction, so none of it was committed:
	// each batch on its own gets its own outcome.
	for _, p := range take {
		err := g.s.commitBatches(ctx, []*store.Batch{p.b})
		if err != nil {
			err = g.s.batchError(ctx, err)
		}
		p.done <- err
	}
}
