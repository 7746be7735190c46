package gitwt

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// newRepo creates a git repository with one commit and a subdirectory.
func newRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	run(t, dir, "git", "init", "-q", "-b", "main")
	run(t, dir, "git", "config", "user.email", "test@example.com")
	run(t, dir, "git", "config", "user.name", "Test")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "file.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, dir, "git", "add", ".")
	run(t, dir, "git", "commit", "-q", "-m", "first")
	return dir
}

func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func listed(t *testing.T, repo string) []string {
	t.Helper()
	var paths []string
	for _, line := range strings.Split(run(t, repo, "git", "worktree", "list", "--porcelain"), "\n") {
		if p, ok := strings.CutPrefix(line, "worktree "); ok {
			paths = append(paths, canonical(p))
		}
	}
	return paths
}

func TestAddDetachedAndRemove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newRepo(t)
	// repoDir may be anywhere inside the repository; path is relative to
	// its top level.
	dir, err := Add(ctx, filepath.Join(repo, "sub"), "wt/one", "")
	if err != nil {
		t.Fatal(err)
	}
	if canonical(dir) != canonical(filepath.Join(repo, "wt", "one")) {
		t.Errorf("dir = %s, want under %s", dir, repo)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "sub", "file.txt")); err != nil || string(b) != "hello\n" {
		t.Errorf("worktree content = %q, %v", b, err)
	}
	if got, want := run(t, dir, "git", "rev-parse", "HEAD"), run(t, repo, "git", "rev-parse", "HEAD"); got != want {
		t.Errorf("worktree HEAD %s, want %s", got, want)
	}
	if got := run(t, dir, "git", "rev-parse", "--abbrev-ref", "HEAD"); got != "HEAD" {
		t.Errorf("worktree is on %q, want detached", got)
	}
	// Dirty the worktree: removal is forced.
	if err := os.WriteFile(filepath.Join(dir, "untracked.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "file.txt"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Remove(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("worktree directory still exists: %v", err)
	}
	if diff := cmp.Diff([]string{canonical(repo)}, listed(t, repo)); diff != "" {
		t.Errorf("worktrees after remove (-want +got):\n%s", diff)
	}
	if err := Remove(ctx, dir); err != nil {
		t.Errorf("second Remove: %v", err)
	}
}

func TestAddBranch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newRepo(t)
	run(t, repo, "git", "branch", "existing")

	tests := []struct{ path, branch string }{
		{"wt-new", "feature/new"}, // created from HEAD
		{"wt-existing", "existing"},
	}
	for _, tt := range tests {
		dir, err := Add(ctx, repo, tt.path, tt.branch)
		if err != nil {
			t.Fatalf("%s: %v", tt.branch, err)
		}
		if got := run(t, dir, "git", "rev-parse", "--abbrev-ref", "HEAD"); got != tt.branch {
			t.Errorf("%s: worktree on %q", tt.branch, got)
		}
		// Idempotent: a resumed run adds the same worktree again.
		again, err := Add(ctx, repo, tt.path, tt.branch)
		if err != nil || again != dir {
			t.Errorf("%s: second Add = %q, %v; want %q", tt.branch, again, err, dir)
		}
		if err := Remove(ctx, dir); err != nil {
			t.Fatal(err)
		}
	}
	// Branches survive their worktrees.
	if got := run(t, repo, "git", "branch", "--list", "feature/new"); !strings.Contains(got, "feature/new") {
		t.Errorf("branch feature/new is gone: %q", got)
	}
}

func TestAddErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newRepo(t)
	if _, err := Add(ctx, repo, "wt", "topic"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		repoDir, path  string
		branch, substr string
	}{
		{"not a repository", t.TempDir(), "wt", "", "not in a git repository"},
		{"empty path", repo, "", "", "empty worktree path"},
		{"same path, other branch", repo, "wt", "other", "already exists there on branch topic"},
		{"branch checked out elsewhere", repo, "wt2", "topic", "already checked out"},
	}
	for _, tt := range tests {
		_, err := Add(ctx, tt.repoDir, tt.path, tt.branch)
		if err == nil || !strings.Contains(err.Error(), tt.substr) {
			t.Errorf("%s: error = %v, want one mentioning %q", tt.name, err, tt.substr)
		}
	}
	if err := Remove(ctx, t.TempDir()); err == nil {
		t.Error("Remove of a directory that is not a worktree succeeded")
	}
}

func TestAddRecreatesDeletedWorktree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newRepo(t)
	dir, err := Add(ctx, repo, "wt", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	again, err := Add(ctx, repo, "wt", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(again, "sub", "file.txt")); err != nil {
		t.Errorf("recreated worktree: %v", err)
	}
	if err := os.RemoveAll(again); err != nil {
		t.Fatal(err)
	}
	// Removing a worktree deleted behind git's back prunes it.
	if err := Remove(ctx, again); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{canonical(repo)}, listed(t, repo)); diff != "" {
		t.Errorf("worktrees after remove (-want +got):\n%s", diff)
	}
}
