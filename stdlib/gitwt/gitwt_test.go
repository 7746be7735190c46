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

// owner is the run and node the tests create worktrees for.
const owner = "run1/wt"

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
	dir, _, err := Add(ctx, filepath.Join(repo, "sub"), "wt/one", "", owner, false)
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
	if err := Remove(ctx, dir, owner); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("worktree directory still exists: %v", err)
	}
	if diff := cmp.Diff([]string{canonical(repo)}, listed(t, repo)); diff != "" {
		t.Errorf("worktrees after remove (-want +got):\n%s", diff)
	}
	if err := Remove(ctx, dir, owner); err != nil {
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
		dir, _, err := Add(ctx, repo, tt.path, tt.branch, owner, false)
		if err != nil {
			t.Fatalf("%s: %v", tt.branch, err)
		}
		if got := run(t, dir, "git", "rev-parse", "--abbrev-ref", "HEAD"); got != tt.branch {
			t.Errorf("%s: worktree on %q", tt.branch, got)
		}
		// Idempotent: a resumed run adds the same worktree again.
		again, _, err := Add(ctx, repo, tt.path, tt.branch, owner, false)
		if err != nil || again != dir {
			t.Errorf("%s: second Add = %q, %v; want %q", tt.branch, again, err, dir)
		}
		if err := Remove(ctx, dir, owner); err != nil {
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
	if _, _, err := Add(ctx, repo, "wt", "topic", owner, false); err != nil {
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
		_, _, err := Add(ctx, tt.repoDir, tt.path, tt.branch, owner, false)
		if err == nil || !strings.Contains(err.Error(), tt.substr) {
			t.Errorf("%s: error = %v, want one mentioning %q", tt.name, err, tt.substr)
		}
	}
	if err := Remove(ctx, t.TempDir(), owner); err == nil {
		t.Error("Remove of a directory that is not a worktree succeeded")
	}
}

func TestAddRecreatesDeletedWorktree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newRepo(t)
	dir, _, err := Add(ctx, repo, "wt", "", owner, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	again, _, err := Add(ctx, repo, "wt", "", owner, false)
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
	if err := Remove(ctx, again, owner); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{canonical(repo)}, listed(t, repo)); diff != "" {
		t.Errorf("worktrees after remove (-want +got):\n%s", diff)
	}
}

// userWorktree makes a worktree of repo the way a user would, with a
// staged file and an untracked one in it.
func userWorktree(t *testing.T, repo, name string) string {
	t.Helper()
	dir := filepath.Join(repo, name)
	run(t, repo, "git", "worktree", "add", "-q", "--detach", dir)
	if err := os.WriteFile(filepath.Join(dir, "staged.txt"), []byte("staged work\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, dir, "git", "add", "staged.txt")
	if err := os.WriteFile(filepath.Join(dir, "untracked.txt"), []byte("untracked work\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// mustSurvive checks that the user's work in dir is intact.
func mustSurvive(t *testing.T, dir string) {
	t.Helper()
	if b, err := os.ReadFile(filepath.Join(dir, "untracked.txt")); err != nil || string(b) != "untracked work\n" {
		t.Errorf("untracked file in %s: %q, %v", dir, b, err)
	}
	if got := run(t, dir, "git", "diff", "--cached", "--name-only"); got != "staged.txt" {
		t.Errorf("staged files in %s: %q, want staged.txt", dir, got)
	}
}

// TestExistingWorktreeIsNotAdoptedNorRemoved: a worktree the owner did not
// create (the user's, reached directly or through a symbolic link, or the
// main worktree) is refused without reuse, adopted with it (created
// false), and never removed; the user's staged and untracked files
// survive.
func TestExistingWorktreeIsNotAdoptedNorRemoved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := newRepo(t)
	user := userWorktree(t, repo, "mine")
	if err := os.Symlink(user, filepath.Join(repo, "link")); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"mine", "link", "."} {
		_, _, err := Add(ctx, repo, path, "", owner, false)
		if err == nil || !strings.Contains(err.Error(), "reuse = true") || !strings.Contains(err.Error(), "did not create") {
			t.Errorf("Add %s without reuse: %v, want a refusal naming reuse", path, err)
		}
		dir, created, err := Add(ctx, repo, path, "", owner, true)
		if err != nil || created {
			t.Fatalf("Add %s with reuse: %q created=%v %v", path, dir, created, err)
		}
		if err := Remove(ctx, dir, owner); err == nil || !strings.Contains(err.Error(), "did not create") {
			t.Errorf("Remove of adopted %s: %v, want a refusal", path, err)
		}
	}
	mustSurvive(t, user)
	if diff := cmp.Diff([]string{canonical(repo), canonical(user)}, listed(t, repo)); diff != "" {
		t.Errorf("worktrees (-want +got):\n%s", diff)
	}

	// A worktree created for another run is not this one's either.
	other, created, err := Add(ctx, repo, "theirs", "", "run2/wt", false)
	if err != nil || !created {
		t.Fatalf("Add for run2: %v created=%v", err, created)
	}
	if _, _, err := Add(ctx, repo, "theirs", "", owner, false); err == nil {
		t.Error("run1 adopted run2's worktree")
	}
	if err := Remove(ctx, other, owner); err == nil {
		t.Error("run1 removed run2's worktree")
	}
	// Its own owner adds it again (a resumed run) and removes it.
	if again, created, err := Add(ctx, repo, "theirs", "", "run2/wt", false); err != nil || !created || again != other {
		t.Errorf("run2 adding its worktree again: %q created=%v %v", again, created, err)
	}
	if err := Remove(ctx, other, "run2/wt"); err != nil {
		t.Fatal(err)
	}
}
