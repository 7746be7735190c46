package stdlib

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/schema"
)

// agentReply is what an agent adapter got back.
type agentReply struct {
	Text          string
	Structured    json.RawMessage // the CLI's native structured output, when it gave one
	InputTokens   int64           // all input tokens, cached ones included
	OutputTokens  int64
	CacheRead     int64 // input tokens read from the prompt cache
	CacheCreation int64 // input tokens written to the prompt cache
	Turns         int64
	SessionID     string
	CostUSD       float64 // when the agent reports it (claude)
	// Messages is the conversation so far, the reply included (openai),
	// for a re-ask that continues it.
	Messages []any
}

// rejectedReply is the cause of a validation failure of an agent's reply:
// it remembers the session (or conversation) so that the next attempt
// continues it instead of starting over.
type rejectedReply struct {
	cause     error
	agent     string // the agent that replied
	sessionID string
	messages  []any
}

func (r *rejectedReply) Error() string { return r.cause.Error() }
func (r *rejectedReply) Unwrap() error { return r.cause }

// agentAction runs `agent = NAME, prompt = TEMPLATE`.
type agentAction struct{ cfg Config }

// Run implements runtime.Action. With agent = [primary, fallback, ...]
// each agent is tried in order after the one before failed (other than
// with an invalid reply, which is asked again of the same agent, or a
// cancelled or timed-out step); a re-ask starts at the agent that replied,
// and the continuation of an interrupted session at that session's agent.
func (g agentAction) Run(ctx context.Context, a *runtime.Attempt) (any, error) {
	names := append([]string{a.Step.Agent}, a.Step.Fallbacks...)
	start := 0
	var prev *rejectedReply
	at := ""
	switch {
	case errors.As(a.PrevError, &prev):
		at = prev.agent
	case a.Continue != nil:
		at = a.Continue.Agent // the interrupted session's agent
	}
	for i, n := range names {
		if at != "" && n == at {
			start = i
		}
	}
	var err error
	for i := start; i < len(names); i++ {
		var v any
		if v, err = g.ask(ctx, a, names[i], i == start); err == nil {
			return v, nil
		}
		se := runtime.AsStepError(err)
		switch {
		case i+1 == len(names), ctx.Err() != nil:
			return nil, err
		case se.Kind == runtime.ErrKindValidation, se.Kind == runtime.ErrKindInternal, se.Kind == runtime.ErrKindExpr,
			se.Kind == runtime.ErrKindCancelled, se.Kind == runtime.ErrKindTimeout:
			return nil, err
		}
		a.Log("AgentFallback", map[string]any{"agent": names[i], "next": names[i+1], "kind": se.Kind, "error": se.Message})
	}
	return nil, err
}

