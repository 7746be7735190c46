package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// setData records an instance's control data and commits it before
// anything that depends on the decision starts.
func (r *runner) setData(ctx context.Context, in *instance, v any, ev *store.Event) error {
	b, err := schema.EncodeJSON(v)
	if err != nil {
		return fmt.Errorf("runtime: encode data of %s: %w", in.node.ID, err)
	}
	row := r.update(in, func(row *store.Node) { row.Data = b })
	batch := &store.Batch{Nodes: []*store.Node{row}}
	if ev != nil {
		batch.Events = []*store.Event{ev}
	}
	return r.c.commit(context.WithoutCancel(ctx), batch)
}

// flush commits everything queued so far (compute results, decisions)
// and waits for it: called before an effect outside the run that no
// awaited write precedes.
func (r *runner) flush(ctx context.Context) error {
	return r.c.commit(context.WithoutCancel(ctx), &store.Batch{})
}

// decide records a decision of a control node that follows from the
// run's own state alone (a chosen arm, a loop's next iteration, a for's
// list). Like a compute step's result it has no effect outside the run:
// with DurabilityNormal it is queued, committed with the next awaited
// write, and a crash before that makes resume decide again from the
// same committed state.
func (r *runner) decide(ctx context.Context, in *instance, v any, ev *store.Event) error {
	if r.e.cfg.Durability == DurabilityFull {
		return r.setData(ctx, in, v, ev)
	}
	b, err := schema.EncodeJSON(v)
	if err != nil {
		return fmt.Errorf("runtime: encode data of %s: %w", in.node.ID, err)
	}
	row := r.update(in, func(row *store.Node) { row.Data = b })
	batch := &store.Batch{Nodes: []*store.Node{row}}
	if ev != nil {
		batch.Events = []*store.Event{ev}
	}
	r.c.write(batch)
	return r.c.failed()
}

// execMatch evaluates the arms once, records the chosen one and runs it.
func (r *runner) execMatch(ctx context.Context, in *instance, p path, f *fence) outcome {
	m := in.node.Match
	var d struct {
		Arm *int `json:"arm"`
	}
	if !r.data(in, &d) || d.Arm == nil {
		arm := -1
		for i, a := range m.Arms {
			ok, err := r.evalBool(a.Pred, in, p, r.pre[in.node], nil)
			if err != nil {
				return r.fail(in, f, err, false)
			}
			if ok {
				arm = i
				break
			}
		}
		if arm < 0 && m.Else != nil {
			arm = len(m.Arms)
		}
		d.Arm = &arm
		if err := r.decide(ctx, in, d, r.event(EventArmChosen, in, 0, map[string]any{"arm": arm})); err != nil {
			return r.fail(in, f, AsStepError(err), false)
		}
	}
	var chosen *ir.Node
	var others []*ir.Node
	for i, a := range m.Arms {
		if i == *d.Arm {
			chosen = a.Body
		} else {
			others = append(others, a.Body)
		}
	}
	if m.Else != nil {
		if *d.Arm == len(m.Arms) {
			chosen = m.Else
		} else {
			others = append(others, m.Else)
		}
	}
	for _, o := range others {
		r.skipAll(bodyNodes(o), p, "arm not chosen")
	}
	if chosen == nil {
		return done
	}
	return r.execBody(ctx, chosen, p, f)
}

// bodyNodes returns the nodes of a block body to skip: the body itself
// when it has an id, else its children.
func bodyNodes(body *ir.Node) []*ir.Node {
	if body == nil {
		return nil
	}
	if body.ID == "" {
		return body.Children
	}
	return []*ir.Node{body}
}

// loopData is a loop's control data: the iteration under way (or the
// last one, once the loop is finished).
type loopData struct {
	Iteration int `json:"iteration"`
}

// execLoop runs iterations until the predicate holds after one.
func (r *runner) execLoop(ctx context.Context, in *instance, p path, f *fence) outcome {
	l := in.node.Loop
	var d loopData
	r.data(in, &d)
	for {
		bp := p.with(in.node, d.Iteration)
		o := r.execSeq(ctx, in.node.Children, bp, f)
		if !o.terminal() || o.fail != nil {
			return o
		}
		stop := false
		if l.Until != nil {
			var serr *StepError
			stop, serr = r.evalBool(l.Until, in, bp, r.end[in.node], nil)
			if serr != nil {
				return r.fail(in, f, serr, false)
			}
		}
		if stop {
			return done
		}
		if d.Iteration+1 >= l.MaxIterations {
			// Without until the loop simply runs max_iterations times.
			if l.OnMaxReached == "return-last" || l.Until == nil {
				return done
			}
			return r.fail(in, f, &StepError{Kind: ErrKindMaxIterations, Message: fmt.Sprintf(
				"reached max_iterations = %d before its until condition held; `smithc retry %s %s` runs the loop again from its first iteration",
				l.MaxIterations, r.run.ID, in.node.ID)}, false)
		}
		if r.halted(ctx, f) {
			return r.stopped(ctx)
		}
		d.Iteration++
		if err := r.decide(ctx, in, d, r.event(EventLoopIteration, in, 0, map[string]any{"iteration": d.Iteration})); err != nil {
			return r.fail(in, f, AsStepError(err), false)
		}
		// Iteration d.Iteration reads d.Iteration-1 at most: the one
		// before is done with (bounded history).
		if d.Iteration >= 2 {
			r.forget(p.with(in.node, d.Iteration-2).scope())
		}
	}
}

