package runtime_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

// countingStore counts the node rows and transactions the committer
// writes.
type countingStore struct {
	store.Store
	mu         sync.Mutex
	txs, nodes int
}

func (s *countingStore) BatchCommit(ctx context.Context, b *store.Batch) error {
	s.mu.Lock()
	s.txs++
	s.nodes += len(b.Nodes)
	s.mu.Unlock()
	return s.Store.BatchCommit(ctx, b)
}

// TestFanoutGroupCommit: a 10,000-element for is committed in few
// transactions, with few elements written twice (running in one
// transaction, finished in the next), and what is committed is complete:
// every element's node row is finished and its three events are observed
// in their order.
func TestFanoutGroupCommit(t *testing.T) {
	const n = 10000
	var cs *countingStore
	bd := setup(t, nil, func(c *runtime.Config) { cs = &countingStore{Store: c.Store}; c.Store = cs })
	prog := program("fan", nil, forEach("F", "v", fmt.Sprintf("0..%d", n-1), 0, value("w", "v * 2")), value("count", "len(w)"))
	res, err := bd.engine.Start(context.Background(), runtime.StartParams{Program: prog})
	if err != nil || res.Status != store.RunFinished || res.Output != int64(n) {
		t.Fatalf("%+v %v", res, err)
	}
	cs.mu.Lock()
	txs, nodes := cs.txs, cs.nodes
	cs.mu.Unlock()
	t.Logf("%d transactions, %d node rows for %d elements", txs, nodes, n)
	// A step's start is queued next to its attempt, so an element is
	// written twice only when a transaction is cut while it runs: 10,046-
	// 10,067 rows here (14,317 when starts were queued at scheduling).
	if nodes > n*12/10 {
		t.Errorf("%d node rows written for %d elements, want at most 1.2 per element", nodes, n)
	}
	finished := 0
	for k, st := range bd.nodeStates(t, res.RunID) {
		if st != string(store.NodeFinished) {
			t.Errorf("%s is %s", k, st)
		}
		finished++
	}
	if finished < n+1 {
		t.Errorf("%d finished node rows, want at least %d", finished, n+1)
	}
	bd.mu.Lock()
	defer bd.mu.Unlock()
	seen := map[string][]string{}
	for _, e := range bd.events {
		if e.NodeID == "w" {
			seen[e.Scope] = append(seen[e.Scope], e.Kind)
		}
	}
	if len(seen) != n {
		t.Fatalf("events of %d elements observed, want %d", len(seen), n)
	}
	for scope, kinds := range seen {
		if fmt.Sprint(kinds) != fmt.Sprint([]string{runtime.EventNodeStarted, runtime.EventAttemptStarted, runtime.EventNodeFinished}) {
			t.Fatalf("element %s: events %v", scope, kinds)
		}
	}
}
