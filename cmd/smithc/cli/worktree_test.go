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

// TestResumeRecreatesAFailedRunsWorktree: a step that fails inside a
// worktree removes the worktree with the failure; resuming the run makes
// it again and runs the step there (never in the deleted directory). A
// worktree that could not be removed after a failure is named in the
// error, and a resume runs in it.
func TestResumeRecreatesAFailedRunsWorktree(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found: the worktree test needs it")
	}
	e := newEnv(t)
	gitIn(t, e.dir, "init", "-q", "-b", "main")
	e.write("README", "hello\n")
	gitIn(t, e.dir, "add", "README")
	gitIn(t, e.dir, "commit", "-q", "-m", "first")
	ok := filepath.Join(e.dir, "ok")
	wf := func(path, pre string) string {
		return "workflow w {\n  worktree wt {\n    path = \"" + path + "\"\n" +
			"    step s { run = \"" + pre + "test -f " + ok + " && pwd\" }\n  }\n  output = s.stdout\n}\n"
	}

	f := e.write("scratch.smw", wf("scratch", ""))
	r := e.bin("run", f, "--run-id", "wr1")
	mustCode(t, r, 1)
	if _, err := os.Stat(filepath.Join(e.dir, "scratch")); !os.IsNotExist(err) {
		t.Fatalf("the failed run's worktree was not removed: %v", err)
	}
	e.write("ok", "")
	r = e.bin("resume", "wr1", "--format", "json")
	mustCode(t, r, 0)
	if out := string(decodeRun(t, r).Output); !strings.Contains(out, filepath.Join(e.dir, "scratch")) {
		t.Errorf("the resumed step did not run in the worktree: %s", out)
	}
	if strings.Contains(r.stderr, "no such file") {
		t.Errorf("the resume ran in the deleted directory:\n%s", r.stderr)
	}
	if err := os.Remove(ok); err != nil {
		t.Fatal(err)
	}

	// Locked by its step, the worktree cannot be removed after the
	// failure: the error says where it was kept.
	held := filepath.Join(e.dir, "held")
	r = e.bin("run", e.write("held.smw", wf("held", "git worktree lock --reason test . 2>/dev/null; ")), "--run-id", "wr2")
	mustCode(t, r, 1)
	mustContain(t, "kept worktree", r.stdout, "step s failed", "worktree wt was kept at "+held)
	e.write("ok", "")
	r = e.bin("resume", "wr2")
	mustContain(t, "resume in the kept worktree", r.stdout+r.stderr, held)
	if strings.Contains(r.stdout+r.stderr, "no such file") {
		t.Errorf("the resume ran in a missing directory:\n%s", r.stdout+r.stderr)
	}
	gitIn(t, e.dir, "worktree", "unlock", held)
}
