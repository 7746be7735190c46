package checker

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/parser"
)

// TestCheckParsedImports checks already-parsed files: an import found
// among the given files is not read again.
func TestCheckParsedImports(t *testing.T) {
	t.Parallel()
	parse := func(name, src string) *ast.File {
		f, ds := parser.Parse(name, []byte(src))
		if ds.HasErrors() {
			t.Fatal(ds.Error())
		}
		return f
	}
	main := parse("dir/main.smw", `import "lib/types.smw"
workflow w { step s { output: T, value = { n: 1 } } }
`)
	lib := parse("dir/lib/types.smw", "type T { n: int }\n")
	reads := 0
	cfg := &Config{Actions: testSpecs(), ReadFile: func(string) ([]byte, error) {
		reads++
		return nil, errors.New("unexpected read")
	}}
	info, ds := Check([]*ast.File{main, lib}, cfg)
	if len(ds) > 0 {
		t.Fatal(ds.Error())
	}
	if reads != 0 {
		t.Errorf("ReadFile called %d times", reads)
	}
	var names []string
	for _, f := range info.Files {
		names = append(names, f.Name)
	}
	if diff := cmp.Diff([]string{"dir/main.smw", "dir/lib/types.smw"}, names); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if info.Types["T"] == nil {
		t.Error("imported type T not in Info.Types")
	}
}

// TestCheckFileMissing reports an unreadable main file as a diagnostic.
func TestCheckFileMissing(t *testing.T) {
	t.Parallel()
	info, ds := CheckFile("nope.smw", &Config{ReadFile: func(string) ([]byte, error) { return nil, errors.New("no such file") }})
	if info == nil {
		t.Fatal("nil Info")
	}
	want := "nope.smw: error[read-file]: cannot read nope.smw: no such file"
	if len(ds) != 1 || ds[0].String() != want {
		t.Errorf("got %v, want %s", ds, want)
	}
}
