package runtime

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// seg is one enclosing repetition of a node instance: an iteration of a
// loop or an element of a for.
type seg struct {
	node  *ir.Node // a KindLoop or KindFor node
	index int
}

// path is the chain of enclosing repetitions, outermost first.
type path []seg

// with returns p extended by one segment (never aliasing p).
func (p path) with(n *ir.Node, i int) path {
	q := make(path, len(p), len(p)+1)
	copy(q, p)
	return append(q, seg{n, i})
}

// scope renders p as stored: "loop#2/files[3]".
func (p path) scope() string {
	if len(p) == 0 {
		return ""
	}
	var b strings.Builder
	for i, s := range p {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(s.node.ID)
		if s.node.Kind == ir.KindLoop {
			b.WriteByte('#')
			b.WriteString(strconv.Itoa(s.index))
		} else {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		}
	}
	return b.String()
}

// iteration is the innermost loop iteration of p (0 outside loops).
func (p path) iteration() int {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i].node.Kind == ir.KindLoop {
			return p[i].index
		}
	}
	return 0
}

// lookup returns the index p gives the repetition n, if p goes through it.
func (p path) lookup(n *ir.Node) (int, bool) {
	for _, s := range p {
		if s.node == n {
			return s.index, true
		}
	}
	return 0, false
}

// instance is one node instance: a node at a path. Its fields are guarded
// by runner.mu except where noted.
type instance struct {
	node  *ir.Node
	path  path
	scope string
	row   store.Node
	value any // decoded output (what the node reads as)

	once sync.Once
	done chan struct{} // closed when this session is done with it
}

func (in *instance) settle() { in.once.Do(func() { close(in.done) }) }

func instKey(id, scope string) string { return id + "\x00" + scope }

// inst returns the instance of n at p, creating a pending one.
func (r *runner) inst(n *ir.Node, p path) *instance {
	scope := p.scope()
	k := instKey(n.ID, scope)
	r.mu.Lock()
	defer r.mu.Unlock()
	in := r.insts[k]
	if in == nil {
		in = &instance{node: n, scope: scope, done: make(chan struct{})}
		in.row = store.Node{RunID: r.run.ID, NodeID: n.ID, Scope: scope, Iteration: p.iteration(), Kind: n.Kind.String(), State: store.NodePending}
		if n.Output != nil {
			in.row.OutputType = n.Output.Name
		}
		r.insts[k] = in
		r.remember(k, scope)
	}
	if in.path == nil && len(p) > 0 {
		in.path = p
	}
	if in.scope != scope || in.row.Iteration != p.iteration() {
		in.scope = scope // set once: scope and iteration never change
		in.row.Iteration = p.iteration()
	}
	return in
}

// state returns the instance's state.
func (r *runner) state(in *instance) store.NodeState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return in.row.State
}

