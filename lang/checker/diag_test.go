package checker

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/lang/parser"
)

// TestDiagnosticDetails pins whole diagnostics (detail, hint, related),
// which the one-line golden form does not show.
func TestDiagnosticDetails(t *testing.T) {
	t.Parallel()
	pos := func(off, line, col int) diag.Pos { return diag.Pos{Offset: off, Line: line, Col: col} }
	rng := func(a, b diag.Pos) diag.Range { return diag.Range{File: "in.smw", Start: a, End: b} }
	tests := []struct {
		name string
		src  string
		want diag.Diagnostics
	}{
		{
			name: "parallel sibling",
			src:  "workflow w {\n  parallel {\n    step a { value = 1 }\n    step b { value = a }\n  }\n}\n",
			want: diag.Diagnostics{{
				Severity: diag.Error, Code: "not-finished",
				Summary: `"a" is not guaranteed to have finished before step "b" reads it`,
				Detail:  `"a" runs concurrently with step "b" (in a parallel, or with no order between them).`,
				Hint:    `add needs = [a] to step "b"`,
				Subject: rng(pos(72, 4, 22), pos(73, 4, 23)),
				Related: []diag.Related{{Range: rng(pos(35, 3, 10), pos(36, 3, 11)), Message: `step "a" is declared here`}},
			}},
		},
		{
			name: "later step",
			src:  "workflow w {\n  step a { value = b }\n  step b { value = 1 }\n}\n",
			want: diag.Diagnostics{{
				Severity: diag.Error, Code: "not-finished",
				Summary: `"b" is not guaranteed to have finished before step "a" reads it`,
				Detail:  `"b" runs after step "a"; move the reading node after it.`,
				Subject: rng(pos(32, 2, 20), pos(33, 2, 21)),
				Related: []diag.Related{{Range: rng(pos(43, 3, 8), pos(44, 3, 9)), Message: `step "b" is declared here`}},
			}},
		},
		{
			name: "duplicate id",
			src:  "workflow w {\n  step a { value = 1 }\n  step a { value = 2 }\n}\n",
			want: diag.Diagnostics{{
				Severity: diag.Error, Code: "duplicate-id",
				Summary: `duplicate id "a": it is used twice in workflow "w"`,
				Detail:  "Node ids are durable keys of a run and must be unique in their workflow; rename one of them.",
				Subject: rng(pos(43, 3, 8), pos(44, 3, 9)),
				Related: []diag.Related{{Range: rng(pos(20, 2, 8), pos(21, 2, 9)), Message: "first used here"}},
			}},
		},
		{
			name: "for variable outside its for",
			src:  "workflow w {\n  for x in [1] { step a { value = x } }\n  step b { value = x }\n}\n",
			want: diag.Diagnostics{{
				Severity: diag.Error, Code: "unknown-name",
				Summary: `unknown name "x"`,
				Detail:  `"x" is the variable of a for; it is only defined inside that for's body (after the for, read the body's steps as lists).`,
				Subject: rng(pos(72, 3, 20), pos(73, 3, 21)),
			}},
		},
		{
			name: "no action",
			src:  "workflow w {\n  step s { timeout = \"1m\" }\n}\n",
			want: diag.Diagnostics{{
				Severity: diag.Error, Code: "no-action",
				Summary: `step "s" has no action`,
				Detail:  "A step needs exactly one action: agent, call, exec, http, run, value.",
				Subject: rng(pos(20, 2, 8), pos(21, 2, 9)),
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, ds := parser.Parse("in.smw", []byte(tt.src))
			if ds.HasErrors() {
				t.Fatal(ds.Error())
			}
			_, got := Check([]*ast.File{f}, &Config{Actions: testSpecs()})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}
