package format_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/smithc/smithc/lang/format"
)

// FuzzFormat: for every input that checks clean, the formatted text
// checks clean with the same IR, and formatting it again changes nothing.
func FuzzFormat(f *testing.F) {
	seeds, _ := filepath.Glob("../../examples/*.smw")
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	archives, _ := filepath.Glob("../../testdata/golden/*/*.txtar")
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
		orig := program{main: "in.smw", files: map[string][]byte{"in.smw": src}}
		want, ok := irOf(t, orig)
		if !ok {
			return
		}
		out, ds := format.Source("in.smw", src)
		if ds.HasErrors() {
			t.Fatalf("format of a program that checks clean failed: %s\n%s", ds.Error(), src)
		}
		got, ok := irOf(t, program{main: "in.smw", files: map[string][]byte{"in.smw": out}})
		if !ok {
			t.Fatalf("the formatted program does not check clean:\n%s", out)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("formatting changed the IR (-before +after):\n%s\ninput:\n%s", d, src)
		}
		again, ds := format.Source("in.smw", out)
		if ds.HasErrors() || string(again) != string(out) {
			t.Fatalf("formatting is not idempotent:\n%s\n---\n%s", out, again)
		}
	})
}
