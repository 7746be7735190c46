package compiler

import (
	"fmt"
	"strings"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/schema"
)

type compiler struct {
	info  *checker.Info
	diags diag.Diagnostics
}

// scope is where statements are being lowered: the id prefix of the
// fragment mount ("" at the top, "api." inside `use f() as api`) and the
// fragment parameters' bindings.
type scope struct {
	prefix string
	params map[string]*ir.Expr
	// ids maps each id-bearing statement lowered in this scope to its
	// durable id, for needs and expression names.
	ids map[ast.Stmt]string
	// used counts synthesized ids, to keep them unique in the workflow.
	used map[string]int
}

func (s *scope) child(prefix string, params map[string]*ir.Expr) *scope {
	return &scope{prefix: prefix, params: params, ids: map[ast.Stmt]string{}, used: s.used}
}

func (c *compiler) workflow(w *ast.WorkflowDecl) *ir.Workflow {
	wf := &ir.Workflow{
		Name:       w.Name.Name,
		Input:      c.info.Inputs[w],
		OutputType: c.info.WorkflowOutputs[w],
		OnTimeout:  "fail",
		Range:      w.Range,
	}
	if wf.Input == nil {
		wf.Input = schema.ObjectOf()
	}
	sc := &scope{ids: make(map[ast.Stmt]string, len(w.Body.Nodes)), used: map[string]int{}}
	if w.Input != nil {
		for _, f := range w.Input.Fields {
			sf := wf.Input.Field(f.Name.Name)
			if f.Default == nil || sf == nil || !sf.HasDefault || sf.Default != nil || strings.TrimSpace(f.Default.Src) == "nil" {
				continue
			}
			// A default the checker could not fold to a constant reads the
			// environment: evaluate it when a run starts.
			if wf.InputDefaults == nil {
				wf.InputDefaults = map[string]*ir.Expr{}
			}
			wf.InputDefaults[f.Name.Name] = c.expr(f.Default, sc)
		}
	}
	c.assignIDs(w.Body.Nodes, sc)
	wf.Root = &ir.Node{Kind: ir.KindSequence, Range: w.Body.Range}
	wf.Root.Children = c.nodes(w.Body.Nodes, sc)
	for _, a := range w.Body.Attrs {
		switch a.Name.Name {
		case "description":
			wf.Description = c.constString(a)
		case "output":
			wf.Output = c.expr(a.Value, sc)
		case "timeout":
			wf.Timeout = c.constDuration(a)
		case "on_timeout":
			wf.OnTimeout = c.constString(a)
		}
	}
	if b := w.Budget; b != nil {
		wf.Budget = &ir.Budget{}
		for _, a := range b.Attrs {
			switch a.Name.Name {
			case "tokens":
				wf.Budget.Tokens = int64(c.constInt(a))
			case "cost_usd":
				switch v := c.info.Consts[a].(type) {
				case int64:
					wf.Budget.CostUSD = float64(v)
				case float64:
					wf.Budget.CostUSD = v
				}
			}
		}
	}
	wf.Index()
	return wf
}

// assignIDs gives every user-named statement of body (recursively, but
// not into fragments) its durable id in sc, so that needs and names can
// refer forward.
func (c *compiler) assignIDs(body []ast.Stmt, sc *scope) {
	for _, s := range body {
		switch s := s.(type) {
		case *ast.StepStmt:
			sc.ids[s] = sc.prefix + s.ID.Name
		case *ast.ApprovalStmt:
			sc.ids[s] = sc.prefix + s.ID.Name
		case *ast.TimerStmt:
			sc.ids[s] = sc.prefix + s.ID.Name
		case *ast.EventStmt:
			sc.ids[s] = sc.prefix + s.ID.Name
		case *ast.LoopStmt:
			sc.ids[s] = sc.prefix + s.ID.Name
			c.assignIDs(s.Body.Nodes, sc)
		case *ast.WorktreeStmt:
			sc.ids[s] = sc.prefix + s.ID.Name
			c.assignIDs(s.Body.Nodes, sc)
		case *ast.SequenceStmt:
			c.assignIDs(s.Body.Nodes, sc)
		case *ast.ParallelStmt:
			c.assignIDs(s.Body.Nodes, sc)
		case *ast.ForStmt:
			c.assignIDs(s.Body.Nodes, sc)
		case *ast.MatchStmt:
			for _, arm := range s.Arms {
				c.assignIDs(arm.Body.Nodes, sc)
			}
			if s.Else != nil {
				c.assignIDs(s.Else.Body.Nodes, sc)
			}
		case *ast.BranchStmt:
			c.assignIDs(s.Then.Nodes, sc)
			if s.Else != nil {
				c.assignIDs(s.Else.Body.Nodes, sc)
			}
		case *ast.TryStmt:
			for _, b := range []*ast.Body{s.Try, s.Catch, s.Finally} {
				if b != nil {
					c.assignIDs(b.Nodes, sc)
				}
			}
		case *ast.UseStmt:
			sc.ids[s] = sc.prefix + s.Prefix.Name
		}
	}
}

