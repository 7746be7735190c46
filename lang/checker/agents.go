package checker

import (
	"path"
	"strings"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/schema"
)

// agentKinds are the CLIs smithc has an adapter for.
var agentKinds = []string{"claude", "codex", "gemini"}

// PermissionModes are the values of an agent's permission_mode.
var PermissionModes = []string{"default", "plan", "accept_edits", "bypass"}

var agentRules = []attrRule{
	{name: "cli", kind: rString},
	{name: "command", kind: rString},
	{name: "kind", kind: rEnum, enum: agentKinds},
	{name: "model", kind: rStatic, typ: schema.StringType},
	{name: "args", kind: rStatic, typ: schema.ListOf(schema.StringType)},
	{name: "cwd", kind: rStatic, typ: schema.StringType},
	{name: "max_turns", kind: rPosInt},
	{name: "permission_mode", kind: rEnum, enum: PermissionModes},
	{name: "max_budget_usd", kind: rConst, typ: schema.FloatType},
	descRule,
}

var openaiRules = []attrRule{
	{name: "base_url", kind: rStatic, typ: schema.StringType},
	{name: "model", kind: rStatic, typ: schema.StringType, required: true},
	{name: "api_key", kind: rStatic, typ: schema.StringType},
	{name: "system", kind: rStatic, typ: schema.StringType},
	{name: "temperature", kind: rConst, typ: schema.FloatType},
	{name: "max_tokens", kind: rPosInt},
	{name: "timeout", kind: rDuration},
}

// cliOnly are agent settings that only some CLIs support.
var cliOnly = map[string][]string{
	"max_turns":      {"claude"},
	"max_budget_usd": {"claude"},
}

// checkAgents checks every agent declaration: exactly one of cli, command
// (with kind) and an openai block, and settings fixed before the run
// (constants, env(), secret()).
func (c *checker) checkAgents() {
	for _, f := range c.info.Files {
		for _, d := range f.Decls {
			a, ok := d.(*ast.AgentDecl)
			if !ok || c.info.Agents[a.Name.Name] != a {
				continue
			}
			c.checkAgent(a)
		}
	}
}

