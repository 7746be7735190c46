package compiler

import (
	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/schema"
)

func (c *compiler) step(s *ast.StepStmt, sc *scope) *ir.Node {
	st := &ir.Step{
		Action:         c.info.Actions[s],
		Args:           make(map[string]*ir.Expr, len(s.Attrs)),
		DeclaredOutput: s.Output != nil,
	}
	n := &ir.Node{ID: sc.ids[s], Kind: ir.KindStep, Range: s.Range, Output: c.info.Outputs[s], Step: st}
	if a := c.info.StepAgents[s]; a != nil {
		st.Agent = a.Name.Name
	}
	for _, a := range c.info.StepFallbacks[s] {
		st.Fallbacks = append(st.Fallbacks, a.Name.Name)
	}
	if w := c.info.Calls[s]; w != nil {
		st.Call = w.Name.Name
	}
	for _, a := range s.Attrs {
		switch a.Name.Name {
		case "needs":
			// handled for every node kind in (*compiler).node
		case "description":
			st.Description = c.constString(a)
		case "timeout":
			st.Timeout = c.constDuration(a)
		case "heartbeat_timeout":
			st.HeartbeatTimeout = c.constDuration(a)
		case "continue_on_fail":
			st.ContinueOnFail = c.constBool(a)
		case "skip_if":
			st.SkipIf = c.expr(a.Value, sc)
		case "agent":
			// resolved above through Info.StepAgents
		default:
			st.Args[a.Name.Name] = c.expr(a.Value, sc)
		}
	}
	for _, b := range s.Blocks {
		switch b.Kind.Name {
		case "retry":
			st.Retry = c.retry(b, sc)
		case "cache":
			st.Cache = &ir.Cache{}
			for _, a := range b.Attrs {
				switch a.Name.Name {
				case "key":
					st.Cache.Key = c.expr(a.Value, sc)
				case "ttl":
					st.Cache.TTL = c.constDuration(a)
				}
			}
		case "call":
			if st.Call == "" && b.Label != nil {
				st.Call = b.Label.Name
			}
			c.blockArgs(b, st, sc)
		default:
			// env { K = v } and action blocks such as http { ... }: a block
			// whose attributes are all free-form keys becomes a map; an
			// action block contributes its attributes as arguments and its
			// own sub-blocks (headers) as maps.
			if b.Kind.Name == "env" || b.Kind.Name == "headers" {
				setMap(st, b.Kind.Name, c.exprMap(b, sc))
				continue
			}
			c.blockArgs(b, st, sc)
		}
	}
	if len(st.Maps) == 0 {
		st.Maps = nil
	}
	if st.Retry == nil && st.Action == "agent" && st.DeclaredOutput {
		st.Retry = agentReplyRetry()
	}
	return n
}

func (c *compiler) blockArgs(b *ast.Block, st *ir.Step, sc *scope) {
	for _, a := range b.Attrs {
		st.Args[a.Name.Name] = c.expr(a.Value, sc)
	}
	for _, sub := range b.Blocks {
		setMap(st, sub.Kind.Name, c.exprMap(sub, sc))
	}
}

// setMap sets the map argument name of st (Maps is made when a step has
// one).
func setMap(st *ir.Step, name string, m map[string]*ir.Expr) {
	if st.Maps == nil {
		st.Maps = map[string]map[string]*ir.Expr{}
	}
	st.Maps[name] = m
}

func (c *compiler) exprMap(b *ast.Block, sc *scope) map[string]*ir.Expr {
	m := map[string]*ir.Expr{}
	for _, a := range b.Attrs {
		m[a.Name.Name] = c.expr(a.Value, sc)
	}
	return m
}

func (c *compiler) retry(b *ast.Block, sc *scope) *ir.Retry {
	r := &ir.Retry{Attempts: 1, Backoff: "fixed"}
	for _, a := range b.Attrs {
		switch a.Name.Name {
		case "attempts":
			r.Attempts = c.constInt(a)
		case "backoff":
			r.Backoff = c.constString(a)
		case "delay":
			r.Delay = c.constDuration(a)
		case "max_delay":
			r.MaxDelay = c.constDuration(a)
		case "jitter":
			r.Jitter = c.constDuration(a)
		case "when":
			r.When = c.expr(a.Value, sc)
		}
	}
	return r
}