// nodes lowers a list of statements that run in order: each depends on
// the one before it.
func (c *compiler) nodes(body []ast.Stmt, sc *scope) []*ir.Node {
	var out []*ir.Node
	for _, s := range body {
		n := c.node(s, sc)
		if n == nil {
			continue
		}
		if len(out) > 0 {
			n.Deps = appendUnique(n.Deps, out[len(out)-1].ID)
		}
		out = append(out, n)
	}
	return out
}

// parallelNodes lowers statements that run concurrently.
func (c *compiler) parallelNodes(body []ast.Stmt, sc *scope) []*ir.Node {
	var out []*ir.Node
	for _, s := range body {
		if n := c.node(s, sc); n != nil {
			out = append(out, n)
		}
	}
	return out
}

func (c *compiler) node(s ast.Stmt, sc *scope) *ir.Node {
	n := c.lowerNode(s, sc)
	if n == nil {
		return nil
	}
	// Attributes every node kind may carry, handled once here: needs (on
	// a control node it orders the whole block) and description.
	for _, a := range stmtAttrs(s) {
		switch {
		case a == nil:
		case a.Name.Name == "description":
			n.Description = c.constString(a)
		case a.Name.Name == "needs":
			n.Needs = c.needs(s, sc)
			for _, id := range n.Needs {
				n.Deps = appendUnique(n.Deps, id)
			}
		}
	}
	return n
}

// stmtAttrs returns the attributes written on a statement (for control
// nodes, among their body's).
func stmtAttrs(s ast.Stmt) []*ast.Attr {
	switch s := s.(type) {
	case *ast.StepStmt:
		return s.Attrs
	case *ast.ApprovalStmt:
		return s.Attrs
	case *ast.TimerStmt:
		return s.Attrs
	case *ast.EventStmt:
		return s.Attrs
	}
	if b := stmtBody(s); b != nil {
		return b.Attrs
	}
	return nil
}

// stmtBody returns the body of a control statement whose attributes may
// hold needs.
func stmtBody(s ast.Stmt) *ast.Body {
	switch s := s.(type) {
	case *ast.SequenceStmt:
		return s.Body
	case *ast.ParallelStmt:
		return s.Body
	case *ast.ForStmt:
		return s.Body
	case *ast.LoopStmt:
		return s.Body
	case *ast.WorktreeStmt:
		return s.Body
	}
	return nil
}

