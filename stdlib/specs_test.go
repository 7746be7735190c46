package stdlib

import (
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/schema"
)

// specSummary is the shape of a spec, for comparison.
type specSummary struct {
	Selectors []string
	Attrs     []string // name, with flags: ! required, # const, @ref
	Blocks    []string // name(label){attrs}[free-form type]
	Output    string
	Parses    bool
}

func attrSummary(a schema.AttrSpec) string {
	s := a.Name
	if a.Required {
		s += "!"
	}
	if a.Const {
		s += "#"
	}
	if a.Ref != "" {
		s += "@" + a.Ref
	}
	if a.Type != nil {
		s += ":" + a.Type.String()
	}
	return s
}

func blockSummary(b schema.BlockSpec) string {
	s := b.Name
	if b.Label != "" {
		s += "(" + b.Label + ")"
	}
	if b.Required {
		s += "!"
	}
	var parts []string
	for _, a := range b.Attrs {
		parts = append(parts, attrSummary(a))
	}
	for _, c := range b.Blocks {
		parts = append(parts, blockSummary(c))
	}
	if len(parts) > 0 {
		s += "{" + strings.Join(parts, " ") + "}"
	}
	if b.FreeForm != nil {
		s += "[" + b.FreeForm.String() + "]"
	}
	return s
}

func TestSpecsShape(t *testing.T) {
	t.Parallel()
	got := map[string]specSummary{}
	for _, s := range Specs() {
		sum := specSummary{Selectors: s.Selectors, Parses: s.ParsesDeclaredOutput}
		for _, a := range s.Attrs {
			sum.Attrs = append(sum.Attrs, attrSummary(a))
		}
		for _, b := range s.Blocks {
			sum.Blocks = append(sum.Blocks, blockSummary(b))
		}
		if s.Output != nil {
			sum.Output = s.Output.String()
		}
		got[s.Name] = sum
	}
	want := map[string]specSummary{
		"compute": {Selectors: []string{"value"}, Attrs: []string{"value!:any"}},
		"shell": {
			Selectors: []string{"run", "exec"},
			Attrs:     []string{"run:string", "exec:[any]", "cwd:string", "allow_failure#:bool"},
			Blocks:    []string{"env[any]"},
			Output:    "{ stdout: string, stderr: string, exit_code: int }",
			Parses:    true,
		},
		"http": {
			Selectors: []string{"http"},
			Blocks:    []string{"http!{method#:string url!:string body:any allow_status#:[int] follow_redirects#:bool headers[string]}"},
			Output:    "{ status: int, headers: any, body: string, json: any }",
		},
		"agent": {
			Selectors: []string{"agent"},
			Attrs:     []string{"agent!@agent", "prompt!:string", "cwd:string"},
			Output:    "{ text: string, session_id: string }",
			Parses:    true,
		},
		"call": {Selectors: []string{"call"}, Blocks: []string{"call(workflow)!{input:any}"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("specs (-want +got):\n%s", diff)
	}
}

// TestSpecsConsistent checks the invariants the checker relies on.
func TestSpecsConsistent(t *testing.T) {
	t.Parallel()
	common := map[string]bool{"needs": true, "timeout": true, "retry": true, "heartbeat_timeout": true, "skip_if": true,
		"cache": true, "continue_on_fail": true, "description": true, "output": true}
	selectorOwner := map[string]string{}
	var names []string
	for _, s := range Specs() {
		names = append(names, s.Name)
		if s.Doc == "" {
			t.Errorf("%s: no doc", s.Name)
		}
		if len(s.Selectors) == 0 {
			t.Errorf("%s: no selector", s.Name)
		}
		for _, sel := range s.Selectors {
			if prev, dup := selectorOwner[sel]; dup {
				t.Errorf("selector %q selects both %s and %s", sel, prev, s.Name)
			}
			selectorOwner[sel] = s.Name
			if s.Attr(sel) == nil && s.Block(sel) == nil {
				t.Errorf("%s: selector %q is neither an attribute nor a block", s.Name, sel)
			}
		}
		checkMembers(t, s.Name, s.Attrs, s.Blocks, common)
		if s.Output != nil {
			if s.Output.Kind != schema.Object {
				t.Errorf("%s: default output %s is not an object", s.Name, s.Output)
			}
			for _, f := range s.Output.Fields {
				if f.Type == nil {
					t.Errorf("%s: output field %s has no type", s.Name, f.Name)
				}
			}
		}
	}
	var actions []string
	for name := range Actions(Config{}) {
		actions = append(actions, name)
	}
	sort.Strings(names)
	sort.Strings(actions)
	if diff := cmp.Diff(names, actions); diff != "" {
		t.Errorf("Specs and Actions name different actions (-specs +actions):\n%s", diff)
	}
}

func checkMembers(t *testing.T, where string, attrs []schema.AttrSpec, blocks []schema.BlockSpec, reserved map[string]bool) {
	t.Helper()
	seen := map[string]bool{}
	for _, a := range attrs {
		if seen[a.Name] || reserved[a.Name] {
			t.Errorf("%s: attribute %q is duplicated or reserved", where, a.Name)
		}
		seen[a.Name] = true
		if (a.Type == nil) == (a.Ref == "") {
			t.Errorf("%s: attribute %q needs exactly one of Type and Ref", where, a.Name)
		}
		if a.Doc == "" {
			t.Errorf("%s: attribute %q has no doc", where, a.Name)
		}
	}
	for _, b := range blocks {
		if seen[b.Name] || reserved[b.Name] {
			t.Errorf("%s: block %q is duplicated or reserved", where, b.Name)
		}
		seen[b.Name] = true
		if b.Doc == "" {
			t.Errorf("%s: block %q has no doc", where, b.Name)
		}
		if b.FreeForm != nil && (len(b.Attrs) > 0 || len(b.Blocks) > 0) {
			t.Errorf("%s: free-form block %q also declares members", where, b.Name)
		}
		checkMembers(t, where+"."+b.Name, b.Attrs, b.Blocks, nil)
	}
}

func TestSpecsAreFresh(t *testing.T) {
	t.Parallel()
	a := Specs()
	a[1].Output.Fields[0].Name = "changed"
	a[0].Selectors[0] = "changed"
	b := Specs()
	if b[1].Output.Fields[0].Name != "stdout" || b[0].Selectors[0] != "value" {
		t.Error("modifying one Specs result changed the next")
	}
}
