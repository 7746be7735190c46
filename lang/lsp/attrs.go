package lsp

import (
	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/schema"
)

// attrDoc describes an attribute the language itself defines (not a step
// action's, which come from the action specs). The table mirrors the
// checker's rules (LANGUAGE.md); TestAttrTableMatchesChecker checks each
// entry against the checker.
type attrDoc struct {
	name string
	doc  string
	enum []string
}

var (
	needsDoc = attrDoc{name: "needs", doc: "nodes that must finish before this one, besides those its expressions read: `needs = [a, b]`"}
	descDoc  = attrDoc{name: "description", doc: "a sentence about this node, shown by `smithc inspect` and the graph"}
)

// structural lists the attributes of each kind of container, by the
// container's keyword ("workflow", "step", "retry", ...).
var structural = map[string][]attrDoc{
	"workflow": {
		descDoc,
		{name: "output", doc: "the run's result: an expression over the workflow's nodes; default: the output of the last top-level node"},
		{name: "timeout", doc: `a duration ("30m") after which the run stops`},
		{name: "on_timeout", doc: "what a timeout does to the run", enum: []string{"fail", "cancel"}},
	},
	"step": {
		needsDoc, descDoc,
		{name: "timeout", doc: `a duration ("2m"): an attempt that runs longer fails`},
		{name: "heartbeat_timeout", doc: "a duration: an attempt that reports no progress for this long fails"},
		{name: "skip_if", doc: "a predicate; when it holds, the step is skipped and its output is null"},
		{name: "continue_on_fail", doc: "a failed step does not fail the run; its output is null"},
	},
	"retry": {
		{name: "attempts", doc: "how many times to run the step at most (the first run included)"},
		{name: "backoff", doc: "how the delay grows between attempts", enum: []string{"fixed", "linear", "exponential"}},
		{name: "delay", doc: "a duration: the delay before the second attempt"},
		{name: "max_delay", doc: "a duration: the longest delay"},
		{name: "jitter", doc: "a duration: a random amount up to this is added to each delay"},
		{name: "when", doc: "a predicate over `error`: retry only the failures for which it holds"},
	},
	"cache": {
		{name: "key", doc: "an expression; a finished step with the same key (and action) is reused"},
		{name: "ttl", doc: "a duration: how long a cached output may be reused"},
	},
	"approval": {
		{name: "title", doc: "what the person is asked (a template)"},
		{name: "summary", doc: "any value shown with the question"},
		{name: "on_deny", doc: "what a denial does: fail the run, skip the rest of the block, or continue", enum: []string{"fail", "skip", "continue"}},
		{name: "timeout", doc: "a duration after which the approval counts as denied"},
		needsDoc, descDoc,
	},
	"event": {
		{name: "name", doc: "the name of the signal to wait for (`smithc signal RUN NAME`)"},
		{name: "timeout", doc: "a duration to wait at most"},
		{name: "on_timeout", doc: "what a timeout does", enum: []string{"fail", "skip", "continue"}},
		needsDoc, descDoc,
	},
	"timer": {
		{name: "duration", doc: `how long to sleep ("10m"); exactly one of duration and until`},
		{name: "until", doc: "a time (RFC 3339 string) to sleep until"},
		needsDoc, descDoc,
	},
	"sequence": {needsDoc, descDoc},
	"parallel": {{name: "max_concurrency", doc: "how many children run at once at most"}, needsDoc, descDoc},
	"for":      {{name: "max_concurrency", doc: "how many iterations run at once at most"}, needsDoc, descDoc},
	"worktree": {
		{name: "path", doc: "the worktree's directory, relative to the repository"},
		{name: "branch", doc: "the branch to check out (created if missing)"},
		needsDoc, descDoc,
	},
	"loop": {
		{name: "until", doc: "a predicate read after each iteration; the loop ends when it holds"},
		{name: "max_iterations", doc: "the most iterations (required)"},
		{name: "on_max_reached", doc: "what reaching max_iterations does", enum: []string{"fail", "return-last"}},
		needsDoc, descDoc,
	},
	"agent": {
		{name: "cli", doc: "the agent CLI to run", enum: []string{"claude", "codex", "gemini"}},
		{name: "model", doc: "the model name passed to the CLI or API"},
		{name: "args", doc: "extra arguments for the CLI"},
		descDoc,
	},
	"openai": {
		{name: "base_url", doc: "the OpenAI-compatible API's base URL"},
		{name: "model", doc: "the model name (required)"},
		{name: "api_key", doc: "the API key, usually `secret(\"NAME\")` or `env(\"NAME\")`"},
	},
}

