package ir

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/smithc/smithc/schema"
)

// Fprint writes the stable, readable text form of a program: the format
// of `smithc compile` and of the IR goldens. It is deterministic (maps are
// printed sorted), prints no absolute paths or addresses, and shows each
// node with its source position so a reader can map it back.
func Fprint(w io.Writer, p *Program) error {
	pr := &printer{w: w}
	if len(p.Files) > 0 {
		pr.main = p.Files[0]
	}
	pr.linef(0, "program %s", shortHash(p.SourceHash))
	pr.linef(0, "files %s", strings.Join(p.Files, " "))
	for _, t := range p.Types {
		pr.linef(0, "type %s %s", t.Name, typeString(t, true))
	}
	for _, a := range p.Agents {
		pr.agent(a)
	}
	for _, wf := range p.Workflows {
		pr.workflow(wf)
	}
	return pr.err
}

// String returns the text form of the program.
func (p *Program) String() string {
	var b strings.Builder
	_ = Fprint(&b, p) // a strings.Builder does not fail
	return b.String()
}

type printer struct {
	w    io.Writer
	err  error
	main string // the main file; positions elsewhere name their file
}

func (p *printer) linef(depth int, format string, args ...any) {
	if p.err != nil {
		return
	}
	_, p.err = fmt.Fprintf(p.w, "%s%s\n", strings.Repeat("  ", depth), fmt.Sprintf(format, args...))
}

func shortHash(h string) string {
	if len(h) > 12 {
		return "sha256:" + h[:12]
	}
	return "sha256:" + h
}

func (p *printer) agent(a *Agent) {
	parts := []string{"agent " + a.Name}
	if a.CLI != "" {
		parts = append(parts, "cli="+a.CLI)
	}
	if a.Kind != "" && a.Kind != a.CLI {
		parts = append(parts, "kind="+a.Kind)
	}
	if a.Model != nil {
		parts = append(parts, "model="+exprString(a.Model))
	}
	if a.Args != nil {
		parts = append(parts, "args="+exprString(a.Args))
	}
	if a.Cwd != nil {
		parts = append(parts, "cwd="+exprString(a.Cwd))
	}
	for _, k := range sortedKeys(a.Env) {
		parts = append(parts, "env."+k+"="+exprString(a.Env[k]))
	}
	if a.MaxTurns > 0 {
		parts = append(parts, "max_turns="+strconv.Itoa(a.MaxTurns))
	}
	if a.PermissionMode != "" {
		parts = append(parts, "permission_mode="+a.PermissionMode)
	}
	if a.MaxBudgetUSD > 0 {
		parts = append(parts, "max_budget_usd="+strconv.FormatFloat(a.MaxBudgetUSD, 'g', -1, 64))
	}
	if o := a.OpenAI; o != nil {
		parts = append(parts, "openai")
		if o.BaseURL != nil {
			parts = append(parts, "base_url="+exprString(o.BaseURL))
		}
		if o.Model != nil {
			parts = append(parts, "model="+exprString(o.Model))
		}
		if o.APIKey != nil {
			parts = append(parts, "api_key="+exprString(o.APIKey))
		}
		if o.System != nil {
			parts = append(parts, "system="+exprString(o.System))
		}
		if o.Temperature != nil {
			parts = append(parts, "temperature="+strconv.FormatFloat(*o.Temperature, 'g', -1, 64))
		}
		if o.MaxTokens > 0 {
			parts = append(parts, "max_tokens="+strconv.Itoa(o.MaxTokens))
		}
		if o.Timeout > 0 {
			parts = append(parts, "timeout="+o.Timeout.String())
		}
	}
	p.linef(0, "%s", strings.Join(parts, " "))
}

func (p *printer) workflow(w *Workflow) {
	p.linef(0, "")
	p.linef(0, "workflow %s", w.Name)
	if w.Description != "" {
		p.linef(1, "description %s", strconv.Quote(w.Description))
	}
	p.linef(1, "input %s", fieldsWithDefaults(w.Input, w.InputDefaults))
	if w.Output != nil {
		p.linef(1, "output %s", exprString(w.Output))
	} else if w.OutputType != nil {
		p.linef(1, "output (last node) : %s", typeString(w.OutputType, false))
	}
	if w.Timeout > 0 {
		p.linef(1, "timeout %s on_timeout=%s", dur(w.Timeout), w.OnTimeout)
	}
	for _, n := range w.Root.Children {
		p.node(1, n)
	}
}

