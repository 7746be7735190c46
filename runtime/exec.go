package runtime

import (
	"context"
	"fmt"
	"sync"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
)

// exec runs the instance of n at p, as far as it can go in this session,
// and returns how it ended. Readiness comes from persisted state: a node
// already terminal is not run again. gate, when set, bounds how many
// siblings run at once; it is taken after the node's dependencies are
// terminal so that a sibling it needs is never starved.
func (r *runner) exec(ctx context.Context, n *ir.Node, p path, f *fence, gate chan struct{}) outcome {
	in := r.inst(n, p)
	defer in.settle()
	if st := r.state(in); st.Terminal() {
		return r.standing(in, st)
	}
	for _, id := range n.Deps {
		dep := r.depInstance(id, p)
		if dep == nil {
			continue
		}
		if !r.state(dep).Terminal() {
			select {
			case <-dep.done:
			case <-ctx.Done():
			}
		}
		if !r.state(dep).Terminal() {
			if !r.halted(ctx, f) && r.state(dep) != store.NodeWaiting {
				r.mu.Lock()
				r.stuck = append(r.stuck, fmt.Sprintf("%s (needs %s)", n.ID, id))
				r.mu.Unlock()
			}
			return blocked
		}
	}
	if gate != nil {
		select {
		case gate <- struct{}{}:
			defer func() { <-gate }()
		case <-ctx.Done():
			return r.stopped(ctx)
		}
	}
	if r.halted(ctx, f) {
		return r.stopped(ctx)
	}
	switch n.Kind {
	case ir.KindStep:
		return r.execStep(ctx, in, f)
	case ir.KindApproval:
		return r.execApproval(ctx, in, f)
	case ir.KindTimer:
		return r.execTimer(ctx, in, f)
	case ir.KindEvent:
		return r.execEvent(ctx, in, f)
	case ir.KindSequence:
		return r.control(ctx, in, f, func() outcome { return r.execSeq(ctx, n.Children, p, f) })
	case ir.KindParallel:
		return r.control(ctx, in, f, func() outcome { return r.execPar(ctx, n, p, f) })
	case ir.KindMatch, ir.KindBranch:
		return r.control(ctx, in, f, func() outcome { return r.execMatch(ctx, in, p, f) })
	case ir.KindLoop:
		return r.control(ctx, in, f, func() outcome { return r.execLoop(ctx, in, p, f) })
	case ir.KindFor:
		return r.control(ctx, in, f, func() outcome { return r.execFor(ctx, in, p, f) })
	case ir.KindTry:
		return r.control(ctx, in, f, func() outcome { return r.execTry(ctx, in, p, f) })
	case ir.KindWorktree:
		return r.control(ctx, in, f, func() outcome { return r.execWorktree(ctx, in, p, f) })
	}
	return r.fail(in, f, &StepError{Kind: ErrKindInternal, Message: fmt.Sprintf("unknown node kind %s", n.Kind)}, false)
}

// stopped is the outcome of a node that may not start: cancelled when the
// run is being cancelled, pending otherwise.
func (r *runner) stopped(ctx context.Context) outcome {
	if ctx.Err() != nil {
		return outcome{state: store.NodeCancelled}
	}
	return blocked
}

// standing is the outcome of an instance already terminal.
func (r *runner) standing(in *instance, st store.NodeState) outcome {
	o := outcome{state: st}
	if in.node.Kind == ir.KindApproval && in.node.Approval != nil && in.node.Approval.OnDeny == "skip" && st == store.NodeFinished {
		r.mu.Lock()
		m, _ := in.value.(map[string]any)
		r.mu.Unlock()
		if approved, ok := m["approved"].(bool); ok && !approved {
			o.skipRest = true
		}
	}
	return o
}

