package format_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/smithc/smithc/compiler"
	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/lang/format"
	"github.com/smithc/smithc/lang/parser"
	"github.com/smithc/smithc/stdlib"
)

// program is a main file and the files it may import, by name.
type program struct {
	main  string
	files map[string][]byte
}

// irOf compiles the program with the standard library's actions and
// returns its IR as JSON-like data without source positions and hashes
// (which formatting changes by design); ok is false when it does not
// check clean.
func irOf(t testing.TB, p program) (any, bool) {
	t.Helper()
	cfg := &compiler.Config{Checker: checker.Config{
		Actions: stdlib.Specs(),
		ReadFile: func(name string) ([]byte, error) {
			if b, ok := p.files[filepath.Clean(name)]; ok {
				return b, nil
			}
			return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("no such file or directory")}
		},
	}}
	res := compiler.Build(p.main, cfg)
	if res.Program == nil {
		return nil, false
	}
	b, err := json.Marshal(res.Program)
	if err != nil {
		t.Fatalf("%s: marshal IR: %v", p.main, err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return stripPositions(v), true
}

func stripPositions(v any) any {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "range")
		delete(v, "source_hash")
		for k, x := range v {
			v[k] = stripPositions(x)
		}
	case []any:
		for i, x := range v {
			v[i] = stripPositions(x)
		}
	}
	return v
}

// formatAll formats every .smw file of p that parses; the others are
// kept as they are.
func formatAll(t *testing.T, p program) program {
	t.Helper()
	out := program{main: p.main, files: map[string][]byte{}}
	for name, src := range p.files {
		out.files[name] = src
		if !strings.HasSuffix(name, ".smw") {
			continue
		}
		if _, ds := parser.Parse(name, src); ds.HasErrors() {
			continue
		}
		got, ds := format.Source(name, src)
		if ds.HasErrors() {
			t.Errorf("%s: format: %s", name, ds.Error())
			continue
		}
		out.files[name] = got
	}
	return out
}

// corpus is every example (each with the files of examples/ it may
// import) and every archive of the parse and check goldens.
func corpus(t *testing.T) map[string]program {
	t.Helper()
	progs := map[string]program{}
	ex := map[string][]byte{}
	err := filepath.WalkDir("../../examples", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".smw") {
			b, rerr := os.ReadFile(path)
			if rerr != nil {
				return rerr
			}
			ex[filepath.Clean(path)] = b
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name := range ex {
		if filepath.Dir(name) == filepath.Clean("../../examples") {
			progs[name] = program{main: name, files: ex}
		}
	}
	for _, dir := range []string{"parse", "check"} {
		paths, _ := filepath.Glob("../../testdata/golden/" + dir + "/*.txtar")
		for _, path := range paths {
			a, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			files := map[string][]byte{}
			for _, f := range a.Files {
				if !strings.HasPrefix(f.Name, "out/") {
					files[filepath.Clean(f.Name)] = f.Data
				}
			}
			if _, ok := files["in.smw"]; ok {
				progs[path] = program{main: "in.smw", files: files}
			}
		}
	}
	if len(progs) < 100 {
		t.Fatalf("corpus has only %d programs", len(progs))
	}
	return progs
}

func sortedNames(m map[string]program) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TestFormatKeepsIR formats every example and golden and compiles both:
// the IR of the formatted program equals the original's.
func TestFormatKeepsIR(t *testing.T) {
	progs := corpus(t)
	compared := 0
	for _, name := range sortedNames(progs) {
		p := progs[name]
		want, ok := irOf(t, p)
		if !ok {
			continue
		}
		got, ok := irOf(t, formatAll(t, p))
		if !ok {
			t.Errorf("%s: the formatted program does not check clean", name)
			continue
		}
		compared++
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: formatting changed the IR (-before +after):\n%s", name, d)
		}
	}
	if compared < 60 {
		t.Errorf("only %d programs of the corpus check clean; expected most examples and goldens", compared)
	}
	t.Logf("%d programs compile to the same IR after formatting", compared)
}

// TestFormatIdempotent formats every .smw file of the corpus that parses
// twice: the second pass changes nothing.
func TestFormatIdempotent(t *testing.T) {
	progs := corpus(t)
	n := 0
	for _, name := range sortedNames(progs) {
		p := progs[name]
		for file, src := range p.files {
			if !strings.HasSuffix(file, ".smw") {
				continue
			}
			if _, ds := parser.Parse(file, src); ds.HasErrors() {
				continue
			}
			once, ds := format.Source(file, src)
			if ds.HasErrors() {
				t.Errorf("%s %s: %s", name, file, ds.Error())
				continue
			}
			twice, ds := format.Source(file, once)
			if ds.HasErrors() {
				t.Errorf("%s %s: the formatted text does not format: %s\n%s", name, file, ds.Error(), once)
				continue
			}
			n++
			if d := cmp.Diff(string(once), string(twice)); d != "" {
				t.Errorf("%s %s: formatting is not idempotent (-once +twice):\n%s", name, file, d)
			}
		}
	}
	t.Logf("%d files", n)
}

// TestExamplesAreFormatted: every file of examples/ is in the canonical
// layout (what `smithc fmt --check examples/` asserts).
func TestExamplesAreFormatted(t *testing.T) {
	for name, src := range corpus(t)["../../examples/hello.smw"].files {
		got, ds := format.Source(name, src)
		if ds.HasErrors() {
			t.Errorf("%s: %s", name, ds.Error())
			continue
		}
		if d := cmp.Diff(string(src), string(got)); d != "" {
			t.Errorf("%s is not formatted; run smithc fmt examples/ (-file +formatted):\n%s", name, d)
		}
	}
}
