package binfile

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSettleKeepsTheBinary: a settled executable has the same bytes and
// mode, no file is left beside it, and it still runs.
func TestSettleKeepsTheBinary(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on $PATH")
	}
	want, err := os.ReadFile(sh)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sh")
	if err := os.WriteFile(bin, want, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Settle(bin); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("settled: %d bytes differ from the %d written", len(got), len(want))
	}
	if fi, err := os.Stat(bin); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("settled: mode %v, %v (want 0755)", fi.Mode(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("settled: %d files in the directory, want 1", len(ents))
	}
	if out, err := exec.Command(bin, "-c", "echo ran").Output(); err != nil || string(out) != "ran\n" {
		t.Fatalf("the settled binary: %q, %v", out, err)
	}
	if err := Settle(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("Settle of a missing file: no error")
	}
}
