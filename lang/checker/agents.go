package checker

import (
	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/schema"
)

var agentRules = []attrRule{
	{name: "cli", kind: rEnum, enum: []string{"claude", "codex", "gemini"}},
	{name: "model", kind: rStatic, typ: schema.StringType},
	{name: "args", kind: rStatic, typ: schema.ListOf(schema.StringType)},
	descRule,
}

var openaiRules = []attrRule{
	{name: "base_url", kind: rStatic, typ: schema.StringType},
	{name: "model", kind: rStatic, typ: schema.StringType, required: true},
	{name: "api_key", kind: rStatic, typ: schema.StringType},
}

// checkAgents checks every agent declaration: exactly one of cli and an
// openai block, and settings fixed before the run (constants, env(),
// secret()).
func (c *checker) checkAgents() {
	for _, f := range c.info.Files {
		for _, d := range f.Decls {
			a, ok := d.(*ast.AgentDecl)
			if !ok || c.info.Agents[a.Name.Name] != a {
				continue
			}
			owner := "agent " + quote(a.Name.Name)
			byName := (&attrSet{c: c, owner: owner, at: a.Name.Range}).check(a.Attrs, agentRules)
			blocks := c.checkBlocks(a.Blocks, []string{"openai"}, owner)
			oa := blocks["openai"]
			if oa != nil {
				c.checkBlocks(oa.Blocks, nil, "openai")
				(&attrSet{c: c, owner: "the openai block of " + owner, at: oa.Kind.Range}).check(oa.Attrs, openaiRules)
			}
			switch cli := byName["cli"]; {
			case cli == nil && oa == nil:
				c.report(diag.Diagnostic{Code: "missing-attribute", Summary: owner + " is missing cli = \"claude\" | \"codex\" | \"gemini\" or an openai { ... } block",
					Subject: a.Name.Range})
			case cli != nil && oa != nil:
				c.errorf(oa.Kind.Range, "conflicting-attributes", "%s sets both cli and openai; keep one", owner)
			case oa != nil:
				for _, n := range []string{"model", "args"} {
					if at := byName[n]; at != nil {
						c.errorf(at.Name.Range, "conflicting-attributes", "%s of %s belongs inside its openai block", n, owner)
					}
				}
			}
		}
	}
}