func (p *printer) node(depth int, n *Node) {
	head := fmt.Sprintf("%s %s", n.Kind, n.ID)
	if n.Range.IsValid() {
		file := ""
		if n.Range.File != p.main {
			file = n.Range.File + ":"
		}
		head += fmt.Sprintf("  @%s%d:%d", file, n.Range.Start.Line, n.Range.Start.Col)
	}
	p.linef(depth, "%s", head)
	d := depth + 1
	if len(n.Deps) > 0 {
		p.linef(d, "deps %s", strings.Join(n.Deps, ", "))
	}
	if len(n.Needs) > 0 {
		p.linef(d, "needs %s", strings.Join(n.Needs, ", "))
	}
	if n.Description != "" && n.Kind != KindStep { // a step prints its own below
		p.linef(d, "description %s", strconv.Quote(n.Description))
	}
	if n.Output != nil {
		p.linef(d, "output %s", typeString(n.Output, false))
	}
	switch n.Kind {
	case KindStep:
		p.step(d, n.Step)
	case KindApproval:
		a := n.Approval
		p.exprLine(d, "title", a.Title)
		p.exprLine(d, "summary", a.Summary)
		p.linef(d, "on_deny %s", a.OnDeny)
		if a.Timeout > 0 {
			p.linef(d, "timeout %s", dur(a.Timeout))
		}
		if a.Fields != nil {
			p.linef(d, "fields %s", typeString(a.Fields, false))
		}
	case KindTimer:
		if n.Timer.Duration > 0 {
			p.linef(d, "duration %s", dur(n.Timer.Duration))
		}
		p.exprLine(d, "until", n.Timer.Until)
	case KindEvent:
		p.linef(d, "name %s", strconv.Quote(n.Event.Name))
		if n.Event.Timeout > 0 {
			p.linef(d, "timeout %s on_timeout=%s", dur(n.Event.Timeout), n.Event.OnTimeout)
		}
	case KindParallel:
		if n.Parallel.MaxConcurrency > 0 {
			p.linef(d, "max_concurrency %d", n.Parallel.MaxConcurrency)
		}
	case KindMatch, KindBranch:
		if n.Match.Source != "" {
			p.linef(d, "source %s", n.Match.Source)
		}
		for _, arm := range n.Match.Arms {
			p.linef(d, "when %s", exprString(arm.Pred))
			p.node(d+1, arm.Body)
		}
		if n.Match.Else != nil {
			p.linef(d, "else")
			p.node(d+1, n.Match.Else)
		}
	case KindLoop:
		p.exprLine(d, "until", n.Loop.Until)
		p.linef(d, "max_iterations %d on_max_reached=%s", n.Loop.MaxIterations, n.Loop.OnMaxReached)
	case KindFor:
		p.linef(d, "for %s in %s", n.For.Var, exprString(n.For.List))
		if n.For.MaxConcurrency > 0 {
			p.linef(d, "max_concurrency %d", n.For.MaxConcurrency)
		}
	case KindWorktree:
		p.linef(d, "path %s", strconv.Quote(n.Worktree.Path))
		p.exprLine(d, "branch", n.Worktree.Branch)
		if n.Worktree.Reuse {
			p.linef(d, "reuse")
		}
	case KindTry:
		p.node(d, n.Try.Try)
		if n.Try.Catch != nil {
			p.node(d, n.Try.Catch)
		}
		if n.Try.Finally != nil {
			p.node(d, n.Try.Finally)
		}
	}
	for _, c := range n.Children {
		p.node(d, c)
	}
}

