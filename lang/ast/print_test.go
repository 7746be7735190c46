package ast

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/lang/diag"
)

// r builds a one-line range for the tests.
func r(line, from, to int) diag.Range {
	return diag.Range{File: "t.smw", Start: diag.Pos{Line: line, Col: from}, End: diag.Pos{Line: line, Col: to}}
}

func TestFprint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file *File
		want string
	}{
		{
			name: "nil file",
			file: nil,
			want: "file -\n",
		},
		{
			name: "step with template and block",
			file: &File{Name: "t.smw", Range: r(1, 1, 40), Decls: []Decl{
				&WorkflowDecl{KeywordRange: r(1, 1, 9), Name: Ident{Name: "w", Range: r(1, 10, 11)}, Range: r(1, 1, 40),
					Body: &Body{Range: r(1, 12, 40), Nodes: []Stmt{
						&StepStmt{KeywordRange: r(1, 14, 18), ID: Ident{Name: "s", Range: r(1, 19, 20)}, Range: r(1, 14, 38),
							Output: &ListType{Elem: &NamedType{Name: "string", Range: r(1, 30, 36)}, Range: r(1, 29, 37)},
							Attrs: []*Attr{{Name: Ident{Name: "run", Range: r(1, 22, 25)}, Range: r(1, 22, 28),
								Value: &Expr{Src: `"a${x}"`, Range: r(1, 28, 35), Template: &Template{Parts: []TemplatePart{
									{Lit: "a"}, {Expr: &Expr{Src: "x", Range: r(1, 32, 33)}}}}}}},
							Blocks: []*Block{{Kind: Ident{Name: "call", Range: r(1, 2, 6)}, Label: &Ident{Name: "c", Range: r(1, 7, 8)}, Range: r(1, 2, 11)}},
						},
					}}},
			}},
			want: `file t.smw 1:1-1:40
  workflow 1:1-1:40
    keyword 1:1-1:9
    name w 1:10-1:11
    input -
    body 1:12-1:40
      step 1:14-1:38
        keyword 1:14-1:18
        id s 1:19-1:20
        output list 1:29-1:37
          elem named string 1:30-1:36
        attr 1:22-1:28
          name run 1:22-1:25
          value 1:28-1:35 "\"a${x}\""
            template
              lit "a"
              interp 1:32-1:33 "x"
        block 1:2-1:11
          kind call 1:2-1:6
          label c 1:7-1:8
`,
		},
		{
			name: "partial tree",
			file: &File{Name: "t.smw", Range: r(1, 1, 5), Decls: []Decl{
				&WorkflowDecl{Name: Ident{Name: "w"}},
				&FragmentDecl{Params: []*Field{{Name: Ident{Name: "p"}}}},
				&WorkflowDecl{Body: &Body{Nodes: []Stmt{
					&BranchStmt{}, &TryStmt{}, &MatchStmt{Arms: []*WhenArm{{}}}, &ForStmt{}, &UseStmt{Args: []*Expr{nil}},
				}}},
			}},
			want: `file t.smw 1:1-1:5
  workflow 0:0-0:0
    keyword 0:0-0:0
    name w 0:0-0:0
    input -
    body -
  fragment 0:0-0:0
    keyword 0:0-0:0
    name  0:0-0:0
    param 0:0-0:0
      name p 0:0-0:0
      type -
      default -
    body -
  workflow 0:0-0:0
    keyword 0:0-0:0
    name  0:0-0:0
    input -
    body 0:0-0:0
      branch 0:0-0:0
        keyword 0:0-0:0
        pred -
        then -
        else -
      try 0:0-0:0
        keyword 0:0-0:0
        body -
        catch -
        finally -
      match 0:0-0:0
        keyword 0:0-0:0
        source  0:0-0:0
        when 0:0-0:0
          keyword 0:0-0:0
          pred -
          body -
        else -
      for 0:0-0:0
        keyword 0:0-0:0
        var  0:0-0:0
        list -
        body -
      use 0:0-0:0
        keyword 0:0-0:0
        fragment  0:0-0:0
        arg -
        prefix  0:0-0:0
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			if err := Fprint(&b, tt.file); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, b.String()); diff != "" {
				t.Errorf("Fprint (-want +got):\n%s", diff)
			}
		})
	}
}