// ask asks one agent; resume allows continuing the session of a rejected
// reply.
func (g agentAction) ask(ctx context.Context, a *runtime.Attempt, name string, resume bool) (any, error) {
	ag, err := findAgent(a, name)
	if err != nil {
		return nil, err
	}
	if a.Step.Args["prompt"] == nil {
		return nil, stepErr(runtime.ErrKindInternal, "agent step has no prompt")
	}
	prompt, err := a.Render(a.Step.Args["prompt"], nil)
	if err != nil {
		return nil, evalErr("prompt", err)
	}
	// Resolve the endpoint first, so that its API key is a known secret
	// before anything is logged.
	var oc openAIConfig
	if ag.OpenAI != nil {
		if oc, err = resolveOpenAI(a, ag); err != nil {
			return nil, err
		}
	}
	var want *schema.Type
	var prev *rejectedReply
	// An attempt interrupted before this one (hijacked, or its process
	// died) left a session of this agent: it is continued, the task
	// restated, rather than started over.
	cont := a.Continue
	if cont != nil && (!resume || cont.Agent != ag.Name || ag.OpenAI != nil || cont.ID == "") {
		cont = nil
	}
	// fresh is the prompt of a new session, for when the one to continue
	// turns out not to exist.
	fresh := prompt
	if cont != nil {
		prompt = continuation(cont) + prompt
	}
	if a.Step.DeclaredOutput && a.Node != nil && a.Node.Output != nil {
		want = a.Node.Output
		asked := agentFacing(want)
		fresh += jsonInstruction(asked)
		if resume {
			fresh += feedback(a.PrevError)
		}
		if cont != nil {
			prompt += jsonInstruction(asked)
		} else if resume && errors.As(a.PrevError, &prev) && prev.agent == ag.Name && (prev.sessionID != "" || len(prev.messages) > 0) {
			// The agent has the task and its own reply in the session: it
			// only needs to know what was wrong.
			prompt = strings.TrimLeft(feedback(a.PrevError), "\n") + jsonInstruction(asked)
		} else {
			prev = nil
			prompt += jsonInstruction(asked)
			if resume {
				prompt += feedback(a.PrevError)
			}
		}
	}
	logged := map[string]any{"agent": ag.Name, "attempt": int64(a.Number), "prompt": prompt}
	resumeID := ""
	switch {
	case cont != nil:
		resumeID = cont.ID
		logged["continues"] = map[bool]string{true: "hijacked", false: "interrupted"}[cont.Hijacked]
	case prev != nil:
		resumeID = prev.sessionID
	}
	if resumeID != "" {
		logged["resume"] = resumeID
	}
	a.Log("AgentPrompt", logged)

	var reply agentReply
	if ag.OpenAI != nil {
		var history []any
		if prev != nil {
			history = prev.messages
		}
		reply, err = g.askOpenAI(ctx, a, ag.Name, oc, prompt, want, history)
	} else {
		reply, err = g.askCLI(ctx, a, ag, prompt, want, resumeID)
		if resumeID != "" && errors.Is(err, errSessionMissing) {
			// Nothing to continue: a new session gets the whole task.
			a.Log("AgentSessionMissing", map[string]any{"agent": ag.Name, "session_id": resumeID})
			prompt = fresh
			a.Log("AgentPrompt", map[string]any{"agent": ag.Name, "attempt": int64(a.Number), "prompt": prompt})
			reply, err = g.askCLI(ctx, a, ag, prompt, want, "")
		}
	}
	logReply(a, ag.Name, reply, err)
	if err != nil {
		return nil, err
	}
	if want == nil {
		return map[string]any{"text": reply.Text, "session_id": reply.SessionID}, nil
	}
	text := reply.Text
	if len(reply.Structured) > 0 {
		text = string(reply.Structured)
	}
	v, err := decodeReply(a, want, text, reply.SessionID)
	if err != nil {
		var se *runtime.StepError
		if errors.As(err, &se) && se.Kind == runtime.ErrKindValidation {
			se.Err = &rejectedReply{cause: se.Err, agent: ag.Name, sessionID: reply.SessionID, messages: reply.Messages}
		}
		return nil, err
	}
	return v, nil
}

// continuation opens the prompt of an attempt that continues the session
// of an interrupted one.
func continuation(c *runtime.ContinuedSession) string {
	if c.Hijacked {
		return "This session was handed over to a person, who has now handed it back. Finish the task below from where " +
			"the session stands; do not redo work that is already done.\n\nThe task:\n"
	}
	return "Your work on the task below was interrupted (the process running it stopped). Continue it from where " +
		"the session stands; do not redo work that is already done.\n\nThe task:\n"
}

// logReply records an AgentReply event: the text, the session, and the
// attempt's accounting (tokens, cost), for failed attempts too.
func logReply(a *runtime.Attempt, name string, reply agentReply, err error) {
	if err != nil && reply.SessionID == "" && reply.InputTokens == 0 && reply.OutputTokens == 0 && reply.Text == "" {
		return
	}
	logged := map[string]any{
		"agent": name, "attempt": int64(a.Number), "text": reply.Text,
		"input_tokens": reply.InputTokens, "output_tokens": reply.OutputTokens, "session_id": reply.SessionID,
	}
	if reply.CacheRead > 0 {
		logged["cache_read_tokens"] = reply.CacheRead
	}
	if reply.CacheCreation > 0 {
		logged["cache_creation_tokens"] = reply.CacheCreation
	}
	if reply.Turns > 0 {
		logged["turns"] = reply.Turns
	}
	if reply.CostUSD > 0 {
		logged["cost_usd"] = reply.CostUSD
	}
	if len(reply.Structured) > 0 {
		logged["structured"] = true
	}
	if se := runtime.AsStepError(err); se != nil {
		logged["error"] = se.Message
		logged["error_kind"] = se.Kind
	}
	a.Log("AgentReply", logged)
}

