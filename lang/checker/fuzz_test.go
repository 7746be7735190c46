package checker

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/parser"
)

// FuzzCheck parses and checks arbitrary input: the checker must not panic
// and every diagnostic must point inside the source.
func FuzzCheck(f *testing.F) {
	seeds, _ := filepath.Glob("../../examples/*.smw")
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	archives, _ := filepath.Glob("../../testdata/golden/check/*.txtar")
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
	cfg := &Config{Actions: testSpecs(), ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist }}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, ds := parser.Parse("in.smw", src)
		if file == nil || ds.HasErrors() {
			return
		}
		_, ds = Check([]*ast.File{file}, cfg)
		for _, d := range ds {
			r := d.Subject
			if r.File != "in.smw" || !r.Start.IsValid() || r.End.Offset < r.Start.Offset || r.End.Offset > len(src) {
				t.Errorf("diagnostic with a bad range %+v: %s", r, d)
			}
		}
	})
}