func (c *compiler) lowerNode(s ast.Stmt, sc *scope) *ir.Node {
	switch s := s.(type) {
	case *ast.StepStmt:
		return c.step(s, sc)
	case *ast.ApprovalStmt:
		return c.approval(s, sc)
	case *ast.TimerStmt:
		n := &ir.Node{ID: sc.ids[s], Kind: ir.KindTimer, Range: s.Range, Timer: &ir.Timer{}}
		for _, a := range s.Attrs {
			switch a.Name.Name {
			case "duration":
				n.Timer.Duration = c.constDuration(a)
			case "until":
				n.Timer.Until = c.expr(a.Value, sc)
			}
		}
		return n
	case *ast.EventStmt:
		n := &ir.Node{ID: sc.ids[s], Kind: ir.KindEvent, Range: s.Range, Output: c.info.Outputs[s],
			Event: &ir.Event{OnTimeout: "fail"}}
		for _, a := range s.Attrs {
			switch a.Name.Name {
			case "name":
				n.Event.Name = c.constString(a)
			case "timeout":
				n.Event.Timeout = c.constDuration(a)
			case "on_timeout":
				n.Event.OnTimeout = c.constString(a)
			}
		}
		return n
	case *ast.SequenceStmt:
		n := &ir.Node{Kind: ir.KindSequence, Range: s.Range}
		n.Children = c.nodes(s.Body.Nodes, sc)
		n.ID = c.synth("sequence", n, sc)
		return n
	case *ast.ParallelStmt:
		n := &ir.Node{Kind: ir.KindParallel, Range: s.Range, Parallel: &ir.Parallel{}}
		for _, a := range s.Body.Attrs {
			if a.Name.Name == "max_concurrency" {
				n.Parallel.MaxConcurrency = c.constInt(a)
			}
		}
		n.Children = c.parallelNodes(s.Body.Nodes, sc)
		n.ID = c.synth("parallel", n, sc)
		return n
	case *ast.MatchStmt:
		n := &ir.Node{Kind: ir.KindMatch, Range: s.Range, Match: &ir.Match{}}
		n.Match.Source = sc.prefix + s.Source.Name
		for _, arm := range s.Arms {
			n.Match.Arms = append(n.Match.Arms, &ir.Arm{Pred: c.expr(arm.Pred, sc), Body: c.seq(arm.Body, sc)})
		}
		if s.Else != nil {
			n.Match.Else = c.seq(s.Else.Body, sc)
		}
		n.ID = c.synthNamed("match:"+n.Match.Source, sc)
		c.nameArms(n)
		return n
	case *ast.BranchStmt:
		n := &ir.Node{Kind: ir.KindBranch, Range: s.Range, Match: &ir.Match{}}
		n.Match.Arms = []*ir.Arm{{Pred: c.expr(s.Pred, sc), Body: c.seq(s.Then, sc)}}
		if s.Else != nil {
			n.Match.Else = c.seq(s.Else.Body, sc)
		}
		n.ID = c.synth("branch", n, sc)
		c.nameArms(n)
		return n
	case *ast.LoopStmt:
		n := &ir.Node{ID: sc.ids[s], Kind: ir.KindLoop, Range: s.Range, Loop: &ir.Loop{OnMaxReached: "fail"}}
		for _, a := range s.Body.Attrs {
			switch a.Name.Name {
			case "until":
				n.Loop.Until = c.expr(a.Value, sc)
			case "max_iterations":
				n.Loop.MaxIterations = c.constInt(a)
			case "on_max_reached":
				n.Loop.OnMaxReached = c.constString(a)
			}
		}
		n.Children = c.nodes(s.Body.Nodes, sc)
		return n
	case *ast.ForStmt:
		n := &ir.Node{Kind: ir.KindFor, Range: s.Range, For: &ir.For{Var: s.Var.Name, List: c.expr(s.List, sc)}}
		for _, a := range s.Body.Attrs {
			if a.Name.Name == "max_concurrency" {
				n.For.MaxConcurrency = c.constInt(a)
			}
		}
		n.Children = c.nodes(s.Body.Nodes, sc)
		n.ID = c.synth("for:"+s.Var.Name, n, sc)
		return n
	case *ast.WorktreeStmt:
		n := &ir.Node{ID: sc.ids[s], Kind: ir.KindWorktree, Range: s.Range, Worktree: &ir.Worktree{}}
		for _, a := range s.Body.Attrs {
			switch a.Name.Name {
			case "path":
				n.Worktree.Path = c.constString(a)
			case "branch":
				n.Worktree.Branch = c.expr(a.Value, sc)
			case "reuse":
				n.Worktree.Reuse = c.constBool(a)
			}
		}
		n.Children = c.nodes(s.Body.Nodes, sc)
		return n
	case *ast.TryStmt:
		n := &ir.Node{Kind: ir.KindTry, Range: s.Range, Try: &ir.Try{Try: c.seq(s.Try, sc)}}
		if s.Catch != nil {
			n.Try.Catch = c.seq(s.Catch, sc)
		}
		if s.Finally != nil {
			n.Try.Finally = c.seq(s.Finally, sc)
		}
		n.ID = c.synth("try", n, sc)
		for _, part := range []struct {
			n    *ir.Node
			name string
		}{{n.Try.Try, "try"}, {n.Try.Catch, "catch"}, {n.Try.Finally, "finally"}} {
			if part.n != nil {
				part.n.ID = n.ID + "/" + part.name
			}
		}
		return n
	case *ast.UseStmt:
		return c.use(s, sc)
	}
	return nil
}

