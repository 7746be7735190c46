// Package golden runs txtar golden tests (STYLE.md §3.4).
//
// Each case is one .txtar archive holding input files (such as in.smw)
// and output sections named out/<name>. A test owns some section names;
// for each archive it computes those sections and compares them with the
// archive. With SMITHC_UPDATE=1 in the environment the archive is
// rewritten in place; with SMITHC_UPDATE=diff the differences are printed
// but nothing is written. An absent section is created on update and
// reported as missing otherwise.
package golden

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"
)

// Update reports the update mode from SMITHC_UPDATE: "", "1" or "diff".
// It is read at test time so that go test's cache sees the variable.
func Update() string { return os.Getenv("SMITHC_UPDATE") }

// Case is one archive being tested.
type Case struct {
	Path    string // the archive's path
	Name    string // the archive's base name without .txtar
	Archive *txtar.Archive
}

// File returns the content of the archive file called name, and whether
// it exists.
func (c *Case) File(name string) ([]byte, bool) {
	for _, f := range c.Archive.Files {
		if f.Name == name {
			return f.Data, true
		}
	}
	return nil, false
}

// Inputs returns the archive's files that are not output sections, in
// archive order.
func (c *Case) Inputs() []txtar.File {
	var out []txtar.File
	for _, f := range c.Archive.Files {
		if !strings.HasPrefix(f.Name, "out/") {
			out = append(out, f)
		}
	}
	return out
}

// Has reports whether the archive has an out/<section>.
func (c *Case) Has(section string) bool {
	_, ok := c.File("out/" + section)
	return ok
}

// Run runs fn on every *.txtar below dir (recursively), each as a subtest
// named by its path relative to dir. fn returns the sections it owns, by
// name without the "out/" prefix; Run compares or updates them. Sections
// the function does not return are left alone.
func Run(t *testing.T, dir string, fn func(t *testing.T, c *Case) map[string]string) {
	t.Helper()
	dir, err := filepath.Abs(dir) // tests may change directory
	if err != nil {
		t.Fatalf("golden: %v", err)
	}
	var paths []string
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".txtar") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("golden: %v", err)
	}
	sort.Strings(paths)
	if len(paths) == 0 {
		t.Fatalf("golden: no .txtar archives under %s", dir)
	}
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		name := strings.TrimSuffix(filepath.ToSlash(rel), ".txtar")
		t.Run(name, func(t *testing.T) {
			a, err := txtar.ParseFile(p)
			if err != nil {
				t.Fatal(err)
			}
			c := &Case{Path: p, Name: filepath.Base(name), Archive: a}
			got := fn(t, c)
			check(t, c, got)
		})
	}
}

func check(t *testing.T, c *Case, got map[string]string) {
	t.Helper()
	mode := Update()
	names := make([]string, 0, len(got))
	for k := range got {
		names = append(names, k)
	}
	sort.Strings(names)
	changed := false
	for _, sec := range names {
		want := got[sec]
		if want != "" && !strings.HasSuffix(want, "\n") {
			want += "\n"
		}
		have, ok := c.File("out/" + sec)
		if ok && string(have) == want {
			continue
		}
		switch mode {
		case "1":
			setFile(c.Archive, "out/"+sec, []byte(want))
			changed = true
		default:
			if !ok {
				t.Errorf("%s: missing section out/%s; run `make golden` (SMITHC_UPDATE=1 go test ./...) to create it. Got:\n%s", c.Path, sec, want)
				continue
			}
			t.Errorf("%s: out/%s differs (-want +got):\n%s", c.Path, sec, cmp.Diff(string(have), want))
		}
	}
	if changed {
		if err := os.WriteFile(c.Path, txtar.Format(c.Archive), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func setFile(a *txtar.Archive, name string, data []byte) {
	for i := range a.Files {
		if a.Files[i].Name == name {
			a.Files[i].Data = data
			return
		}
	}
	a.Files = append(a.Files, txtar.File{Name: name, Data: data})
}

// Compare compares got with the golden file at path (outside txtar), or
// rewrites it under SMITHC_UPDATE=1.
func Compare(t *testing.T, path string, got []byte) {
	t.Helper()
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	have, err := os.ReadFile(path)
	if Update() == "1" {
		if err != nil || !bytes.Equal(have, got) {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	if err != nil {
		t.Fatalf("%v; run `make golden` to create it", err)
	}
	if !bytes.Equal(have, got) {
		t.Errorf("%s differs (-want +got):\n%s", path, cmp.Diff(string(have), string(got)))
	}
}
