package checker

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/expr-lang/expr"
	"golang.org/x/tools/txtar"
)

// TestAcceptedExprsCompile compiles, with expr itself, every run-time
// expression of every clean program (examples and clean goldens), in an
// environment with env() and secret() (the names are left undefined, so expr types them as any):
// what the checker accepts must be valid for the runtime's
// expression engine.
func TestAcceptedExprsCompile(t *testing.T) {
	t.Parallel()
	type prog struct {
		name  string
		files map[string][]byte
	}
	var progs []prog
	examples, _ := filepath.Glob("../../examples/*.smw")
	for _, p := range examples {
		progs = append(progs, prog{name: p})
	}
	archives, _ := filepath.Glob("../../testdata/golden/check/*.txtar")
	for _, p := range archives {
		a, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		for _, f := range a.Files {
			files[f.Name] = f.Data
		}
		if d, ok := files["out/diag"]; ok && len(d) == 0 {
			progs = append(progs, prog{name: p, files: files})
		}
	}
	checked := 0
	for _, p := range progs {
		cfg := &Config{Actions: testSpecs()}
		main := p.name
		if p.files != nil {
			main = "in.smw"
			cfg.ReadFile = func(name string) ([]byte, error) {
				if b, ok := p.files[name]; ok {
					return b, nil
				}
				return nil, os.ErrNotExist
			}
		}
		info, ds := CheckFile(main, cfg)
		if len(ds) > 0 {
			t.Errorf("%s: %s", p.name, ds.Error())
			continue
		}
		for e := range info.Refs {
			if e.Template != nil {
				continue // its parts are separate expressions
			}
			env := map[string]any{
				"env":    func(string) string { return "" },
				"secret": func(string) string { return "" },
			}
			if _, err := expr.Compile(e.Src, expr.Env(env), expr.AllowUndefinedVariables()); err != nil {
				t.Errorf("%s: %s: expr rejects %q: %v", p.name, e.Range, e.Src, err)
			}
			checked++
		}
	}
	if checked < 100 {
		t.Errorf("only %d expressions compiled; expected the corpus to have more", checked)
	}
}
