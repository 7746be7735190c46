package gitwt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ownerFile is the file, in a worktree's administrative directory
// (.git/worktrees/NAME), that names the run and node that created it.
// git deletes it with the worktree.
const ownerFile = "smithc-owner"

// Add creates a git worktree at path, relative to the top level of the
// repository that holds repoDir (an absolute path is used as it is), marks
// it as created by owner (a run and node instance), and returns its
// absolute directory with created true.
//
// With branch empty the worktree is detached at HEAD. Otherwise it checks
// out branch, creating it from HEAD when it does not exist yet.
//
// A worktree that already exists at path (or that path, a symbolic link,
// points to; the main worktree included) is returned only if owner created
// it (a resumed run adding it again: created true) or reuse is set
// (created false: the caller must never remove it); otherwise Add refuses
// it, so that a run never adopts, and later removes, the user's own
// worktree.
func Add(ctx context.Context, repoDir, path, branch, owner string, reuse bool) (dir string, created bool, err error) {
	if path == "" {
		return "", false, errors.New("gitwt: add: empty worktree path")
	}
	if owner == "" {
		return "", false, errors.New("gitwt: add: no owner")
	}
	top, err := git(ctx, repoDir, "rev-parse", "--show-toplevel")
	if err != nil {
		if strings.Contains(err.Error(), "not a git repository") {
			return "", false, fmt.Errorf("gitwt: add %s: %s is not in a git repository", path, repoDir)
		}
		return "", false, fmt.Errorf("gitwt: add %s: finding the repository of %s: %w", path, repoDir, err)
	}
	dir = path
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(top, dir)
	}
	dir = filepath.Clean(dir)

	existing, err := worktrees(ctx, top)
	if err != nil {
		return "", false, fmt.Errorf("gitwt: add %s: %w", path, err)
	}
	if wt, ok := existing[canonical(dir)]; ok {
		if _, statErr := os.Stat(dir); statErr == nil {
			if branch != "" && wt.branch != "refs/heads/"+branch {
				return "", false, fmt.Errorf("gitwt: add %s: a worktree already exists there on %s, not on branch %s", path, describeRef(wt.branch), branch)
			}
			mine := ownerOf(ctx, dir) == owner
			if !mine && !reuse {
				at := canonical(dir)
				if at != dir {
					at = dir + " (" + at + ")"
				}
				return "", false, fmt.Errorf("gitwt: add %s: a git worktree this run did not create already exists at %s; "+
					"set reuse = true to run in it (smithc never removes a worktree it did not create), or choose another path", path, at)
			}
			return canonical(dir), mine, nil
		}
		// Registered but deleted from disk: forget it and create it again.
		if _, err := git(ctx, top, "worktree", "prune"); err != nil {
			return "", false, fmt.Errorf("gitwt: add %s: %w", path, err)
		}
	}

	args := []string{"worktree", "add"}
	switch {
	case branch == "":
		args = append(args, "--detach", dir)
	case branchExists(ctx, top, branch):
		args = append(args, dir, branch)
	default:
		args = append(args, "-b", branch, dir)
	}
	if _, err := git(ctx, top, args...); err != nil {
		return "", false, fmt.Errorf("gitwt: add %s: %w", path, err)
	}
	if err := markOwner(ctx, dir, owner); err != nil {
		_, _ = git(ctx, top, "worktree", "remove", "--force", dir) // just created, empty of user work
		return "", false, fmt.Errorf("gitwt: add %s: %w", path, err)
	}
	return dir, true, nil
}