func (c *checker) checkAgent(a *ast.AgentDecl) {
	owner := "agent " + quote(a.Name.Name)
	byName := (&attrSet{c: c, owner: owner, at: a.Name.Range}).check(a.Attrs, agentRules)
	blocks := c.checkBlocks(a.Blocks, []string{"openai", "env"}, owner)
	if env := blocks["env"]; env != nil {
		c.checkBlocks(env.Blocks, nil, "the env block of "+owner)
		set := &attrSet{c: c, owner: "the env block of " + owner}
		seen := map[string]bool{}
		for _, at := range env.Attrs {
			if at == nil {
				continue
			}
			if seen[at.Name.Name] {
				c.errorf(at.Name.Range, "duplicate-attribute", "duplicate variable %q in the env block of %s", at.Name.Name, owner)
				continue
			}
			seen[at.Name.Name] = true
			set.value(at, attrRule{name: at.Name.Name, kind: rStatic, typ: schema.StringType})
		}
	}
	oa := blocks["openai"]
	if oa != nil {
		c.checkBlocks(oa.Blocks, nil, "openai")
		ob := (&attrSet{c: c, owner: "the openai block of " + owner, at: oa.Kind.Range}).check(oa.Attrs, openaiRules)
		c.checkNumber(ob.get("temperature"), "temperature of the openai block of "+owner, 0, 2)
	}
	c.checkNumber(byName.get("max_budget_usd"), "max_budget_usd of "+owner, 0, -1)
	cli, cmd, kind := byName.get("cli"), byName.get("command"), byName.get("kind")
	switch {
	case cli == nil && cmd == nil && oa == nil:
		c.report(diag.Diagnostic{Code: "missing-attribute", Summary: owner + " is missing cli = \"claude\" | \"codex\" | \"gemini\" or an openai { ... } block",
			Subject: a.Name.Range})
		return
	case cli != nil && cmd != nil:
		c.errorf(cmd.Name.Range, "conflicting-attributes", "%s sets both cli and command; keep one (command = \"...\" goes with kind = \"claude\" | \"codex\" | \"gemini\")", owner)
		return
	case (cli != nil || cmd != nil) && oa != nil:
		c.errorf(oa.Kind.Range, "conflicting-attributes", "%s sets both cli and openai; keep one", owner)
		return
	case oa != nil:
		for _, n := range []string{"model", "args", "kind", "cwd", "max_turns", "permission_mode", "max_budget_usd"} {
			if at := byName.get(n); at != nil && n == "model" {
				c.errorf(at.Name.Range, "conflicting-attributes", "%s of %s belongs inside its openai block", n, owner)
			} else if at != nil {
				c.errorf(at.Name.Range, "conflicting-attributes", "%s of %s is a CLI setting; an openai agent does not take it", n, owner)
			}
		}
		if env := blocks["env"]; env != nil {
			c.errorf(env.Kind.Range, "conflicting-attributes", "the env block of %s is a CLI setting; an openai agent does not take it", owner)
		}
		return
	}
	k := AgentKind(c.constStr(cli), c.constStr(cmd), c.constStr(kind))
	switch {
	case cmd != nil && kind == nil:
		c.report(diag.Diagnostic{Code: "missing-attribute", Summary: owner + " sets command but not kind",
			Detail: "Say which CLI the command is, for example kind = \"claude\".", Subject: cmd.Name.Range})
		return
	case cli != nil && k == "":
		c.report(diag.Diagnostic{Code: "bad-value",
			Summary: "cli of " + owner + " must be one of \"claude\" | \"codex\" | \"gemini\" (or a path to one of them), not " + quote(c.constStr(cli)),
			Hint:    didYouMean(c.constStr(cli), agentKinds),
			Detail:  "For a program with another name, write command = \"/path/to/program\" and kind = \"claude\" | \"codex\" | \"gemini\".",
			Subject: cli.Value.Range})
		return
	}
	for n, kinds := range cliOnly {
		if at := byName.get(n); at != nil && indexOf(kinds, k) < 0 {
			c.errorf(at.Name.Range, "unsupported-attribute", "%s of %s: the %s CLI has no such option (only %s)", n, owner, k, strings.Join(kinds, ", "))
		}
	}
}

// AgentKind is the adapter of a CLI agent: kind when set, else the name of
// the cli program when it is one of claude, codex, gemini; "" otherwise.
func AgentKind(cli, command, kind string) string {
	if kind != "" {
		return kind
	}
	if command != "" {
		return ""
	}
	base := path.Base(cli)
	if indexOf(agentKinds, base) >= 0 && (base == cli || path.IsAbs(cli) || strings.Contains(cli, "/")) {
		return base
	}
	return ""
}

func (c *checker) constStr(a *ast.Attr) string {
	if a == nil {
		return ""
	}
	s, _ := c.info.Consts[a].(string)
	return s
}

// checkNumber checks that a constant attribute is a number in [lo, hi]
// (hi < 0: no upper bound).
func (c *checker) checkNumber(a *ast.Attr, what string, lo, hi float64) {
	if a == nil {
		return
	}
	v, ok := c.info.Consts[a]
	if !ok {
		return
	}
	var f float64
	switch x := v.(type) {
	case int64:
		f = float64(x)
	case float64:
		f = x
	default:
		c.errorf(a.Value.Range, "bad-value", "%s must be a number, not %s", what, schema.Describe(v))
		return
	}
	if f < lo || (hi >= 0 && f > hi) || (lo == 0 && hi < 0 && f <= 0) {
		if hi >= 0 {
			c.errorf(a.Value.Range, "bad-value", "%s must be between %g and %g, not %g", what, lo, hi, f)
		} else {
			c.errorf(a.Value.Range, "bad-value", "%s must be more than 0, not %g", what, f)
		}
		return
	}
	c.info.Consts[a] = f
}
