package checker

import (
	"testing"

	"github.com/smithc/smithc/lang/ast"
)

// TestPartialTrees checks hand-built trees with missing parts (what a
// tool might hand to Check): the checker reports what it can and never
// panics.
func TestPartialTrees(t *testing.T) {
	t.Parallel()
	id := func(s string) ast.Ident { return ast.Ident{Name: s} }
	stmts := []ast.Stmt{
		&ast.StepStmt{ID: id("s"), Attrs: []*ast.Attr{nil, {Name: id("agent")}, {Name: id("timeout")}, {Name: id("needs")}}, Blocks: []*ast.Block{nil, {Kind: id("retry")}, {Kind: id("call")}}},
		&ast.ApprovalStmt{ID: id("a"), Attrs: []*ast.Attr{{Name: id("title")}}},
		&ast.SequenceStmt{},
		&ast.ParallelStmt{},
		&ast.MatchStmt{Source: id("s"), Arms: []*ast.WhenArm{nil, {}}, Else: &ast.ElseArm{}},
		&ast.BranchStmt{},
		&ast.LoopStmt{ID: id("l")},
		&ast.ForStmt{Var: id("x")},
		&ast.TimerStmt{ID: id("t"), Attrs: []*ast.Attr{{Name: id("duration")}, {Name: id("until")}}},
		&ast.EventStmt{ID: id("e")},
		&ast.WorktreeStmt{ID: id("w")},
		&ast.UseStmt{Fragment: id("f"), Prefix: id("m"), Args: []*ast.Expr{nil}},
		&ast.TryStmt{},
		nil,
	}
	f := &ast.File{Name: "in.smw", Decls: []ast.Decl{
		&ast.TypeDecl{Name: id("T"), Fields: []*ast.Field{nil, {Name: id("a")}, {Name: id("b"), Default: &ast.Expr{Src: "1"}}}},
		&ast.AgentDecl{Name: id("ag"), Blocks: []*ast.Block{{Kind: id("openai")}}},
		&ast.FragmentDecl{Name: id("f"), Params: []*ast.Field{nil, {Name: id("p")}}},
		&ast.WorkflowDecl{Name: id("w1")},
		&ast.WorkflowDecl{Name: id("w2"), Input: &ast.InputDecl{}, Body: &ast.Body{Nodes: stmts, Attrs: []*ast.Attr{{Name: id("output")}}}},
		&ast.ImportDecl{Path: "missing.smw"},
	}}
	_, ds := Check([]*ast.File{f}, &Config{Actions: testSpecs()})
	if !ds.HasErrors() {
		t.Error("want errors for a partial tree")
	}
}