// forData is a for's control data: its evaluated list.
type forData struct {
	Items []any `json:"items"`
}

// forItems returns the evaluated list of a for instance (nil before it
// is evaluated).
func (r *runner) forItems(in *instance) []any {
	r.mu.Lock()
	items, ok := in.value.([]any)
	r.mu.Unlock()
	if ok {
		return items
	}
	var raw struct {
		Items json.RawMessage `json:"items"`
	}
	if !r.data(in, &raw) {
		return nil
	}
	v, err := schema.DecodeJSON(raw.Items)
	if err != nil {
		return nil
	}
	items, _ = v.([]any)
	r.mu.Lock()
	in.value = items
	r.mu.Unlock()
	return items
}

// forPool bounds the goroutines of a for without max_concurrency.
const forPool = 256

// execFor evaluates the list once, records it, and runs the body per
// element concurrently.
func (r *runner) execFor(ctx context.Context, in *instance, p path, f *fence) outcome {
	items := r.forItems(in)
	if items == nil {
		v, err := r.eval(in.node.For.List, in, p, r.pre[in.node], nil)
		if err != nil {
			return r.fail(in, f, AsStepError(err), false)
		}
		if v == nil {
			v = []any{}
		}
		list, ok := v.([]any)
		if !ok {
			nv, nerr := schema.Normalize(schema.ListOf(schema.AnyType), v, "")
			if nerr != nil {
				return r.fail(in, f, &StepError{Kind: ErrKindExpr, Message: fmt.Sprintf(
					"for %s: the list expression gave %s, not a list", in.node.For.Var, schema.Describe(v))}, false)
			}
			list = nv.([]any)
		}
		if err := r.decide(ctx, in, forData{Items: list}, r.event(EventForExpanded, in, 0, map[string]any{"count": len(list)})); err != nil {
			return r.fail(in, f, AsStepError(err), false)
		}
		r.mu.Lock()
		in.value = list
		r.mu.Unlock()
		items = list
	}
	workers := in.node.For.MaxConcurrency
	if workers <= 0 {
		workers = forPool
	}
	if workers > len(items) {
		workers = len(items)
	}
	outs := make([]outcome, len(items))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				outs[i] = r.execSeq(ctx, in.node.Children, p.with(in.node, i), f)
			}
		}()
	}
	for i := range items {
		next <- i
	}
	close(next)
	wg.Wait()
	return combine(outs)
}

// tryData is a try's control data: the error its body failed with.
type tryData struct {
	Error *errorValue `json:"error,omitempty"`
}

// errorValue is what expressions read as error.
type errorValue struct {
	Message  string `json:"message"`
	Kind     string `json:"kind"`
	ExitCode int    `json:"exit_code"`
	Node     string `json:"node,omitempty"`
}

func (ev *errorValue) env() map[string]any {
	if ev == nil {
		return nil
	}
	return map[string]any{"message": ev.Message, "kind": ev.Kind, "exit_code": int64(ev.ExitCode), "node": ev.Node}
}

// execTry runs the try body; on its failure the catch body (reading
// error); then finally either way.
func (r *runner) execTry(ctx context.Context, in *instance, p path, f *fence) outcome {
	t := in.node.Try
	tf := &fence{parent: f}
	o := r.execBody(ctx, t.Try, p, tf)
	if !o.terminal() && o.fail == nil {
		return o
	}
	var result outcome = done
	if o.fail == nil && t.Catch != nil {
		r.skipAll(bodyNodes(t.Catch), p, "nothing failed in the try body")
	}
	if o.fail != nil {
		// Body nodes the failure kept from running are skipped, so that
		// readers (with ??) after the try proceed.
		r.skipAll(bodyNodes(t.Try), p, "an earlier node of the try body failed")
		var d tryData
		if !r.data(in, &d) || d.Error == nil {
			d.Error = &errorValue{Message: o.fail.err.Message, Kind: o.fail.err.Kind, ExitCode: o.fail.err.ExitCode, Node: o.fail.node}
			if err := r.setData(ctx, in, d, nil); err != nil {
				return r.fail(in, f, AsStepError(err), false)
			}
		}
		if t.Catch != nil {
			if r.halted(ctx, f) {
				return r.stopped(ctx)
			}
			// A failure in catch stops the catch body only: finally
			// still runs, then the failure propagates.
			result = r.execBody(ctx, t.Catch, p, &fence{parent: f})
			if !result.terminal() && result.fail == nil {
				return result
			}
		} else {
			result = o
		}
	}
	if t.Finally != nil {
		fo := r.execBody(ctx, t.Finally, p, &fence{parent: f})
		if !fo.terminal() && fo.fail == nil {
			return fo
		}
		if fo.fail != nil && result.fail == nil {
			result = fo
		}
	}
	if result.fail != nil {
		f.halt(result.fail)
	}
	return result
}

