// Package ast declares the syntax tree of .smw programs.
//
// The tree is produced by lang/parser and read by lang/checker. Every node
// carries the source range of the whole construct and a range for each part
// a diagnostic may point at (its keyword, its name, ...).
//
// Step-like nodes keep their attributes and nested blocks generically
// ([Attr], [Block]) because the set of attributes depends on the step's
// action, which the checker learns from its configuration; structural parts
// that the grammar fixes (ids, headers, bodies, declared types) have their
// own fields.
package ast

import "github.com/smithc/smithc/lang/diag"

// Node is any syntax tree node.
type Node interface {
	// Span returns the source range of the whole construct.
	Span() diag.Range
}

// Ident is a name with its source range.
type Ident struct {
	Name  string
	Range diag.Range
}

// Span implements Node.
func (i Ident) Span() diag.Range { return i.Range }

// File is one parsed .smw file.
type File struct {
	Name  string // the file name as given to the parser
	Src   []byte // the source text
	Decls []Decl // in source order
	Range diag.Range
}

// Span implements Node.
func (f *File) Span() diag.Range { return f.Range }

// Decl is a top-level declaration: *ImportDecl, *TypeDecl, *AgentDecl,
// *FragmentDecl or *WorkflowDecl.
type Decl interface {
	Node
	decl()
}

// ImportDecl brings the types, agents and fragments of another file into
// scope. Path is relative to the importing file.
//
//	import "shards.smw"
type ImportDecl struct {
	KeywordRange diag.Range
	Path         string // unquoted
	PathRange    diag.Range
	Range        diag.Range
}

// TypeDecl declares a named object type.
//
//	type Analysis {
//	  summary: string
//	  risk: "low" | "medium" | "high"
//	  score?: float
//	}
type TypeDecl struct {
	KeywordRange diag.Range
	Name         Ident
	Fields       []*Field
	Range        diag.Range
}

// AgentDecl declares an AI agent that steps may use.
//
//	agent reviewer { cli = "claude", model = "sonnet" }
//	agent local { openai { base_url = "http://127.0.0.1:8080/v1", model = "qwen" } }
type AgentDecl struct {
	KeywordRange diag.Range
	Name         Ident
	Attrs        []*Attr
	Blocks       []*Block
	Range        diag.Range
}

// FragmentDecl declares a reusable, parameterised list of nodes.
//
//	fragment review_shard(path: string) { step read { run = "git diff -- ${path}" } }
type FragmentDecl struct {
	KeywordRange diag.Range
	Name         Ident
	Params       []*Field // Default is always nil for params
	Body         *Body
	Range        diag.Range
}

// WorkflowDecl declares a workflow. Its attributes are description,
// output, timeout and on_timeout.
//
//	workflow repo_review {
//	  description = "Review a commit"
//	  input { repo: string }
//	  step analyze { ... }
//	  output = analyze
//	}
type WorkflowDecl struct {
	KeywordRange diag.Range
	Name         Ident
	Input        *InputDecl // nil when absent
	// Budget is the run budget, budget { tokens = N, cost_usd = X }; nil
	// when absent.
	Budget *Block
	Body   *Body // attributes and nodes
	Range  diag.Range
}

// InputDecl is a workflow's input schema.
//
//	input { repo: string, max_files: int = 20 }
type InputDecl struct {
	KeywordRange diag.Range
	Fields       []*Field
	Range        diag.Range
}

func (*ImportDecl) decl()   {}
func (*TypeDecl) decl()     {}
func (*AgentDecl) decl()    {}
func (*FragmentDecl) decl() {}
func (*WorkflowDecl) decl() {}

// Span implements Node.
func (d *ImportDecl) Span() diag.Range { return d.Range }

// Span implements Node.
func (d *TypeDecl) Span() diag.Range { return d.Range }

// Span implements Node.
func (d *AgentDecl) Span() diag.Range { return d.Range }

// Span implements Node.
func (d *FragmentDecl) Span() diag.Range { return d.Range }

// Span implements Node.
func (d *WorkflowDecl) Span() diag.Range { return d.Range }

// Span implements Node.
func (d *InputDecl) Span() diag.Range { return d.Range }