func (p *printer) step(d int, s *Step) {
	head := "action " + s.Action
	if s.Agent != "" {
		head += " agent=" + s.Agent
	}
	if len(s.Fallbacks) > 0 {
		head += " fallback=" + strings.Join(s.Fallbacks, ",")
	}
	if s.Call != "" {
		head += " call=" + s.Call
	}
	if s.DeclaredOutput {
		head += " declared-output"
	}
	p.linef(d, "%s", head)
	if s.Description != "" {
		p.linef(d, "description %s", strconv.Quote(s.Description))
	}
	for _, k := range sortedKeys(s.Args) {
		p.exprLine(d, "arg "+k, s.Args[k])
	}
	for _, m := range sortedKeys(s.Maps) {
		for _, k := range sortedKeys(s.Maps[m]) {
			p.exprLine(d, "arg "+m+"."+k, s.Maps[m][k])
		}
	}
	if s.Timeout > 0 {
		p.linef(d, "timeout %s", dur(s.Timeout))
	}
	if s.HeartbeatTimeout > 0 {
		p.linef(d, "heartbeat_timeout %s", dur(s.HeartbeatTimeout))
	}
	if r := s.Retry; r != nil {
		line := fmt.Sprintf("retry attempts=%d backoff=%s delay=%s", r.Attempts, r.Backoff, dur(r.Delay))
		if r.MaxDelay > 0 {
			line += " max_delay=" + dur(r.MaxDelay)
		}
		if r.Jitter > 0 {
			line += " jitter=" + dur(r.Jitter)
		}
		if r.When != nil {
			line += " when " + exprString(r.When)
		}
		p.linef(d, "%s", line)
	}
	p.exprLine(d, "skip_if", s.SkipIf)
	if s.Cache != nil {
		line := "cache key " + exprString(s.Cache.Key)
		if s.Cache.TTL > 0 {
			line += " ttl=" + dur(s.Cache.TTL)
		}
		p.linef(d, "%s", line)
	}
	if s.ContinueOnFail {
		p.linef(d, "continue_on_fail")
	}
}

func (p *printer) exprLine(d int, label string, e *Expr) {
	if e == nil {
		return
	}
	p.linef(d, "%s = %s", label, exprString(e))
}

// exprString renders an expression on one line: its source (templates as
// their parts), its type, and its bindings when they differ from the
// names written.
func exprString(e *Expr) string {
	if e == nil {
		return "<nil>"
	}
	var b strings.Builder
	if e.Template != nil {
		b.WriteString("template(")
		for i, part := range e.Template {
			if i > 0 {
				b.WriteString(" ")
			}
			if part.Expr == nil {
				b.WriteString(strconv.Quote(part.Lit))
			} else {
				b.WriteString("${" + oneLine(part.Expr.Src) + "}")
			}
		}
		b.WriteString(")")
	} else {
		b.WriteString(oneLine(e.Src))
	}
	if e.Type != nil {
		b.WriteString(" : " + typeString(e.Type, false))
	}
	var binds []string
	for _, k := range sortedKeys(e.Names) {
		if e.Names[k] != k {
			binds = append(binds, k+"→"+e.Names[k])
		}
	}
	for _, k := range sortedKeys(e.Params) {
		binds = append(binds, k+"←"+oneLine(e.Params[k].Src))
	}
	if len(binds) > 0 {
		b.WriteString(" [" + strings.Join(binds, ", ") + "]")
	}
	return b.String()
}

// fieldsWithDefaults renders an object type with its fields' defaults.
func fieldsWithDefaults(t *schema.Type, dynamic map[string]*Expr) string {
	if t == nil || len(t.Fields) == 0 {
		return "{}"
	}
	parts := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		s := f.Name
		if f.Optional {
			s += "?"
		}
		s += ": " + typeString(f.Type, false)
		if x, ok := dynamic[f.Name]; ok {
			s += " = " + oneLine(x.Src)
		} else if f.HasDefault {
			js, err := json.Marshal(f.Default)
			if err != nil {
				js = []byte(fmt.Sprint(f.Default))
			}
			s += " = " + string(js)
		}
		parts[i] = s
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

func oneLine(s string) string {
	fields := strings.Fields(s)
	return strings.Join(fields, " ")
}

func typeString(t *schema.Type, structural bool) string {
	if t == nil {
		return "<none>"
	}
	if structural {
		return t.Structure()
	}
	return t.String()
}

func dur(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	return d.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
