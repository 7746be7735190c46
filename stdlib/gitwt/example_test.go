package gitwt_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/smithc/smithc/stdlib/gitwt"
)

func ExampleAdd() {
	ctx := context.Background()
	repo, err := os.MkdirTemp("", "gitwt-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(repo)
	for _, args := range [][]string{
		{"init", "-q"},
		{"-c", "user.name=Ex", "-c", "user.email=ex@example.com", "commit", "-q", "--allow-empty", "-m", "first"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Println(err, string(out))
			return
		}
	}

	dir, created, err := gitwt.Add(ctx, repo, "worktrees/feature", "feature", "run1/wt", false)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(filepath.Base(filepath.Dir(dir)), filepath.Base(dir), created)

	if err := gitwt.Remove(ctx, dir, "run1/wt"); err != nil {
		fmt.Println(err)
		return
	}
	_, err = os.Stat(dir)
	fmt.Println(os.IsNotExist(err))
	// Output:
	// worktrees feature true
	// true
}
