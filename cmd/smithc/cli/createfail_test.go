package cli

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	"github.com/smithc/smithc/runtime/store/sqlitestore"
)

// TestCreateFailure: a store that cannot be created says why and what to
// do, with the exit code of a store failure for a full disk (a test run
// as root can write anywhere, so the causes are given here).
func TestCreateFailure(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
		want string
	}{
		{fs.ErrNotExist, ExitFailed, "the directory /srv/runs does not exist (create it, or point --db"},
		{fs.ErrPermission, ExitFailed, "no permission to create files in /srv/runs (point --db"},
		{syscall.ENOSPC, ExitStore, "the file system is full"},
		{syscall.EIO, ExitFailed, "cannot create the store /srv/runs/x.db: input/output error"},
	} {
		err := createFailure(&sqlitestore.CreateError{Path: "/srv/runs/x.db", Err: c.err})
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != c.code || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %q (%+v), want exit %d and %q", c.err, err, ee, c.code, c.want)
		}
	}
}