// worktreeData is a worktree's control data: its directory, and whether
// this run created it (only then is it removed; false for one adopted
// with reuse = true, and for data stored before this was recorded).
type worktreeData struct {
	Dir     string `json:"dir"`
	Created bool   `json:"created,omitempty"`
}

// worktreeOwner names the run and node instance that create a worktree;
// gitwt marks the worktree with it, and removes only what it marked.
func (r *runner) worktreeOwner(in *instance) string {
	o := r.run.ID + "/" + in.node.ID
	if in.scope != "" {
		o += "[" + in.scope + "]"
	}
	return o
}

// execWorktree creates the worktree (or adopts an existing one when reuse
// is set), runs the children in it and, once they are all terminal,
// removes it if this run created it. A failed removal fails the node
// (when nothing else did) and is recorded as WorktreeRemoveFailed.
func (r *runner) execWorktree(ctx context.Context, in *instance, p path, f *fence) outcome {
	w := in.node.Worktree
	owner := r.worktreeOwner(in)
	var d worktreeData
	if r.data(in, &d) && d.Dir != "" {
		if _, err := os.Stat(d.Dir); errors.Is(err, fs.ErrNotExist) {
			// Removed after a failure (or by hand): a resumed run makes
			// it again rather than run its steps in a missing directory.
			d = worktreeData{}
		}
	}
	if d.Dir == "" {
		if r.e.cfg.WorktreeAddFunc == nil {
			return r.fail(in, f, &StepError{Kind: ErrKindInternal, Message: "worktree " + in.node.ID + ": no worktree support configured"}, false)
		}
		branch := ""
		if w.Branch != nil {
			s, err := r.render(w.Branch, in, p, r.pre[in.node], nil, nil)
			if err != nil {
				return r.fail(in, f, AsStepError(err), false)
			}
			branch = s
		}
		// Creating a worktree is an effect outside the run: what it read
		// (the branch may name a compute step's result) is committed first.
		if err := r.flush(ctx); err != nil {
			return r.fail(in, f, AsStepError(err), false)
		}
		dir, created, err := r.e.cfg.WorktreeAddFunc(ctx, r.dir, w.Path, branch, owner, w.Reuse)
		if err != nil {
			return r.fail(in, f, &StepError{Kind: ErrKindInternal, Message: fmt.Sprintf("worktree %s: %v", in.node.ID, err), Err: err}, false)
		}
		d.Dir, d.Created = dir, created
		if err := r.setData(ctx, in, d, r.event(EventWorktreeAdded, in, 0, map[string]any{"dir": dir, "created": created})); err != nil {
			return r.fail(in, f, AsStepError(err), false)
		}
	}
	o := r.execSeq(ctx, in.node.Children, p, f)
	if (o.terminal() || o.fail != nil) && d.Created && r.e.cfg.WorktreeRemoveFunc != nil {
		// So is removing it: the results of the compute steps that ran in
		// it are committed before it goes.
		if err := r.flush(ctx); err != nil {
			return r.fail(in, f, AsStepError(err), false)
		}
		if err := r.e.cfg.WorktreeRemoveFunc(context.WithoutCancel(ctx), d.Dir, owner); err != nil {
			r.c.write(&store.Batch{Events: []*store.Event{r.event(EventWorktreeRemoveFailed, in, 0, map[string]any{"dir": d.Dir, "error": err.Error()})}})
			if o.fail == nil && o.state == store.NodeFinished {
				return r.fail(in, f, &StepError{Kind: ErrKindInternal, Err: err,
					Message: fmt.Sprintf("worktree %s: its steps finished but the worktree could not be removed: %v; remove it with `git worktree remove --force %s`", in.node.ID, err, d.Dir)}, false)
			}
			if o.fail != nil {
				// The failure stands; say where its worktree was kept.
				kept, serr := *o.fail, *o.fail.err
				serr.Message += fmt.Sprintf("; worktree %s was kept at %s (it could not be removed: %v)", in.node.ID, d.Dir, err)
				kept.err = &serr
				o.fail = &kept
			}
		}
	}
	return o
}

// dirOf returns the working directory of a node at p: that of the
// innermost enclosing worktree, else the run's.
func (r *runner) dirOf(n *ir.Node, p path) string {
	for a := n.Parent; a != nil && a.Parent != nil; a = a.Parent { // innermost first
		if a.Kind != ir.KindWorktree {
			continue
		}
		var d worktreeData
		if r.data(r.inst(a, trimPath(p, a)), &d) && d.Dir != "" {
			return d.Dir
		}
	}
	return r.dir
}

// trimPath keeps the segments of p for repetitions that enclose n.
func trimPath(p path, n *ir.Node) path {
	var q path
	for _, a := range ancestors(n) {
		if i, ok := p.lookup(a); ok {
			q = q.with(a, i)
		}
	}
	return q
}
