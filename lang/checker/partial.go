package checker

import (
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/lang/parser"
)

// declKindOfCode maps the codes of unresolved references to the kind of
// declaration that would have resolved them.
var declKindOfCode = map[string]string{
	"unknown-type":     "type",
	"unknown-agent":    "agent",
	"unknown-fragment": "fragment",
	"unknown-workflow": "workflow",
}

// dropCascades removes, from the diagnostics of a check over a partial
// tree (declarations that did not parse were left out), the ones that a
// left-out declaration may have caused: a reference to a type, agent,
// fragment or workflow that a skipped declaration of that kind declares.
// When something was skipped without a kind or a name (text a lexical
// error left unparsed, a misspelt keyword) or an import was skipped, any
// unresolved reference may be its doing, so all of them are dropped.
// Syntax diagnostics are kept as they are.
func dropCascades(ds diag.Diagnostics, skipped []parser.Skipped) diag.Diagnostics {
	blind := false
	declared := map[string]bool{} // kind + "\x00" + name
	for _, s := range skipped {
		if s.Kind == "" || s.Name == "" || s.Kind == "import" {
			blind = true
		}
		declared[s.Kind+"\x00"+s.Name] = true
	}
	out := ds[:0]
	for _, d := range ds {
		if kind, ok := declKindOfCode[d.Code]; ok {
			if blind || declared[kind+"\x00"+quotedName(d.Summary)] {
				continue
			}
		}
		if blind && (d.Code == "unknown-name" || d.Code == "unknown-node") {
			continue
		}
		out = append(out, d)
	}
	return out
}

// quotedName returns the first double-quoted name in s ("unknown type
// \"Analysis\"" gives Analysis).
func quotedName(s string) string {
	start := -1
	for i := 0; i < len(s); i++ {
		if s[i] != '"' {
			continue
		}
		if start < 0 {
			start = i + 1
			continue
		}
		return s[start:i]
	}
	return ""
}