// findAgent resolves one of the step's agent declarations.
func findAgent(a *runtime.Attempt, name string) (*ir.Agent, error) {
	if name == "" {
		return nil, stepErr(runtime.ErrKindInternal, "agent step names no agent")
	}
	if a.Program == nil || a.Program.Agent(name) == nil {
		return nil, stepErr(runtime.ErrKindInternal, "agent %q is not declared in the program", name)
	}
	return a.Program.Agent(name), nil
}

// decodeReply extracts the JSON value from an agent's reply and validates
// it against the declared type. Failures are retryable validation errors
// whose message the next attempt feeds back to the agent. A declared
// session_id field the reply leaves out is the agent's session id.
func decodeReply(a *runtime.Attempt, want *schema.Type, text, session string) (any, error) {
	v, err := ExtractJSON(text, want)
	if err != nil {
		return nil, &runtime.StepError{Kind: runtime.ErrKindValidation, Retry: true, Err: err,
			Message: fmt.Sprintf("the agent's reply is not a JSON value of the output type: %v", err),
			Output:  map[string]any{"text": text, "session_id": session}}
	}
	v = dropOptionalNulls(want, unwrapValue(want, v))
	if obj, ok := v.(map[string]any); ok && want.Kind == schema.Object && session != "" {
		if f := want.Field("session_id"); f != nil && f.Type.Kind == schema.String {
			if s, _ := obj["session_id"].(string); s == "" {
				obj["session_id"] = session
			}
		}
	}
	nv, err := schema.Normalize(want, v, "")
	if err != nil {
		se := &runtime.StepError{Kind: runtime.ErrKindValidation, Retry: true, Err: err,
			Message: fmt.Sprintf("the agent's reply does not match the output type: %v", err),
			Output:  map[string]any{"text": text, "session_id": session}}
		var ve *schema.ValidationError
		if errors.As(err, &ve) {
			se.Path = ve.Path
			if a.NodeID != "" {
				se.Path = joinField(a.NodeID, ve.Path)
			}
		}
		return nil, se
	}
	return nv, nil
}

func joinField(base, path string) string {
	if path == "" {
		return base
	}
	if path[0] == '[' {
		return base + path
	}
	return base + "." + path
}

// cliSettings are a CLI agent's evaluated settings.
type cliSettings struct {
	adapter cliAdapter
	kind    string // claude, codex or gemini
	model   string
	extra   []string
	env     []string
	dir     string
	// agentEnv are the agent's own env settings that hold no secret, and
	// secretEnv the names of those that do, for the session's record.
	agentEnv  map[string]string
	secretEnv []string
}

// resolveCLI evaluates a CLI agent's settings for this attempt.
func (g agentAction) resolveCLI(a *runtime.Attempt, ag *ir.Agent) (cliSettings, error) {
	var cs cliSettings
	kind := ag.Kind
	if kind == "" {
		kind = filepath.Base(ag.CLI)
	}
	adapter, ok := cliAdapterFor(kind)
	if !ok {
		return cs, stepErr(runtime.ErrKindInternal, "agent %s: unknown cli %q (want claude, codex or gemini)", ag.Name, ag.CLI)
	}
	cs.adapter, cs.kind = adapter, kind
	var err error
	if cs.model, err = evalExprString(a, "agent "+ag.Name+" model", ag.Model); err != nil {
		return cs, err
	}
	if cs.extra, err = agentArgs(a, ag); err != nil {
		return cs, err
	}
	if cs.dir, err = stepDir(a); err != nil {
		return cs, err
	}
	if ag.Cwd != nil {
		cwd, err := evalExprString(a, "agent "+ag.Name+" cwd", ag.Cwd)
		if err != nil {
			return cs, err
		}
		if err := checkNUL("agent "+ag.Name+" cwd", cwd); err != nil {
			return cs, err
		}
		if cwd != "" {
			if !filepath.IsAbs(cwd) {
				cwd = filepath.Join(cs.dir, cwd)
			}
			if fi, err := os.Stat(cwd); err != nil || !fi.IsDir() {
				return cs, stepErr(runtime.ErrKindAgent, "agent %s: cwd %s is not a directory", ag.Name, cwd)
			}
			cs.dir = cwd
		}
	}
	cs.env = g.cfg.environFor(a)
	if len(ag.Env) > 0 {
		keys := make([]string, 0, len(ag.Env))
		for k := range ag.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		vals := map[string]string{}
		for _, k := range keys {
			if k == "" || strings.ContainsAny(k, "=\x00") {
				return cs, stepErr(runtime.ErrKindExpr, "agent %s env: invalid variable name %q", ag.Name, k)
			}
			s, err := evalExprString(a, "agent "+ag.Name+" env."+k, ag.Env[k])
			if err != nil {
				return cs, err
			}
			if err := checkNUL("agent "+ag.Name+" env."+k, s); err != nil {
				return cs, err
			}
			vals[k] = s
			if a.Secrets != nil && a.Secrets.Redact(s) != s {
				cs.secretEnv = append(cs.secretEnv, k)
			} else {
				if cs.agentEnv == nil {
					cs.agentEnv = map[string]string{}
				}
				cs.agentEnv[k] = s
			}
		}
		cs.env = mergeEnv(cs.env, vals, keys)
	}
	return cs, nil
}