// data decodes the instance's control data into v; false when absent.
func (r *runner) data(in *instance, v any) bool {
	r.mu.Lock()
	raw := in.row.Data
	r.mu.Unlock()
	if len(raw) == 0 {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

// update changes the instance's row under the lock and returns a copy for
// writing.
func (r *runner) update(in *instance, fn func(row *store.Node)) *store.Node {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(&in.row)
	in.row.UpdatedAt = r.e.now()
	cp := in.row
	return &cp
}

// modify changes the instance's row under the lock, like update, without
// a copy for writing (a compute step's rows are written once, at its end).
func (r *runner) modify(in *instance, fn func(row *store.Node)) {
	r.mu.Lock()
	fn(&in.row)
	in.row.UpdatedAt = r.e.now()
	r.mu.Unlock()
}

// setOutput records a finished instance's output (already normalized).
func (r *runner) setOutput(in *instance, v any, raw json.RawMessage, now time.Time) *store.Node {
	r.mu.Lock()
	defer r.mu.Unlock()
	finishLocked(in, v, raw, now)
	cp := in.row
	return &cp
}

// finishLocked sets a finished instance's value and row; r.mu is held.
func finishLocked(in *instance, v any, raw json.RawMessage, now time.Time) {
	in.value = v
	in.row.Output = raw
	in.row.State = store.NodeFinished
	in.row.Error, in.row.ErrorKind = "", ""
	in.row.FinishedAt = now
	in.row.UpdatedAt = now
}

// loadRow installs a persisted row when a session starts. How a state
// left by an earlier session is read: running, waiting and cancelled
// nodes run again; failed ones too when the run failed (a fresh retry
// budget), otherwise a failure stands (continue_on_fail).
func (r *runner) loadRow(n *ir.Node, row *store.Node, runFailed bool) {
	in := &instance{node: n, scope: row.Scope, row: *row, done: make(chan struct{})}
	// A node that runs again keeps when it first started and loses when
	// it last ended (a failure, a cancellation), so that its duration
	// runs on until it ends again.
	switch row.State {
	case store.NodeRunning, store.NodeWaiting, store.NodeCancelled:
		in.row.State, in.row.FinishedAt = store.NodePending, time.Time{}
	case store.NodeFailed:
		if runFailed {
			in.row.State, in.row.FinishedAt = store.NodePending, time.Time{}
			if n.Kind == ir.KindApproval || n.Kind == ir.KindEvent {
				in.row.Data = nil // a fresh start: a new timeout
			}
		}
	case store.NodeFinished:
		in.value = decodeOutput(n.Output, row.Output)
	}
	k := instKey(row.NodeID, row.Scope)
	r.insts[k] = in
	r.remember(k, row.Scope)
}

// decodeOutput reads a stored output back into the form actions produce:
// int64 for integers (checked against t when known).
func decodeOutput(t *schema.Type, raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	v, err := schema.DecodeJSON(raw)
	if err != nil {
		return nil
	}
	if t != nil {
		if nv, err := schema.Normalize(t, v, ""); err == nil {
			return nv
		}
	}
	return v
}

func jsonMarshal(v any) ([]byte, error) {
	b, err := schema.EncodeJSON(v)
	if err != nil {
		return nil, fmt.Errorf("runtime: encode output: %w", err)
	}
	return b, nil
}

// atLeastAttempts makes the instance of n at scope count at least num
// attempts, creating a pending instance when it has no row.
func (r *runner) atLeastAttempts(n *ir.Node, scope string, num int) {
	k := instKey(n.ID, scope)
	in := r.insts[k]
	if in == nil {
		in = &instance{node: n, scope: scope, done: make(chan struct{})}
		in.row = store.Node{RunID: r.run.ID, NodeID: n.ID, Scope: scope, Kind: n.Kind.String(), State: store.NodePending}
		if n.Output != nil {
			in.row.OutputType = n.Output.Name
		}
		r.insts[k] = in
		r.remember(k, scope)
	}
	if in.row.Attempts < num {
		in.row.Attempts = num
	}
}

// Bounded history. A loop's body reads its own iteration and the one
// before it; nodes after the loop read its last iteration (readAt). So
// once a loop starts iteration k, the instances of iteration k-2 and
// older (with everything nested in them) can never be read again in
// this session: they are dropped from memory (their rows stay in the
// store). Instances are grouped by their innermost enclosing loop
// iteration, named by its scope ("L#3", "F[2]/M#1"), for that.

// iterGroup is the instances of one loop iteration.
type iterGroup struct {
	keys     []string            // instKey of the instances directly in it
	children map[string]struct{} // groups of loops nested in it
}

// loopScopes returns the scope of the innermost loop iteration in scope
// and that of the loop iteration enclosing it ("" when none).
func loopScopes(scope string) (inner, outer string) {
	end := len(scope)
	for end > 0 {
		i := strings.LastIndexByte(scope[:end], '/')
		seg := scope[i+1 : end]
		// A loop iteration is ID#i, a for element ID[i].
		if h := strings.LastIndexByte(seg, '#'); h >= 0 && h+1 < len(seg) && seg[len(seg)-1] != ']' {
			if inner == "" {
				inner = scope[:end]
			} else {
				return inner, scope[:end]
			}
		}
		if i < 0 {
			break
		}
		end = i
	}
	return inner, ""
}

// remember records the instance k at scope in its loop iteration's
// group. Called with r.mu held.
func (r *runner) remember(k, scope string) {
	g, outer := loopScopes(scope)
	if g == "" {
		return
	}
	if r.groups == nil {
		r.groups = map[string]*iterGroup{}
	}
	grp := r.groups[g]
	if grp == nil {
		grp = &iterGroup{}
		r.groups[g] = grp
		for o := outer; o != ""; {
			og := r.groups[o]
			if og == nil {
				og = &iterGroup{}
				r.groups[o] = og
			}
			if og.children == nil {
				og.children = map[string]struct{}{}
			}
			if _, ok := og.children[g]; ok {
				break
			}
			og.children[g] = struct{}{}
			g = o
			_, o = loopScopes(o)
		}
	}
	grp.keys = append(grp.keys, k)
}

// forget drops the instances of the loop iteration at scope g and of
// everything nested in it.
func (r *runner) forget(g string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.forgetLocked(g)
	if _, outer := loopScopes(g); outer != "" {
		if og := r.groups[outer]; og != nil {
			delete(og.children, g)
		}
	}
}

func (r *runner) forgetLocked(g string) {
	grp := r.groups[g]
	if grp == nil {
		return
	}
	delete(r.groups, g)
	for _, k := range grp.keys {
		delete(r.insts, k)
	}
	for c := range grp.children {
		r.forgetLocked(c)
	}
}

// forgetOldIterations drops, after a session loaded the run's rows, the
// instances of every loop iteration older than the one before the
// loop's current iteration: what a resumed loop keeps in memory does
// not grow with the iterations it ran before.
func (r *runner) forgetOldIterations() {
	type loopAt struct {
		prefix string // the scope of the loop's iterations, up to '#'
		iter   int
	}
	var loops []loopAt
	r.mu.Lock()
	for _, in := range r.insts {
		if in.node.Kind != ir.KindLoop || len(in.row.Data) == 0 {
			continue
		}
		var d loopData
		if json.Unmarshal(in.row.Data, &d) != nil || d.Iteration < 2 {
			continue
		}
		prefix := in.node.ID + "#"
		if in.scope != "" {
			prefix = in.scope + "/" + prefix
		}
		loops = append(loops, loopAt{prefix, d.Iteration})
	}
	r.mu.Unlock()
	for _, l := range loops {
		for i := 0; i < l.iter-1; i++ {
			r.forget(l.prefix + strconv.Itoa(i))
		}
	}
}
