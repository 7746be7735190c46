package compiler_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smithc/smithc/compiler"
	"github.com/smithc/smithc/compiler/ir"
)

// TestDOTRendersWithGraphviz proves the DOT output is valid syntax by
// rendering every example's graph with Graphviz's dot.
func TestDOTRendersWithGraphviz(t *testing.T) {
	dot, err := exec.LookPath("dot")
	if err != nil {
		t.Skip("graphviz's dot is not installed (apt-get install graphviz); DOT output not rendered")
	}
	files, _ := filepath.Glob("../examples/*.smw")
	t.Chdir("../examples")
	for _, f := range files {
		name := filepath.Base(f)
		res := compiler.Build(name, config())
		if res.Program == nil {
			t.Fatalf("%s: %v", name, res.Diagnostics)
		}
		for _, wf := range res.Program.Workflows {
			var buf bytes.Buffer
			if err := ir.DOT(&buf, wf); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(dot, "-Tsvg")
			cmd.Stdin = &buf
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || !bytes.Contains(out, []byte("<svg")) {
				t.Errorf("%s/%s: dot failed: %v\n%s\n%s", name, wf.Name, err, stderr.String(), buf.String())
			}
			if strings.Contains(stderr.String(), "syntax error") {
				t.Errorf("%s/%s: dot: %s", name, wf.Name, stderr.String())
			}
		}
	}
}

// TestMermaidRendersWithMermaidCLI renders with mmdc when it is installed.
func TestMermaidRendersWithMermaidCLI(t *testing.T) {
	mmdc, err := exec.LookPath("mmdc")
	if err != nil {
		t.Skip("mermaid-cli (mmdc) is not installed (npm install -g @mermaid-js/mermaid-cli); Mermaid output not rendered")
	}
	t.Chdir("../examples")
	res := compiler.Build("review.smw", config())
	if res.Program == nil {
		t.Fatal(res.Diagnostics)
	}
	var buf bytes.Buffer
	if err := ir.Mermaid(&buf, res.Program.Workflows[0]); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "g.mmd"), filepath.Join(dir, "g.svg")
	if err := writeFile(in, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(mmdc, "-i", in, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("mmdc: %v\n%s", err, b)
	}
}

// TestIDsStableUnderUnrelatedEdits: adding nodes elsewhere in the file
// does not change the durable ids of the existing ones.
func TestIDsStableUnderUnrelatedEdits(t *testing.T) {
	before := `workflow w {
  step a { value = 1 }
  parallel {
    step b { value = a + 1 }
    step c { value = a + 2 }
  }
  match a {
    when a > 0 { step d { value = 1 } }
  }
  for x in [1, 2] { step e { value = x } }
}
`
	after := `workflow w {
  step zero { value = 0 }
  parallel {
    step p1 { value = 1 }
    step p2 { value = 2 }
  }
  step a { value = 1 }
  parallel {
    step b { value = a + 1 }
    step c { value = a + 2 }
  }
  step between { value = 3 }
  match a {
    when a > 0 { step d { value = 1 } }
  }
  for x in [1, 2] { step e { value = x } }
  step last { value = 9 }
}
`
	ids := func(src string) map[string]ir.Kind {
		dir := t.TempDir()
		p := filepath.Join(dir, "w.smw")
		if err := writeFile(p, []byte(src)); err != nil {
			t.Fatal(err)
		}
		res := compiler.Build(p, config())
		if res.Program == nil {
			t.Fatal(res.Diagnostics)
		}
		out := map[string]ir.Kind{}
		ir.Walk(res.Program.Workflows[0].Root, func(n *ir.Node) bool {
			if n.ID != "" {
				out[n.ID] = n.Kind
			}
			return true
		})
		return out
	}
	old, now := ids(before), ids(after)
	for id, kind := range old {
		if now[id] != kind {
			t.Errorf("id %q (%s) changed or vanished after an unrelated edit", id, kind)
		}
	}
	if len(old) < 8 {
		t.Errorf("expected at least 8 ids, got %v", old)
	}
}