// keywordDocs are the hover texts of keywords.
var keywordDocs = map[string]string{
	"import":   "`import \"file.smw\"` brings the types, agents and fragments of another file into scope.",
	"type":     "`type Name { field: type }` declares a named object type.",
	"agent":    "`agent name { cli = \"claude\" }` declares an AI agent that steps may use.",
	"fragment": "`fragment name(param: type) { ... }` declares a reusable list of nodes, mounted with `use`.",
	"workflow": "`workflow name { ... }` declares a workflow: its input, nodes and output.",
	"input":    "`input { field: type = default }` is the workflow's input schema; read it as `input.field`.",
	"step":     "`step id { ... }` is one unit of work with exactly one action; its output is read as `id`.",
	"approval": "`approval id { title = ... }` pauses the run until a person approves or denies.",
	"sequence": "`sequence { ... }` runs its children in order.",
	"parallel": "`parallel { ... }` runs its children concurrently.",
	"match":    "`match step { when PRED { ... } else { ... } }` runs the first arm whose predicate holds.",
	"branch":   "`branch PRED { ... } else { ... }` runs one of two bodies.",
	"loop":     "`loop id { until = PRED, max_iterations = N ... }` repeats its body.",
	"for":      "`for x in LIST { ... }` runs its body once per element; `index` is the position.",
	"timer":    "`timer id { duration = \"10m\" }` is a durable sleep.",
	"event":    "`event id { name = \"...\" }` waits for an external signal.",
	"worktree": "`worktree id { path = ..., branch = ... }` runs its children in a git worktree.",
	"use":      "`use fragment(args) as prefix` mounts a fragment; its ids become `prefix.id`.",
	"try":      "`try { ... } catch { ... } finally { ... }`: catch runs when the body fails, finally either way.",
	"output":   "`output: Type` or `output { field: type }` declares the node's output.",
}

// containerKind is the keyword of a container node.
func containerKind(n ast.Node) string {
	switch n := n.(type) {
	case *ast.WorkflowDecl:
		return "workflow"
	case *ast.AgentDecl:
		return "agent"
	case *ast.StepStmt:
		return "step"
	case *ast.ApprovalStmt:
		return "approval"
	case *ast.EventStmt:
		return "event"
	case *ast.TimerStmt:
		return "timer"
	case *ast.SequenceStmt:
		return "sequence"
	case *ast.ParallelStmt:
		return "parallel"
	case *ast.ForStmt:
		return "for"
	case *ast.WorktreeStmt:
		return "worktree"
	case *ast.LoopStmt:
		return "loop"
	case *ast.Block:
		return n.Kind.Name
	}
	return ""
}

// attrInfo is what the server knows about one attribute name in one
// container: its doc, its enum values, its expected type.
type attrInfo struct {
	name string
	doc  string
	enum []string
	typ  *schema.Type
}

// attrsOf lists the attributes allowed in the container at the end of
// path (the innermost node that holds attributes), with the action specs
// for steps and their blocks.
func (s *Server) attrsOf(path []ast.Node) (kind string, attrs []attrInfo, blocks []string) {
	for i := len(path) - 1; i >= 0; i-- {
		n := path[i]
		if _, ok := n.(*ast.Body); ok && i > 0 {
			n = path[i-1]
			if containerKind(n) == "" {
				return "", nil, nil // arms, try parts and fragments take no attributes
			}
			i--
		}
		kind = containerKind(n)
		if kind == "" {
			continue
		}
		for _, a := range structural[kind] {
			attrs = append(attrs, attrInfo{name: a.name, doc: a.doc, enum: a.enum})
		}
		switch n := n.(type) {
		case *ast.StepStmt:
			blocks = append(blocks, "retry", "cache")
			specs := s.actionsOf(n)
			for _, sp := range specs {
				for _, a := range sp.Attrs {
					attrs = append(attrs, specAttr(a))
				}
				for _, b := range sp.Blocks {
					blocks = append(blocks, b.Name)
				}
			}
		case *ast.AgentDecl:
			blocks = append(blocks, "openai")
		case *ast.Block:
			if i > 0 {
				if st, ok := path[i-1].(*ast.StepStmt); ok {
					for _, sp := range s.actionsOf(st) {
						if bs := sp.Block(n.Kind.Name); bs != nil {
							for _, a := range bs.Attrs {
								attrs = append(attrs, specAttr(a))
							}
							for _, b := range bs.Blocks {
								blocks = append(blocks, b.Name)
							}
						}
					}
				}
			}
		}
		return kind, attrs, blocks
	}
	return "", nil, nil
}

func specAttr(a schema.AttrSpec) attrInfo {
	ai := attrInfo{name: a.Name, doc: a.Doc, typ: a.Type}
	if a.Type != nil && a.Type.Kind == schema.Enum {
		ai.enum = a.Type.Enum
	}
	return ai
}

// actionsOf is the action of a step as far as its attributes select one;
// every action when none is selected yet.
func (s *Server) actionsOf(st *ast.StepStmt) []*schema.ActionSpec {
	var out []*schema.ActionSpec
	for i := range s.cfg.Actions {
		sp := &s.cfg.Actions[i]
		for _, sel := range sp.Selectors {
			found := false
			for _, a := range st.Attrs {
				found = found || a.Name.Name == sel
			}
			for _, b := range st.Blocks {
				found = found || b.Kind.Name == sel
			}
			if found {
				out = append(out, sp)
				break
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	for i := range s.cfg.Actions {
		out = append(out, &s.cfg.Actions[i])
	}
	return out
}