// agentArgs evaluates an agent's args: one list of strings (numbers and
// bools are formatted).
func agentArgs(a *runtime.Attempt, ag *ir.Agent) ([]string, error) {
	if ag.Args == nil {
		return nil, nil
	}
	what := "agent " + ag.Name + " args"
	v, err := a.Eval(ag.Args)
	if err != nil {
		return nil, evalErr(what, err)
	}
	var l []any
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		l = x
	case []string:
		for _, s := range x {
			l = append(l, s)
		}
	default:
		return nil, stepErr(runtime.ErrKindExpr, "%s: expected a list of strings, got %s", what, schema.Describe(v))
	}
	out := make([]string, len(l))
	for i, e := range l {
		s, err := scalarString(e)
		if err != nil {
			return nil, stepErr(runtime.ErrKindExpr, "%s[%d]: %v", what, i, err)
		}
		if err := checkNUL(fmt.Sprintf("%s[%d]", what, i), s); err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// askCLI runs a CLI agent (claude, codex, gemini) in the attempt's
// directory and reads its event stream as it prints.
func (g agentAction) askCLI(ctx context.Context, a *runtime.Attempt, ag *ir.Agent, prompt string, want *schema.Type, resume string) (agentReply, error) {
	cs, err := g.resolveCLI(a, ag)
	if err != nil {
		return agentReply{}, err
	}
	req := cliRequest{Model: cs.model, Extra: cs.extra, Prompt: prompt, Resume: resume,
		MaxTurns: ag.MaxTurns, Permission: ag.PermissionMode, BudgetUSD: ag.MaxBudgetUSD}
	if want != nil && cs.adapter.nativeSchema {
		if doc, ok := strictSchema(agentFacing(want)); ok {
			req.Schema = doc
			if ag.Kind == "codex" || filepath.Base(ag.CLI) == "codex" {
				tmp, err := os.MkdirTemp("", "smithc-schema-")
				if err != nil {
					return agentReply{}, stepErr(runtime.ErrKindInternal, "agent %s: writing the output schema: %v", ag.Name, err)
				}
				defer os.RemoveAll(tmp)
				req.SchemaFile = filepath.Join(tmp, "output-schema.json")
				if err := os.WriteFile(req.SchemaFile, doc, 0o600); err != nil {
					return agentReply{}, stepErr(runtime.ErrKindInternal, "agent %s: writing the output schema: %v", ag.Name, err)
				}
				req.Schema = nil
			}
		}
	}
	inv := cs.adapter.invocation(req)
	for i, s := range inv.args {
		if err := checkNUL(fmt.Sprintf("agent %s argument %d", ag.Name, i), s); err != nil {
			return agentReply{}, err
		}
	}
	path, err := lookPath(ag.CLI, cs.env, cs.dir)
	if err != nil {
		return agentReply{}, &runtime.StepError{Kind: runtime.ErrKindAgent, Err: err,
			Message: fmt.Sprintf("agent %s: %v; install it or set cli to its path", ag.Name, err)}
	}
	activities := 0
	parser := cs.adapter.newParser(func(ev map[string]any) {
		activities++
		if activities > maxActivityEvents {
			return
		}
		ev["agent"] = ag.Name
		a.Log(activityEventKind, ev)
		if d, _ := ev["tool"].(string); d != "" {
			a.Heartbeat("agent " + ag.Name + ": " + d)
		}
	})
	// The session is on record as soon as the CLI names it: an attempt
	// after a crash of this process, or a person (smithc hijack),
	// continues it.
	reported := false
	line := func(l []byte) {
		parser.line(l)
		if id := parser.sessionID(); !reported && id != "" {
			reported = true
			a.ReportSession(runtime.AgentSession{Agent: ag.Name, Kind: cs.kind, ID: id, CLI: path, Dir: cs.dir,
				Env: cs.agentEnv, SecretEnv: cs.secretEnv})
		}
	}
	res, err := runProcess(ctx, g.cfg, a, procSpec{
		Path: path, Args: append([]string{ag.CLI}, inv.args...), Dir: cs.dir, Env: cs.env, Stdin: inv.stdin,
		StdoutLine: line,
	})
	if err != nil {
		return agentReply{}, &runtime.StepError{Kind: runtime.ErrKindAgent, Err: err,
			Message: fmt.Sprintf("agent %s: starting %s: %v", ag.Name, ag.CLI, err)}
	}
	if res.CtxErr != nil {
		se := runtime.AsStepError(res.CtxErr)
		se.Message = fmt.Sprintf("agent %s: %v: process group killed", ag.Name, res.CtxErr)
		return agentReply{}, se
	}
	reply, fail := parser.result(res.Stdout)
	if fail != nil && resume != "" && reply.Turns == 0 && sessionMissing(res.Stdout+"\n"+res.Stderr) {
		// The CLI has no record of the session (it was killed before it
		// wrote its transcript): the caller starts a new one.
		return reply, &runtime.StepError{Kind: runtime.ErrKindAgent, Err: errSessionMissing, ExitCode: res.ExitCode,
			Message: fmt.Sprintf("agent %s: %s has no session %s", ag.Name, filepath.Base(ag.CLI), resume)}
	}
	if fail != nil {
		msg := fmt.Sprintf("agent %s: %s", ag.Name, fail.message)
		if fail.kind == "agent" {
			hint := stderrHint(res.Stderr)
			switch {
			case res.ExitCode != 0 && hint != "":
				msg = fmt.Sprintf("agent %s: %s exited with code %d%s", ag.Name, filepath.Base(ag.CLI), res.ExitCode, hint)
			case res.ExitCode != 0:
				msg = fmt.Sprintf("agent %s: %s exited with code %d: %s", ag.Name, filepath.Base(ag.CLI), res.ExitCode, fail.message)
			default:
				msg += hint
			}
		}
		return reply, &runtime.StepError{Kind: fail.kind, ExitCode: res.ExitCode, Status: fail.status, Retry: retryableKinds[fail.kind],
			Message: msg, Output: map[string]any{"text": reply.Text, "session_id": reply.SessionID}}
	}
	if res.ExitCode != 0 {
		return reply, &runtime.StepError{Kind: runtime.ErrKindAgent, ExitCode: res.ExitCode, Retry: true,
			Message: fmt.Sprintf("agent %s: %s exited with code %d%s", ag.Name, filepath.Base(ag.CLI), res.ExitCode, stderrHint(res.Stderr))}
	}
	return reply, nil
}

// errSessionMissing marks an attempt whose CLI could not resume the
// session it was given because it has no record of it.
var errSessionMissing = errors.New("the agent CLI has no record of the session")

// sessionMissing reports whether a CLI's output says the session it was
// asked to resume does not exist. claude prints "No conversation found
// with session ID: ID" when a process killed early never wrote the
// session's transcript.
func sessionMissing(out string) bool {
	return strings.Contains(out, "No conversation found with session ID")
}

// agentFacing is the output type the agent is asked for: a declared
// session_id field is left out, smithc fills it with the session's id.
func agentFacing(t *schema.Type) *schema.Type {
	if t == nil || t.Kind != schema.Object {
		return t
	}
	f := t.Field("session_id")
	if f == nil || f.Type.Kind != schema.String {
		return t
	}
	c := *t
	c.Fields = nil
	for _, g := range t.Fields {
		if g.Name != "session_id" {
			c.Fields = append(c.Fields, g)
		}
	}
	return &c
}