// seq lowers a body as a sequence node whose id the caller sets.
func (c *compiler) seq(b *ast.Body, sc *scope) *ir.Node {
	return &ir.Node{Kind: ir.KindSequence, Range: b.Range, Children: c.nodes(b.Nodes, sc)}
}

func (c *compiler) nameArms(n *ir.Node) {
	for i, arm := range n.Match.Arms {
		arm.Body.ID = fmt.Sprintf("%s/when%d", n.ID, i)
	}
	if n.Match.Else != nil {
		n.Match.Else.ID = n.ID + "/else"
	}
}

// synth derives an id for a control node the user does not name, from the
// first user-named node inside it: "parallel:api.read". It is stable when
// unrelated parts of the file change.
func (c *compiler) synth(kind string, n *ir.Node, sc *scope) string {
	anchor := ""
	ir.Walk(n, func(m *ir.Node) bool {
		if anchor != "" {
			return false
		}
		if m != n && m.ID != "" && !strings.Contains(m.ID, ":") {
			anchor = m.ID
			return false
		}
		return true
	})
	if anchor == "" {
		anchor = fmt.Sprintf("%s%d", sc.prefix, n.Range.Start.Line)
	}
	return c.synthNamed(kind+":"+anchor, sc)
}

func (c *compiler) synthNamed(id string, sc *scope) string {
	sc.used[id]++
	if k := sc.used[id]; k > 1 {
		return fmt.Sprintf("%s#%d", id, k)
	}
	return id
}

func (c *compiler) use(s *ast.UseStmt, sc *scope) *ir.Node {
	frag := c.info.Uses[s]
	if frag == nil {
		return nil
	}
	params := map[string]*ir.Expr{}
	for i, p := range frag.Params {
		if i < len(s.Args) {
			params[p.Name.Name] = c.expr(s.Args[i], sc)
		}
	}
	inner := sc.child(sc.prefix+s.Prefix.Name+".", params)
	c.assignIDs(frag.Body.Nodes, inner)
	n := &ir.Node{ID: sc.ids[s], Kind: ir.KindSequence, Range: s.Range}
	n.Children = c.nodes(frag.Body.Nodes, inner)
	return n
}

func (c *compiler) needs(s ast.Stmt, sc *scope) []string {
	var out []string
	for _, t := range c.info.Needs[s] {
		if id, ok := sc.ids[t]; ok {
			out = appendUnique(out, id)
		}
	}
	return out
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func (c *compiler) constString(a *ast.Attr) string {
	switch v := c.info.Consts[a].(type) {
	case string:
		return v
	case nil:
		if a.Value != nil && a.Value.Template != nil {
			if s, ok := a.Value.Template.IsLiteral(); ok {
				return s
			}
		}
	}
	return fmt.Sprint(c.info.Consts[a])
}

func (c *compiler) constDuration(a *ast.Attr) time.Duration {
	switch v := c.info.Consts[a].(type) {
	case time.Duration:
		return v
	case string:
		d, _ := time.ParseDuration(v)
		return d
	}
	return 0
}

func (c *compiler) constInt(a *ast.Attr) int {
	switch v := c.info.Consts[a].(type) {
	case int64:
		return int(v)
	case int:
		return v
	case float64:
		return int(v)
	}
	return 0
}

func (c *compiler) constBool(a *ast.Attr) bool {
	b, _ := c.info.Consts[a].(bool)
	return b
}
