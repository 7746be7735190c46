package compiler_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smithc/smithc/compiler"
	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/internal/golden"
	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/stdlib"
)

func config() *compiler.Config {
	return &compiler.Config{Checker: checker.Config{Actions: stdlib.Specs()}}
}

// buildArchive writes the archive's input files to a temporary directory
// and builds in.smw from there, so that imports resolve and file names
// in the output are the archive's.
func buildArchive(t *testing.T, c *golden.Case) *compiler.Result {
	t.Helper()
	dir := t.TempDir()
	for _, f := range c.Inputs() {
		p := filepath.Join(dir, f.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	return compiler.Build("in.smw", config())
}

// TestCompileGolden pins the IR text and graphs of every construct.
func TestCompileGolden(t *testing.T) {
	golden.Run(t, "../testdata/golden/compile", func(t *testing.T, c *golden.Case) map[string]string {
		res := buildArchive(t, c)
		if res.Program == nil {
			return map[string]string{"ir": "(no IR: checking failed)\n" + res.Diagnostics.Error()}
		}
		out := map[string]string{"ir": res.Program.String()}
		if c.Has("mermaid") || c.Has("dot") {
			var m, d bytes.Buffer
			if err := ir.Mermaid(&m, res.Program.Workflows[0]); err != nil {
				t.Fatal(err)
			}
			if err := ir.DOT(&d, res.Program.Workflows[0]); err != nil {
				t.Fatal(err)
			}
			out["mermaid"], out["dot"] = m.String(), d.String()
		}
		return out
	})
}

// TestExamplesIR keeps an IR golden for every example, and checks that
// compiling the same source twice gives byte-identical dumps.
func TestExamplesIR(t *testing.T) {
	files, err := filepath.Glob("../examples/*.smw")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	t.Chdir("../examples")
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(strings.TrimSuffix(name, ".smw"), func(t *testing.T) {
			res := compiler.Build(name, config())
			if res.Program == nil {
				t.Fatalf("example does not compile:\n%s", res.Diagnostics.Error())
			}
			first := res.Program.String()
			again := compiler.Build(name, config()).Program.String()
			if first != again {
				t.Errorf("compiling twice gave different dumps")
			}
			golden.Compare(t, filepath.Join("..", "testdata", "golden", "examples", strings.TrimSuffix(name, ".smw")+".ir"), []byte(first))
		})
	}
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }

// TestSyntaxErrorsKeepTheirSource: a file that does not parse still has
// its text in Result.Sources, so its diagnostics show the source line.
func TestSyntaxErrorsKeepTheirSource(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.smw")
	if err := writeFile(p, []byte("workflow w {\n  step a { value = }\n}\n")); err != nil {
		t.Fatal(err)
	}
	res := compiler.Build(p, config())
	if !res.Diagnostics.HasErrors() || res.Program != nil {
		t.Fatalf("want a syntax error, got %v", res.Diagnostics)
	}
	if len(res.Sources[p]) == 0 {
		t.Errorf("no source kept for %s; have %v", p, res.Sources)
	}
}
