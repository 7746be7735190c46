package checker

import (
	"strconv"
	"strings"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
)

// scalarTypes are the built-in type names.
var scalarTypes = []string{"string", "int", "float", "bool", "any"}

// reservedNames may not be node ids, for variables or parameters: they
// are the names expressions read (LANGUAGE.md §2) and the words of the
// expression language.
var reservedNames = map[string]string{
	"input":      "it names the workflow's input",
	"run":        "it names the run's metadata (run.id, run.attempt)",
	"iteration":  "it names a loop's iteration count",
	"index":      "it names the element index in a for",
	"error":      "it names the failure in a catch or a retry's when",
	"true":       "it is an expression literal",
	"false":      "it is an expression literal",
	"nil":        "it is an expression literal",
	"not":        "it is an expression operator",
	"and":        "it is an expression operator",
	"or":         "it is an expression operator",
	"in":         "it is an expression operator",
	"matches":    "it is an expression operator",
	"contains":   "it is an expression operator",
	"startsWith": "it is an expression operator",
	"endsWith":   "it is an expression operator",
	"let":        "it is an expression keyword",
	"if":         "it is an expression keyword",
	"else":       "it is an expression keyword",
}

// typeDecl is a declared type being resolved.
type typeDecl struct {
	decl  *ast.TypeDecl
	state int // 0 new, 1 resolving, 2 done
}

// collectDecls records the top-level declarations of every file and
// reports duplicates. Workflows are taken from the main file only.
func (c *checker) collectDecls(files []*ast.File) {
	typeAt := map[string]diag.Range{}
	agentAt := map[string]diag.Range{}
	fragAt := map[string]diag.Range{}
	wfAt := map[string]diag.Range{}
	for fi, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.TypeDecl:
				name := d.Name.Name
				if isScalar(name) {
					c.errorf(d.Name.Range, "reserved-name", "cannot declare type %q: it is a built-in type", name)
					continue
				}
				if c.dup("type", d.Name, typeAt) {
					continue
				}
				c.types[name] = &typeDecl{decl: d}
			case *ast.AgentDecl:
				if c.dup("agent", d.Name, agentAt) {
					continue
				}
				c.info.Agents[d.Name.Name] = d
			case *ast.FragmentDecl:
				if c.dup("fragment", d.Name, fragAt) {
					continue
				}
				c.info.Fragments[d.Name.Name] = d
			case *ast.WorkflowDecl:
				if fi != 0 {
					continue // workflows of imported files are not part of the program
				}
				if c.dup("workflow", d.Name, wfAt) {
					continue
				}
				c.workflows[d.Name.Name] = d
				c.wfOrder = append(c.wfOrder, d)
				c.info.Workflows = append(c.info.Workflows, d)
			}
		}
	}
}

// dup reports name as a duplicate if seen has it, and records it otherwise.
func (c *checker) dup(kind string, name ast.Ident, seen map[string]diag.Range) bool {
	if prev, ok := seen[name.Name]; ok {
		c.report(diag.Diagnostic{
			Code:    "duplicate-" + kind,
			Summary: "duplicate " + kind + " " + strconv.Quote(name.Name) + ": it is declared twice",
			Detail:  "Each " + kind + " name must be unique in the program (imports included); rename one of them.",
			Subject: name.Range,
			Related: []diag.Related{{Range: prev, Message: "first declared here"}},
		})
		return true
	}
	seen[name.Name] = name.Range
	return false
}

func isScalar(name string) bool {
	for _, s := range scalarTypes {
		if s == name {
			return true
		}
	}
	return false
}

func quote(s string) string { return strconv.Quote(s) }

// checkReserved reports a reserved name used for an id, variable or
// parameter. what is "step id", "for variable", ...
func (c *checker) checkReserved(id ast.Ident, what string) bool {
	why, ok := reservedNames[id.Name]
	if !ok {
		return false
	}
	c.report(diag.Diagnostic{
		Code:    "reserved-name",
		Summary: quote(id.Name) + " is reserved and cannot be used as " + article(what) + ": " + why,
		Detail:  "Reserved names: input, run, iteration, index, error and the words of the expression language; choose another name.",
		Subject: id.Range,
	})
	return true
}

// article prefixes a noun with "a" or "an".
func article(noun string) string {
	if noun != "" && strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}
