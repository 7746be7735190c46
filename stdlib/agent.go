package stdlib

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/schema"
)

// agentReply is what an agent adapter got back.
type agentReply struct {
	Text         string
	InputTokens  int64
	OutputTokens int64
	SessionID    string
	CostUSD      float64 // when the agent reports it (claude)
}

// agentAction runs `agent = NAME, prompt = TEMPLATE`.
type agentAction struct{ cfg Config }

// Run implements runtime.Action.
func (g agentAction) Run(ctx context.Context, a *runtime.Attempt) (any, error) {
	ag, err := findAgent(a)
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
	if a.Step.DeclaredOutput && a.Node != nil && a.Node.Output != nil {
		want = a.Node.Output
		prompt += jsonInstruction(want)
		prompt += feedback(a.PrevError)
	}
	a.Log("AgentPrompt", map[string]any{"agent": ag.Name, "attempt": int64(a.Number), "prompt": prompt})

	var reply agentReply
	if ag.OpenAI != nil {
		reply, err = g.askOpenAI(ctx, a, ag.Name, oc, prompt)
	} else {
		reply, err = g.askCLI(ctx, a, ag, prompt)
	}
	if err != nil {
		return nil, err
	}
	logged := map[string]any{
		"agent": ag.Name, "attempt": int64(a.Number), "text": reply.Text,
		"input_tokens": reply.InputTokens, "output_tokens": reply.OutputTokens, "session_id": reply.SessionID,
	}
	if reply.CostUSD > 0 {
		logged["cost_usd"] = reply.CostUSD
	}
	a.Log("AgentReply", logged)
	if want == nil {
		return map[string]any{"text": reply.Text}, nil
	}
	return decodeReply(a, want, reply.Text)
}

// findAgent resolves the step's agent declaration.
func findAgent(a *runtime.Attempt) (*ir.Agent, error) {
	name := a.Step.Agent
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
// whose message the next attempt feeds back to the agent.
func decodeReply(a *runtime.Attempt, want *schema.Type, text string) (any, error) {
	v, err := ExtractJSON(text, want)
	if err != nil {
		return nil, &runtime.StepError{Kind: runtime.ErrKindValidation, Retry: true, Err: err,
			Message: fmt.Sprintf("the agent's reply is not a JSON value of the output type: %v", err),
			Output:  map[string]any{"text": text}}
	}
	nv, err := schema.Normalize(want, v, "")
	if err != nil {
		se := &runtime.StepError{Kind: runtime.ErrKindValidation, Retry: true, Err: err,
			Message: fmt.Sprintf("the agent's reply does not match the output type: %v", err),
			Output:  map[string]any{"text": text}}
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

// askCLI runs a CLI agent (claude, codex, gemini) in the attempt's
// directory and parses what it prints.
func (g agentAction) askCLI(ctx context.Context, a *runtime.Attempt, ag *ir.Agent, prompt string) (agentReply, error) {
	adapter, ok := cliAdapterFor(filepath.Base(ag.CLI))
	if !ok {
		return agentReply{}, stepErr(runtime.ErrKindInternal, "agent %s: unknown cli %q (want claude, codex or gemini)", ag.Name, ag.CLI)
	}
	model, err := evalExprString(a, "agent "+ag.Name+" model", ag.Model)
	if err != nil {
		return agentReply{}, err
	}
	extra := make([]string, len(ag.Args))
	for i, e := range ag.Args {
		if extra[i], err = evalExprString(a, fmt.Sprintf("agent %s args[%d]", ag.Name, i), e); err != nil {
			return agentReply{}, err
		}
	}
	inv := adapter.invocation(model, extra, prompt)
	for i, s := range inv.args {
		if err := checkNUL(fmt.Sprintf("agent %s argument %d", ag.Name, i), s); err != nil {
			return agentReply{}, err
		}
	}
	env := g.cfg.environFor(a)
	path, err := lookPath(ag.CLI, env, a.Dir)
	if err != nil {
		return agentReply{}, &runtime.StepError{Kind: runtime.ErrKindAgent, Err: err,
			Message: fmt.Sprintf("agent %s: %v", ag.Name, err)}
	}
	res, err := runProcess(ctx, g.cfg, a, procSpec{
		Path: path, Args: append([]string{ag.CLI}, inv.args...), Dir: a.Dir, Env: env, Stdin: inv.stdin,
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
	reply, perr := adapter.parse(res.Stdout)
	if res.ExitCode != 0 {
		msg := fmt.Sprintf("agent %s: %s exited with code %d", ag.Name, ag.CLI, res.ExitCode)
		if perr == nil && reply.Text != "" {
			msg += ": " + firstLine(reply.Text)
		} else {
			msg += stderrHint(a.Secrets.Redact(res.Stderr))
		}
		return agentReply{}, &runtime.StepError{Kind: runtime.ErrKindAgent, ExitCode: res.ExitCode, Retry: true, Message: msg}
	}
	if perr != nil {
		return agentReply{}, &runtime.StepError{Kind: runtime.ErrKindAgent, Retry: true, Err: perr,
			Message: fmt.Sprintf("agent %s: %v%s", ag.Name, perr, stderrHint(a.Secrets.Redact(res.Stderr)))}
	}
	return reply, nil
}
