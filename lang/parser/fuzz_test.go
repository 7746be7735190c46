package parser

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/tools/txtar"

	"github.com/smithc/smithc/internal/fuzzguard"
	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
)

// FuzzParse checks that Parse never panics, that every diagnostic's
// subject and every expression's range lie inside the source with
// consistent line and column numbers, and that each expression's range
// covers exactly its source text (also in the declarations that parsed
// in a file with errors). It also checks that error recovery reports
// nothing caused by a neighbour: after a clean declaration the input
// has exactly the errors it has alone, and a clean declaration after it
// adds none. Seeds: examples and parse goldens. An input that takes more
// than 10s or 1 GiB fails (internal/fuzzguard).
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"../../examples/*.smw", "../../examples/*/*.smw"} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			if src, err := os.ReadFile(p); err == nil {
				f.Add(src)
			}
		}
	}
	archives, _ := filepath.Glob("../../testdata/golden/parse/*.txtar")
	for _, p := range archives {
		a, err := txtar.ParseFile(p)
		if err != nil {
			continue
		}
		for _, file := range a.Files {
			if file.Name == "in.smw" {
				f.Add(file.Data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		var (
			file    *ast.File
			skipped []Skipped
			diags   diag.Diagnostics
		)
		fuzzguard.Run(t, src, func() { file, skipped, diags = ParseRecovered("in.smw", src) })
		if file == nil {
			t.Fatal("nil file")
		}
		for _, k := range skipped {
			checkRange(t, src, k.Range, "skipped "+k.Kind+" "+k.Name)
		}
		if len(skipped) > 0 && !diags.HasErrors() {
			t.Errorf("skipped %v without errors", skipped)
		}
		// The printer must cope with partial trees too.
		if err := ast.Fprint(io.Discard, file); err != nil {
			t.Fatal(err)
		}
		for _, d := range diags {
			if d.Severity != diag.Error {
				t.Errorf("diagnostic without error severity: %s", d)
			}
			checkRange(t, src, d.Subject, d.String())
		}
		checkNeighbours(t, src, diags)
		walkExprs(file, func(e *ast.Expr) {
			checkExpr(t, src, e)
			if e.Template == nil {
				return
			}
			for _, p := range e.Template.Parts {
				if p.Expr != nil {
					checkExpr(t, src, p.Expr)
				}
			}
		})
	})
}

// cleanDecl is a declaration without errors, three lines long.
const cleanDecl = "workflow zz_clean {\n  step zz { value = 1 }\n}\n"

// checkNeighbours checks that a clean declaration before src changes
// none of its diagnostics, and that one after it adds none.
func checkNeighbours(t *testing.T, src []byte, diags diag.Diagnostics) {
	t.Helper()
	if bytes.HasPrefix(src, []byte("\ufeff")) {
		return // after a declaration, a byte order mark is not one
	}
	_, before := Parse("in.smw", append([]byte(cleanDecl), src...))
	if got, want := strings.Join(keys(before, 0), "\n"), strings.Join(keys(diags, 3), "\n"); got != want {
		t.Errorf("after a clean declaration:\n got %s\nwant %s", got, want)
	}
	_, after := Parse("in.smw", append(append(append([]byte{}, src...), '\n'), cleanDecl...))
	if len(after) > len(diags) && !strings.Contains(after.Error(), "nested too deeply") {
		// (Unclosed brackets still count towards the nesting limit in
		// the declaration after them: a true error.)
		t.Errorf("a clean declaration after the input adds errors:\n got %s\nwant %s", after, diags)
	}
}

// checkExpr checks that e's range lies in src and covers exactly e.Src.
func checkExpr(t *testing.T, src []byte, e *ast.Expr) {
	t.Helper()
	checkRange(t, src, e.Range, e.Src)
	if e.Range.Start.Offset <= e.Range.End.Offset && e.Range.End.Offset <= len(src) {
		if got := string(src[e.Range.Start.Offset:e.Range.End.Offset]); got != e.Src {
			t.Errorf("expression range %s covers %q, Src is %q", e.Range, got, e.Src)
		}
	}
}

// checkRange checks that r lies inside src, Start <= End, and that its
// lines and columns agree with its offsets.
func checkRange(t *testing.T, src []byte, r diag.Range, what string) {
	t.Helper()
	if r.Start.Offset < 0 || r.End.Offset > len(src) || r.Start.Offset > r.End.Offset {
		t.Errorf("%s: range %d..%d outside source of %d bytes or reversed", what, r.Start.Offset, r.End.Offset, len(src))
		return
	}
	for _, p := range []diag.Pos{r.Start, r.End} {
		if want := posOf(src, p.Offset); want != p {
			t.Errorf("%s: position %+v, want %+v", what, p, want)
		}
	}
}

// posOf computes the position of byte offset off from scratch.
func posOf(src []byte, off int) diag.Pos {
	p := diag.Pos{Offset: off, Line: 1, Col: 1}
	i := 0
	if bytes.HasPrefix(src, []byte("\ufeff")) && off >= 3 {
		i = 3 // a byte order mark takes no column
	}
	for i < off {
		if src[i] == '\n' {
			p.Line++
			p.Col = 1
			i++
			continue
		}
		_, size := utf8.DecodeRune(src[i:])
		if i+size > off {
			size = off - i
		}
		i += size
		p.Col++
	}
	return p
}

// walkExprs calls fn on every expression of the tree.
func walkExprs(n any, fn func(*ast.Expr)) {
	visit := func(e *ast.Expr) {
		if e != nil {
			fn(e)
		}
	}
	attrs := func(as []*ast.Attr) {
		for _, a := range as {
			visit(a.Value)
		}
	}
	switch n := n.(type) {
	case *ast.File:
		for _, d := range n.Decls {
			walkExprs(d, fn)
		}
	case *ast.TypeDecl:
		walkFields(n.Fields, fn)
	case *ast.AgentDecl:
		attrs(n.Attrs)
		for _, b := range n.Blocks {
			walkExprs(b, fn)
		}
	case *ast.Block:
		attrs(n.Attrs)
		for _, b := range n.Blocks {
			walkExprs(b, fn)
		}
	case *ast.FragmentDecl:
		walkFields(n.Params, fn)
		walkExprs(n.Body, fn)
	case *ast.WorkflowDecl:
		if n.Input != nil {
			walkFields(n.Input.Fields, fn)
		}
		walkExprs(n.Body, fn)
	case *ast.Body:
		if n == nil {
			return
		}
		attrs(n.Attrs)
		for _, s := range n.Nodes {
			walkExprs(s, fn)
		}
	case *ast.StepStmt:
		walkType(n.Output, fn)
		attrs(n.Attrs)
		for _, b := range n.Blocks {
			walkExprs(b, fn)
		}
	case *ast.ApprovalStmt:
		walkType(n.Output, fn)
		attrs(n.Attrs)
		for _, b := range n.Blocks {
			walkExprs(b, fn)
		}
	case *ast.EventStmt:
		walkType(n.Output, fn)
		attrs(n.Attrs)
	case *ast.TimerStmt:
		attrs(n.Attrs)
	case *ast.SequenceStmt:
		walkExprs(n.Body, fn)
	case *ast.ParallelStmt:
		walkExprs(n.Body, fn)
	case *ast.LoopStmt:
		walkExprs(n.Body, fn)
	case *ast.WorktreeStmt:
		walkExprs(n.Body, fn)
	case *ast.ForStmt:
		visit(n.List)
		walkExprs(n.Body, fn)
	case *ast.BranchStmt:
		visit(n.Pred)
		walkExprs(n.Then, fn)
		if n.Else != nil {
			walkExprs(n.Else.Body, fn)
		}
	case *ast.MatchStmt:
		for _, a := range n.Arms {
			visit(a.Pred)
			walkExprs(a.Body, fn)
		}
		if n.Else != nil {
			walkExprs(n.Else.Body, fn)
		}
	case *ast.UseStmt:
		for _, a := range n.Args {
			visit(a)
		}
	case *ast.TryStmt:
		walkExprs(n.Try, fn)
		walkExprs(n.Catch, fn)
		walkExprs(n.Finally, fn)
	}
}

func walkFields(fs []*ast.Field, fn func(*ast.Expr)) {
	for _, f := range fs {
		if f.Default != nil {
			fn(f.Default)
		}
		walkType(f.Type, fn)
	}
}

func walkType(t ast.TypeExpr, fn func(*ast.Expr)) {
	switch t := t.(type) {
	case *ast.ListType:
		walkType(t.Elem, fn)
	case *ast.ObjectType:
		walkFields(t.Fields, fn)
	}
}
