package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitIn runs git in dir, failing the test on error.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	c := exec.Command("git", args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestWorktreeNeverRemovesTheUsersWork: a workflow whose worktree path is
// the user's own worktree (directly or through a symbolic link) is
// refused, with reuse = true it runs there and leaves it, and in neither
// case are the user's staged and untracked files touched. A worktree the
// run creates is removed; one that cannot be removed fails the run,
// naming it.
func TestWorktreeNeverRemovesTheUsersWork(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found: the worktree test needs it")
	}
	e := newEnv(t)
	gitIn(t, e.dir, "init", "-q", "-b", "main")
	e.write("README", "hello\n")
	gitIn(t, e.dir, "add", "README")
	gitIn(t, e.dir, "commit", "-q", "-m", "first")
	user := filepath.Join(e.dir, "mine")
	gitIn(t, e.dir, "worktree", "add", "-q", "--detach", user)
	if err := os.WriteFile(filepath.Join(user, "staged.txt"), []byte("staged\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitIn(t, user, "add", "staged.txt")
	if err := os.WriteFile(filepath.Join(user, "untracked.txt"), []byte("untracked\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(user, filepath.Join(e.dir, "link")); err != nil {
		t.Fatal(err)
	}
	survived := func(when string) {
		t.Helper()
		if b, err := os.ReadFile(filepath.Join(user, "untracked.txt")); err != nil || string(b) != "untracked\n" {
			t.Errorf("%s: untracked file: %q %v", when, b, err)
		}
		if got := gitIn(t, user, "diff", "--cached", "--name-only"); got != "staged.txt" {
			t.Errorf("%s: staged files %q", when, got)
		}
	}
	wf := func(path, extra string) string {
		return "workflow w {\n  worktree wt {\n    path = \"" + path + "\"\n" + extra +
			"    step s { run = \"ls untracked.txt 2>/dev/null || echo none\" }\n  }\n  output = s\n}\n"
	}

	for _, path := range []string{"mine", "link"} {
		r := e.bin("run", e.write("refuse-"+path+".smw", wf(path, "")))
		mustCode(t, r, 1)
		mustContain(t, "refused "+path, r.stdout+r.stderr, "reuse = true", "did not create")
		survived("refused " + path)
	}

	r := e.bin("run", e.write("reuse.smw", wf("link", "    reuse = true\n")), "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); !strings.Contains(string(out.Output), "untracked.txt") {
		t.Errorf("the reused worktree is not the user's: %s", out.Output)
	}
	survived("reused")
	if !strings.Contains(gitIn(t, e.dir, "worktree", "list"), user) {
		t.Error("the reused worktree was removed")
	}

	// A worktree the run creates is removed after it.
	mustCode(t, e.bin("run", e.write("own.smw", wf("scratch", ""))), 0)
	if _, err := os.Stat(filepath.Join(e.dir, "scratch")); !os.IsNotExist(err) {
		t.Errorf("the run's own worktree was not removed: %v", err)
	}

	// One that cannot be removed (locked) fails the run, naming it.
	locked := "workflow w {\n  worktree wt {\n    path = \"held\"\n    step s { run = \"git worktree lock --reason test .\" }\n  }\n}\n"
	r = e.bin("run", e.write("locked.smw", locked))
	mustCode(t, r, 1)
	mustContain(t, "locked removal", r.stdout+r.stderr, "could not be removed", filepath.Join(e.dir, "held"))
	survived("end")
}