// control runs the body of a control node, recording its start and end.
func (r *runner) control(ctx context.Context, in *instance, f *fence, body func() outcome) outcome {
	persist := in.node.ID != ""
	if persist {
		now := r.e.now()
		row := r.update(in, func(row *store.Node) {
			row.State = store.NodeRunning
			if row.StartedAt.IsZero() {
				row.StartedAt = now
			}
		})
		r.c.write(&store.Batch{Nodes: []*store.Node{row}, Events: []*store.Event{r.event(EventNodeStarted, in, 0, nil)}})
	}
	o := body()
	if !persist {
		return o
	}
	switch {
	case o.state == store.NodeFinished || o.state == store.NodeSkipped:
		now := r.e.now()
		row := r.update(in, func(row *store.Node) {
			row.State, row.FinishedAt, row.Error, row.ErrorKind = store.NodeFinished, now, "", ""
		})
		r.c.write(&store.Batch{Nodes: []*store.Node{row}, Events: []*store.Event{r.event(EventNodeFinished, in, 0, nil)}})
		o.state = store.NodeFinished
	case o.fail != nil && o.fail.node == in.node.ID && o.fail.scope == in.scope:
		// The block failed itself (a loop at max_iterations, a worktree
		// that could not be made): r.fail recorded it already.
	case o.fail != nil:
		now := r.e.now()
		row := r.update(in, func(row *store.Node) {
			row.State, row.FinishedAt, row.Error, row.ErrorKind = store.NodeFailed, now, o.fail.message(), o.fail.err.Kind
		})
		r.c.write(&store.Batch{Nodes: []*store.Node{row}, Events: []*store.Event{r.event(EventNodeFailed, in, 0,
			map[string]any{"error": o.fail.message()})}})
	case o.state == store.NodeWaiting:
		row := r.update(in, func(row *store.Node) { row.State = store.NodeWaiting })
		r.c.write(&store.Batch{Nodes: []*store.Node{row}})
	case o.state == store.NodeCancelled:
		// The run is being cancelled: the block ends cancelled with its
		// children, and a resume runs it again.
		now := r.e.now()
		row := r.update(in, func(row *store.Node) { row.State, row.FinishedAt = store.NodeCancelled, now })
		r.c.write(&store.Batch{Nodes: []*store.Node{row}, Events: []*store.Event{r.event(EventNodeCancelled, in, 0, nil)}})
	case o.state == store.NodePending:
		// The body stopped before it was done (the run is failing
		// elsewhere): the block did not finish, so it is pending again
		// rather than left running in a run that is over.
		row := r.update(in, func(row *store.Node) { row.State = store.NodePending })
		r.c.write(&store.Batch{Nodes: []*store.Node{row}})
	}
	return o
}

// execSeq runs nodes in order.
func (r *runner) execSeq(ctx context.Context, nodes []*ir.Node, p path, f *fence) outcome {
	for i, c := range nodes {
		o := r.exec(ctx, c, p, f, nil)
		if o.skipRest {
			r.skipAll(nodes[i+1:], p, "skipped after a denied approval")
			return done
		}
		if !o.terminal() || o.fail != nil {
			r.settleAll(nodes[i+1:], p)
			return o
		}
	}
	return done
}

// execPar runs n's children concurrently, at most max_concurrency at once.
func (r *runner) execPar(ctx context.Context, n *ir.Node, p path, f *fence) outcome {
	var gate chan struct{}
	if n.Parallel != nil && n.Parallel.MaxConcurrency > 0 {
		gate = make(chan struct{}, n.Parallel.MaxConcurrency)
	}
	outs := make([]outcome, len(n.Children))
	var wg sync.WaitGroup
	for i, c := range n.Children {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = r.exec(ctx, c, p, f, gate)
		}()
	}
	wg.Wait()
	return combine(outs)
}

// execBody runs a block body (a Sequence node): through its own instance
// when it has an id, else its children directly.
func (r *runner) execBody(ctx context.Context, body *ir.Node, p path, f *fence) outcome {
	if body == nil {
		return done
	}
	if body.ID == "" {
		return r.execSeq(ctx, body.Children, p, f)
	}
	return r.exec(ctx, body, p, f, nil)
}

// skipAll marks nodes (and their static descendants) skipped.
func (r *runner) skipAll(nodes []*ir.Node, p path, why string) {
	var b store.Batch
	now := r.e.now()
	for _, n := range nodes {
		ir.Walk(n, func(d *ir.Node) bool {
			if d.ID != "" {
				in := r.inst(d, p)
				if !r.state(in).Terminal() {
					b.Nodes = append(b.Nodes, r.update(in, func(row *store.Node) {
						row.State, row.FinishedAt, row.Error = store.NodeSkipped, now, ""
					}))
					b.Events = append(b.Events, r.event(EventNodeSkipped, in, 0, map[string]any{"reason": why}))
				}
				in.settle()
			}
			// The instances inside a loop or for do not exist yet.
			return d.Kind != ir.KindLoop && d.Kind != ir.KindFor
		})
	}
	if !b.Empty() {
		r.c.write(&b)
	}
}

// settleAll marks nodes this session will not run as done with, so that
// nodes waiting on them stop waiting.
func (r *runner) settleAll(nodes []*ir.Node, p path) {
	for _, n := range nodes {
		ir.Walk(n, func(d *ir.Node) bool {
			if d.ID != "" {
				r.inst(d, p).settle()
			}
			return d.Kind != ir.KindLoop && d.Kind != ir.KindFor
		})
	}
}

// depInstance returns the instance that must be terminal before a node at
// p that depends on id: the node itself in the same repetition, or, when
// it lies in a loop or for that does not enclose p, that whole construct.
func (r *runner) depInstance(id string, p path) *instance {
	d := r.wf.Lookup(id)
	if d == nil {
		return nil
	}
	var q path
	target := d
	for _, a := range ancestors(d) {
		if a.Kind != ir.KindLoop && a.Kind != ir.KindFor {
			continue
		}
		i, ok := p.lookup(a)
		if !ok {
			target = a
			break
		}
		q = q.with(a, i)
	}
	return r.inst(target, q)
}

// ancestors returns n's ancestors, outermost first (the root excluded).
func ancestors(n *ir.Node) []*ir.Node {
	var out []*ir.Node
	for a := n.Parent; a != nil && a.Parent != nil; a = a.Parent {
		out = append(out, a)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