// Remove removes the worktree at dir (git worktree remove --force), which
// discards its uncommitted changes, provided owner created it: a worktree
// created by someone else (or the main worktree) is refused with an
// error and left as it is. A worktree that is already gone is not an
// error. Branches the worktree created are kept.
func Remove(ctx context.Context, dir, owner string) error {
	if dir == "" {
		return errors.New("gitwt: remove: empty directory")
	}
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		// Gone from disk; let its repository forget it if we can find it.
		if parent := existingParent(dir); parent != "" {
			if top, err := git(ctx, parent, "rev-parse", "--show-toplevel"); err == nil {
				_, _ = git(ctx, top, "worktree", "prune") // best effort: the worktree is gone either way
			}
		}
		return nil
	}
	common, err := git(ctx, dir, "rev-parse", "--path-format=absolute", "--git-common-dir")
	if err != nil {
		return fmt.Errorf("gitwt: remove %s: not a git worktree: %w", dir, err)
	}
	if got := ownerOf(ctx, dir); got != owner || owner == "" {
		return fmt.Errorf("gitwt: remove %s: refused: this run did not create this worktree, so it is left as it is", dir)
	}
	if _, err := git(ctx, dir, "--git-dir="+common, "worktree", "remove", "--force", dir); err != nil {
		return fmt.Errorf("gitwt: remove %s: %w", dir, err)
	}
	return nil
}

// adminDir returns the administrative directory of the linked worktree
// at dir (.git/worktrees/NAME); "" for the main worktree or no worktree.
func adminDir(ctx context.Context, dir string) string {
	out, err := git(ctx, dir, "rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir")
	if err != nil {
		return ""
	}
	gitDir, common, ok := strings.Cut(out, "\n")
	if !ok || canonical(gitDir) == canonical(common) {
		return "" // the main worktree has no administrative directory of its own
	}
	return gitDir
}

// ownerOf returns who created the worktree at dir ("" when unknown).
func ownerOf(ctx context.Context, dir string) string {
	admin := adminDir(ctx, dir)
	if admin == "" {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(admin, ownerFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func markOwner(ctx context.Context, dir, owner string) error {
	admin := adminDir(ctx, dir)
	if admin == "" {
		return fmt.Errorf("cannot find the administrative directory of the new worktree %s", dir)
	}
	if err := os.WriteFile(filepath.Join(admin, ownerFile), []byte(owner+"\n"), 0o644); err != nil {
		return fmt.Errorf("mark the worktree as created by this run: %w", err)
	}
	return nil
}

// worktree is one entry of git worktree list --porcelain.
type worktree struct {
	path   string
	branch string // refs/heads/NAME, or "" when detached
}

// worktrees lists the repository's worktrees by canonical path.
func worktrees(ctx context.Context, top string) (map[string]worktree, error) {
	out, err := git(ctx, top, "worktree", "list", "--porcelain")
	if err != nil {
		return nil, err
	}
	list := map[string]worktree{}
	var cur worktree
	flush := func() {
		if cur.path != "" {
			list[canonical(cur.path)] = cur
		}
		cur = worktree{}
	}
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "worktree "):
			flush()
			cur.path = strings.TrimPrefix(line, "worktree ")
		case strings.HasPrefix(line, "branch "):
			cur.branch = strings.TrimPrefix(line, "branch ")
		}
	}
	flush()
	return list, nil
}

func branchExists(ctx context.Context, top, branch string) bool {
	_, err := git(ctx, top, "rev-parse", "--verify", "--quiet", "refs/heads/"+branch)
	return err == nil
}

func describeRef(ref string) string {
	if ref == "" {
		return "a detached HEAD"
	}
	return "branch " + strings.TrimPrefix(ref, "refs/heads/")
}

// canonical resolves symbolic links in p as far as it exists, so that
// paths git prints compare equal to the ones we build.
func canonical(p string) string {
	p = filepath.Clean(p)
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	if r, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil {
		return filepath.Join(r, filepath.Base(p))
	}
	return p
}

// existingParent returns the nearest existing ancestor directory of p.
func existingParent(p string) string {
	for d := filepath.Dir(p); ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
		if d == filepath.Dir(d) {
			return ""
		}
	}
}

// git runs git in dir and returns its trimmed stdout; a failure carries
// git's stderr.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), msg)
	}
	return strings.TrimSpace(stdout.String()), nil
}