func (c *compiler) approval(s *ast.ApprovalStmt, sc *scope) *ir.Node {
	ap := &ir.Approval{OnDeny: "fail"}
	n := &ir.Node{ID: sc.ids[s], Kind: ir.KindApproval, Range: s.Range, Output: c.info.Outputs[s], Approval: ap}
	for _, a := range s.Attrs {
		switch a.Name.Name {
		case "title":
			ap.Title = c.expr(a.Value, sc)
		case "summary":
			ap.Summary = c.expr(a.Value, sc)
		case "on_deny":
			ap.OnDeny = c.constString(a)
		case "timeout":
			ap.Timeout = c.constDuration(a)
		}
	}
	if s.Output != nil && n.Output != nil {
		// The approval's own fields are its output minus the decision.
		own := &schema.Type{Kind: schema.Object}
		for _, f := range n.Output.Fields {
			switch f.Name {
			case "approved", "by", "note":
			default:
				own.Fields = append(own.Fields, f)
			}
		}
		ap.Fields = own
	}
	return n
}

func (c *compiler) agent(a *ast.AgentDecl) *ir.Agent {
	sc := &scope{ids: map[ast.Stmt]string{}, used: map[string]int{}}
	ag := &ir.Agent{Name: a.Name.Name}
	var kind string
	for _, at := range a.Attrs {
		switch at.Name.Name {
		case "cli", "command":
			ag.CLI = c.constString(at)
		case "kind":
			kind = c.constString(at)
		case "model":
			ag.Model = c.expr(at.Value, sc)
		case "args":
			// One expression whose value is the list (a list literal,
			// env() or secret() inside it included), evaluated per attempt.
			ag.Args = c.expr(at.Value, sc)
		case "cwd":
			ag.Cwd = c.expr(at.Value, sc)
		case "max_turns":
			ag.MaxTurns = c.constInt(at)
		case "permission_mode":
			ag.PermissionMode = c.constString(at)
		case "max_budget_usd":
			ag.MaxBudgetUSD, _ = c.info.Consts[at].(float64)
		}
	}
	if ag.CLI != "" {
		ag.Kind = checker.AgentKind(ag.CLI, "", kind)
	}
	for _, b := range a.Blocks {
		switch b.Kind.Name {
		case "env":
			ag.Env = c.exprMap(b, sc)
		case "openai":
			ag.OpenAI = c.openAI(b, sc)
		}
	}
	return ag
}

func (c *compiler) openAI(b *ast.Block, sc *scope) *ir.OpenAI {
	o := &ir.OpenAI{}
	for _, at := range b.Attrs {
		switch at.Name.Name {
		case "base_url":
			o.BaseURL = c.expr(at.Value, sc)
		case "model":
			o.Model = c.expr(at.Value, sc)
		case "api_key":
			o.APIKey = c.expr(at.Value, sc)
		case "system":
			o.System = c.expr(at.Value, sc)
		case "temperature":
			if t, ok := c.info.Consts[at].(float64); ok {
				o.Temperature = &t
			}
		case "max_tokens":
			o.MaxTokens = c.constInt(at)
		case "timeout":
			o.Timeout = c.constDuration(at)
		}
	}
	return o
}

// expr lowers a run-time expression: its source, range, checked type,
// template parts, and the bindings of the names it reads.
func (c *compiler) expr(e *ast.Expr, sc *scope) *ir.Expr {
	if e == nil {
		return nil
	}
	out := &ir.Expr{Src: e.Src, Range: e.Range, Type: c.info.ExprTypes[e]}
	c.bind(out, e, sc)
	out.UseParsed(c.info.TakeTree(e))
	if e.Template != nil {
		out.Template = []ir.TemplatePart{}
		for _, p := range e.Template.Parts {
			if p.Expr == nil {
				out.Template = append(out.Template, ir.TemplatePart{Lit: p.Lit})
				continue
			}
			out.Template = append(out.Template, ir.TemplatePart{Expr: c.expr(p.Expr, sc)})
		}
	}
	return out
}

func (c *compiler) bind(out *ir.Expr, e *ast.Expr, sc *scope) {
	for _, r := range c.info.Refs[e] {
		switch r.Kind {
		case checker.RefNode:
			// The checker names a node relative to the expression's scope
			// ("read", or "api.summarize" for a node of a mounted
			// fragment), so its durable id is the scope's prefix + name.
			if out.Names == nil {
				out.Names = map[string]string{}
			}
			out.Names[r.Name] = sc.prefix + r.Name
		case checker.RefParam:
			if p, ok := sc.params[r.Name]; ok {
				if out.Params == nil {
					out.Params = map[string]*ir.Expr{}
				}
				out.Params[r.Name] = p
			}
		}
	}
}

// DefaultAgentAttempts is how many times an agent step with a declared
// output and no retry block is asked when its reply does not validate
// (LANGUAGE.md §5: "a reply that does not validate is retried with the
// error fed back"). Other failures are not retried by default.
const DefaultAgentAttempts = 3

func agentReplyRetry() *ir.Retry {
	when := &ir.Expr{Src: `error.kind == "validation"`, Type: schema.BoolType}
	return &ir.Retry{Attempts: DefaultAgentAttempts, Backoff: "fixed", When: when}
}
