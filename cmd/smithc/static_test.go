package main

import (
	"debug/elf"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestShippedBinaryIsStatic builds smithc the way `make build` and `make
// install` do and checks that the result is a static executable: no
// program interpreter (the dynamic loader) and no shared library it
// needs. A cgo build is linked against libc and spends about 1 ms of
// every command in the loader and libc's set-up before main
// (docs/benchmarks.md, "Start-up").
func TestShippedBinaryIsStatic(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed: the Makefile's build cannot be run")
	}
	bin := filepath.Join(t.TempDir(), "smithc")
	cmd := exec.Command("make", "--no-print-directory", "-s", "build", "BIN="+bin)
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("make build's smithc has a %v program header: it is dynamically linked (built with cgo?)", p.Type)
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) > 0 {
		t.Errorf("make build's smithc needs the shared libraries %v, want none", libs)
	}
}
