package runtime_test

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
)

const chainLen = 5000

// chainProgram: an effectful step, a chain of n compute steps each
// reading the one before, another effectful step, and a result that
// reads the chain's end.
func chainProgram(n int) *ir.Program {
	nodes := []*ir.Node{step("e1", "record", nil), value("c0", "1")}
	for i := 1; i < n; i++ {
		nodes = append(nodes, value(fmt.Sprintf("c%d", i), fmt.Sprintf("c%d + 1", i-1)))
	}
	nodes = append(nodes, step("e2", "record", nil), value("out", fmt.Sprintf("c%d", n-1)))
	return program("chain", nil, nodes...)
}

// TestCrashMidComputeChain: compute steps are committed in shared
// transactions, not one by one; a SIGKILL in the middle of the chain
// loses only uncommitted compute results. Resume recomputes them from
// the last committed one, gives the same result, and no effectful step
// runs twice: the one before the chain was committed before the chain
// went on, the one after it starts only once the chain is committed.
func TestCrashMidComputeChain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db, file := filepath.Join(dir, "smithers.db"), filepath.Join(dir, "effects")
	cmd := helper(t, "chain", db, "chain-1", "SMITHC_FILE="+file)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck // already dead in the normal case

	var ro *sqlitestore.Store
	waitFor(t, func() bool {
		if ro == nil {
			s, err := sqlitestore.Open(ctx, db, sqlitestore.Options{ReadOnly: true})
			if err != nil {
				return false
			}
			ro = s
		}
		// Killed once part of the chain is committed: e1 and c0.
		n, err := ro.NodeGet(ctx, &store.NodeGetParams{RunID: "chain-1", NodeID: "c0"})
		return err == nil && n.State == store.NodeFinished
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait() //nolint:errcheck // killed on purpose
	rows, err := ro.NodeList(ctx, &store.NodeListParams{RunID: "chain-1"})
	if err != nil {
		t.Fatal(err)
	}
	ro.Close()
	committed := 0
	for _, n := range rows {
		if n.State == store.NodeFinished {
			committed++
		}
	}
	t.Logf("killed with %d of %d nodes committed finished", committed, chainLen+3)
	if committed >= chainLen+1 {
		t.Skipf("the whole chain was committed before the kill (%d nodes): nothing to recompute", committed)
	}
	if diff := cmp.Diff([]string{"e1"}, lines(t, file)); diff != "" {
		t.Fatalf("effects at the kill (-want +got):\n%s", diff)
	}

	b := setupAt(t, db, runtime.Actions{"record": recordAction(file, "")})
	res, err := b.engine.Resume(ctx, "chain-1", runtime.ResumeParams{Program: chainProgram(chainLen)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != store.RunFinished || res.Output != int64(chainLen) {
		t.Fatalf("resumed run: %+v, want finished with %d", res, chainLen)
	}
	if diff := cmp.Diff([]string{"e1", "e2"}, lines(t, file)); diff != "" {
		t.Errorf("side effects (-want +got):\n%s", diff)
	}
	var e1 []string
	for _, a := range attempts(t, b, "chain-1") {
		if a[:3] == "e1#" {
			e1 = append(e1, a)
		}
	}
	if diff := cmp.Diff([]string{"e1#1 finished "}, e1); diff != "" {
		t.Errorf("attempts of e1 (-want +got):\n%s", diff)
	}
}

// TestDurabilityFullCommitsEachComputeStep: with DurabilityFull a compute
// step's result is committed before the next step starts (each step reads
// its predecessor's row from the store); with the default, results still
// reach the store by the run's end.
func TestDurabilityFullCommitsEachComputeStep(t *testing.T) {
	t.Parallel()
	for _, d := range []runtime.Durability{runtime.DurabilityFull, runtime.DurabilityNormal} {
		t.Run(d.String(), func(t *testing.T) {
			t.Parallel()
			var b *bundle
			var missing []string
			compute := computeAction()
			check := runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
				var i int
				if _, err := fmt.Sscanf(a.NodeID, "c%d", &i); err == nil && i > 0 {
					prev := fmt.Sprintf("c%d", i-1)
					n, err := b.store.NodeGet(ctx, &store.NodeGetParams{RunID: a.RunID, NodeID: prev})
					if err != nil || n.State != store.NodeFinished {
						missing = append(missing, prev)
					}
				}
				return compute.Run(ctx, a)
			})
			b = setup(t, runtime.Actions{"compute": check}, func(c *runtime.Config) { c.Durability = d })
			nodes := []*ir.Node{value("c0", "1")}
			for i := 1; i < 20; i++ {
				nodes = append(nodes, value(fmt.Sprintf("c%d", i), fmt.Sprintf("c%d + 1", i-1)))
			}
			res, err := b.engine.Start(context.Background(), runtime.StartParams{Program: program("chain", nil, nodes...)})
			if err != nil || res.Status != store.RunFinished || res.Output != int64(20) {
				t.Fatalf("%+v %v", res, err)
			}
			t.Logf("%d of 19 steps started before their predecessor was committed", len(missing))
			if d == runtime.DurabilityFull && len(missing) > 0 {
				t.Errorf("steps started before their predecessor was committed: %v", missing)
			}
			for id, st := range b.nodeStates(t, res.RunID) {
				if st != "finished" {
					t.Errorf("%s is %s in the store after the run's end", id, st)
				}
			}
		})
	}
}
