package compiler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smithc/smithc/compiler"
	"github.com/smithc/smithc/compiler/ir"
)

// TestDOTRendersWithGraphviz proves the DOT output is valid syntax by
// rendering every example's graph, and trickyLabels, with Graphviz's dot.
func TestDOTRendersWithGraphviz(t *testing.T) {
	dot, err := exec.LookPath("dot")
	if err != nil {
		t.Skip("graphviz's dot is not installed (apt-get install graphviz); DOT output not rendered")
	}
	for _, g := range graphWorkflows(t) {
		var buf bytes.Buffer
		if err := ir.DOT(&buf, g.wf); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(dot, "-Tsvg")
		cmd.Stdin = &buf
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || !bytes.Contains(out, []byte("<svg")) {
			t.Errorf("%s: dot failed: %v\n%s\n%s", g.name, err, stderr.String(), buf.String())
		}
		if strings.Contains(stderr.String(), "syntax error") {
			t.Errorf("%s: dot: %s", g.name, stderr.String())
		}
	}
}

// trickyLabels has predicates and lists full of characters that mean
// something in Mermaid or DOT syntax: brackets, braces, parentheses,
// quotes, pipes, semicolons, #entity; codes, &, backslashes, %% comments
// and the keyword end.
const trickyLabels = `workflow end {
  step classify {
    value = { kind: "a;b", n: 3 }
  }
  match classify {
    when classify.kind == "a;b" && classify.n > 1 {
      step s1 { value = 1 }
    }
    when classify.kind == "#quot; [x] (y) {z} ` + "`t`" + ` %% &amp; end \\ \"q\"" {
      step s2 { value = 2 }
    }
    when classify.n < 2 || classify.kind contains "|pipe|" {
      step s3 { value = 3 }
    }
    else {
      step s4 { value = 4 }
    }
  }
  for t in ["a;b", "#c;", "[d]", "e\"f", "-->", "end"] {
    max_concurrency = 2
    step w { value = t }
  }
  loop again {
    until = classify.n >= 2
    max_iterations = 3
    step g { value = 1 }
  }
}
`

type graphCase struct {
	name string
	wf   *ir.Workflow
}

// graphWorkflows compiles every workflow of every example, and of
// trickyLabels, for the rendering tests. It changes into ../examples.
func graphWorkflows(t *testing.T) []graphCase {
	t.Helper()
	files, _ := filepath.Glob("../examples/*.smw")
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	tricky := filepath.Join(t.TempDir(), "tricky_labels.smw")
	if err := writeFile(tricky, []byte(trickyLabels)); err != nil {
		t.Fatal(err)
	}
	files = append(files, tricky)
	t.Chdir("../examples")
	var out []graphCase
	for _, f := range files {
		name := filepath.Base(f)
		res := compiler.Build(f, config())
		if res.Program == nil {
			t.Fatalf("%s: %v", name, res.Diagnostics)
		}
		for _, wf := range res.Program.Workflows {
			out = append(out, graphCase{name + "/" + wf.Name, wf})
		}
	}
	return out
}

// TestMermaidRendersWithMermaidCLI proves the Mermaid output is valid
// syntax by rendering every example's graph, and trickyLabels, with
// mermaid-cli (mmdc),
// which draws in a headless Chromium. It needs mmdc (on PATH, or in
// $SMITHC_MMDC_DIR or $SMITHC_MMDC_DIR/bin, e.g. an npm --prefix) and
// Debian's chromium (or $PUPPETEER_EXECUTABLE_PATH); .ci/run installs
// both best-effort. Starting Chromium costs about 2 s, so all diagrams
// go to mmdc as one Markdown file with one ```mermaid block each and are
// rendered in one browser session (10-15 s for all examples here).
func TestMermaidRendersWithMermaidCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: Mermaid rendering with mmdc skipped")
	}
	mmdc := findMmdc()
	if mmdc == "" {
		t.Skip("mermaid-cli (mmdc) is not installed (PUPPETEER_SKIP_DOWNLOAD=1 npm install -g @mermaid-js/mermaid-cli, or set SMITHC_MMDC_DIR); Mermaid output not rendered")
	}
	if b, err := exec.Command(mmdc, "--version").CombinedOutput(); err != nil {
		t.Skipf("%s does not run (%v), Mermaid output not rendered:\n%s", mmdc, err, b)
	}
	chromium := os.Getenv("PUPPETEER_EXECUTABLE_PATH")
	if chromium == "" {
		for _, name := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(name); err == nil {
				chromium = p
				break
			}
		}
	}
	if chromium == "" {
		t.Skip("chromium is not installed (apt-get install chromium) and PUPPETEER_EXECUTABLE_PATH is unset; mmdc cannot render, Mermaid output not rendered")
	}

	var md strings.Builder
	var names []string
	for _, g := range graphWorkflows(t) {
		var buf bytes.Buffer
		if err := ir.Mermaid(&buf, g.wf); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&md, "```mermaid\n%s```\n\n", buf.String())
		names = append(names, g.name)
	}

	dir := t.TempDir()
	pcJSON, err := json.Marshal(map[string]any{
		"executablePath": chromium,
		"args": []string{"--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
			"--disable-background-networking", "--disable-component-update",
			"--disable-sync", "--no-first-run"},
	})
	if err != nil {
		t.Fatal(err)
	}
	in, out, pc := filepath.Join(dir, "g.md"), filepath.Join(dir, "out.md"), filepath.Join(dir, "puppeteer.json")
	if err := writeFile(in, []byte(md.String())); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(pc, pcJSON); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, mmdc, "-q", "-p", pc, "-i", in, "-o", out)
	cmd.Env = append(os.Environ(), "PUPPETEER_SKIP_DOWNLOAD=1")
	b, err := cmd.CombinedOutput()
	if err != nil && bytes.Contains(b, []byte("Failed to launch the browser process")) {
		t.Skipf("mmdc could not start %s, Mermaid output not rendered:\n%s", chromium, b)
	}
	// mmdc writes out-N.svg for the Nth block, in order, and stops at the
	// first diagram it cannot parse.
	for i, name := range names {
		svg, rerr := os.ReadFile(filepath.Join(dir, fmt.Sprintf("out-%d.svg", i+1)))
		if rerr != nil || !bytes.Contains(svg, []byte("<svg")) {
			t.Fatalf("%s: mmdc did not render it (later diagrams not checked): %v\n%s", name, err, b)
		}
		if bytes.Contains(svg, []byte("Syntax error in text")) {
			t.Errorf("%s: mmdc drew a syntax error", name)
		}
	}
	if err != nil {
		t.Fatalf("mmdc: %v\n%s", err, b)
	}
}

// findMmdc returns mermaid-cli's mmdc from $SMITHC_MMDC_DIR (the
// directory holding it, or an npm prefix whose bin/ does) or PATH.
func findMmdc() string {
	if d := os.Getenv("SMITHC_MMDC_DIR"); d != "" {
		for _, p := range []string{filepath.Join(d, "mmdc"), filepath.Join(d, "bin", "mmdc")} {
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
				return p
			}
		}
	}
	p, _ := exec.LookPath("mmdc")
	return p
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
