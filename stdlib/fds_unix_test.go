//go:build unix

package stdlib

import (
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// openInheritable opens a file the way an inherited descriptor looks: not
// close-on-exec.
func openInheritable(t *testing.T) int {
	t.Helper()
	fd, err := syscall.Open(filepath.Join(t.TempDir(), "f"), syscall.O_CREAT|syscall.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if cloexec(t, fd) {
		t.Fatalf("fd %d is close-on-exec already: the test proves nothing", fd)
	}
	return fd
}

func cloexec(t *testing.T, fd int) bool {
	t.Helper()
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	return flags&unix.FD_CLOEXEC != 0
}

// Both ways of marking: close_range(2) where the kernel has it, and the
// listing of the fd directory it falls back on.
func TestCloexecFrom(t *testing.T) {
	fd := openInheritable(t)
	if !cloexecFrom(3) {
		if runtime.GOOS == "linux" {
			t.Skip("close_range(2) with CLOSE_RANGE_CLOEXEC is refused by this kernel (Linux 5.11 or later has it): the fallback is TestCloexecListed")
		}
		return
	}
	if !cloexec(t, fd) {
		t.Fatalf("fd %d is not close-on-exec after close_range", fd)
	}
}

func TestCloexecListed(t *testing.T) {
	fd := openInheritable(t)
	cloexecListed()
	if !cloexec(t, fd) {
		t.Fatalf("fd %d is not close-on-exec after the listing of %s", fd, fdDir)
	}
}
