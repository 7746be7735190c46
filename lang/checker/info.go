package checker

import (
	exprparser "github.com/expr-lang/expr/parser"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/schema"
)

// Info is what the checker learned about a program that checked clean
// (and, best effort, about one that did not). The compiler lowers the AST
// to IR with it; it never re-derives types or names.
//
// Maps are keyed by AST pointers. Fragment bodies are checked once, in the
// fragment's own scope; their entries are keyed by the fragment's AST
// nodes, and the compiler applies the mount prefix.
type Info struct {
	// Files are the parsed files: the main file first, then its imports
	// in the order they were resolved.
	Files []*ast.File

	Workflows []*ast.WorkflowDecl          // of the main file, in source order
	Fragments map[string]*ast.FragmentDecl // every fragment in scope, by name
	Agents    map[string]*ast.AgentDecl    // every agent in scope, by name
	Types     map[string]*schema.Type      // every declared type, by name

	// Inputs is each workflow's input schema (an Object).
	Inputs map[*ast.WorkflowDecl]*schema.Type
	// WorkflowOutputs is the type of each workflow's result.
	WorkflowOutputs map[*ast.WorkflowDecl]*schema.Type
	// Params is each fragment's parameter types, in order.
	Params map[*ast.FragmentDecl][]*schema.Field

	// Outputs is the output type of every step, approval and event, as
	// read inside its own scope (approvals include approved, by, note).
	Outputs map[ast.Stmt]*schema.Type
	// Actions is the action name of every step ("compute", "shell", ...).
	Actions map[*ast.StepStmt]string
	// Calls is the called workflow of every call step.
	Calls map[*ast.StepStmt]*ast.WorkflowDecl
	// StepAgents is the agent of every agent step.
	StepAgents map[*ast.StepStmt]*ast.AgentDecl
	// StepFallbacks are the agents tried after it, in order, for a step
	// with agent = [primary, fallback, ...].
	StepFallbacks map[*ast.StepStmt][]*ast.AgentDecl
	// Needs resolves every needs attribute to the nodes it names.
	Needs map[ast.Stmt][]ast.Stmt
	// Uses resolves every use statement to its fragment.
	Uses map[*ast.UseStmt]*ast.FragmentDecl

	// ExprTypes is the checked type of every run-time expression
	// (templates are strings).
	ExprTypes map[*ast.Expr]*schema.Type
	// Refs lists, for every run-time expression (and every interpolation of
	// a template, keyed by the part's Expr), the names it reads.
	Refs map[*ast.Expr][]Ref

	// Consts holds the evaluated value of every constant (graph)
	// attribute: time.Duration for durations, int64 for integers, string,
	// bool, []string for needs-like lists.
	Consts map[*ast.Attr]any

	// Secrets is the name of every variable read with secret("NAME") in
	// the program, sorted: a run resolves them all when it starts, so that
	// it knows every secret it must keep out of the store.
	Secrets []string

	// trees holds the expr-lang parse of every run-time expression (and
	// interpolation) that parsed, for TakeTree (with Config.KeepTrees).
	trees map[*ast.Expr]*exprparser.Tree
}

// TakeTree returns the checker's expr-lang parse of the run-time
// expression e (made with no configuration: exprparser.Parse(e.Src)) and
// forgets it; nil when there is none (a template, a constant, a tree
// already taken, or a check without Config.KeepTrees). The compiler compiles the tree instead of parsing e
// again; compiling changes a tree, so each is handed out once.
func (i *Info) TakeTree(e *ast.Expr) *exprparser.Tree {
	t := i.trees[e]
	if t != nil {
		delete(i.trees, e)
	}
	return t
}

// RefKind tells what a name in an expression means.
type RefKind uint8

// Kinds of names.
const (
	RefNode      RefKind = iota + 1 // a step, approval, event (Stmt is set)
	RefInput                        // input
	RefRun                          // run
	RefIteration                    // iteration, in a loop
	RefIndex                        // index, in a for
	RefForVar                       // the variable of an enclosing for (Stmt is the *ast.ForStmt)
	RefError                        // error, in a catch or a retry's when
	RefParam                        // a fragment parameter
)

// Ref is one name an expression reads.
type Ref struct {
	Name string
	Kind RefKind
	Stmt ast.Stmt // for RefNode: the node; for RefForVar: the *ast.ForStmt
}
