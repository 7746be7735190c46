//go:build linux

package stdlib

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// childAttr is how step processes start: in a process group of their own
// (so that the whole group can be signalled), and, as a second line
// behind smithc's own cleanup, killed by the kernel if smithc dies
// without it (SIGKILL, an OOM kill): Pdeathsig. Pdeathsig reaches the
// direct child only (the shell, or the program of exec); its own children
// are reached by the group kill on resume. It follows the OS thread that
// started the child, so runProcess keeps that thread locked until the
// child is reaped.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// fdDir lists the process's open file descriptors.
const fdDir = "/proc/self/fd"

// cloexecFrom marks every descriptor from first on close-on-exec with one
// close_range(2) (CLOSE_RANGE_CLOEXEC), and reports whether the kernel
// did it.
func cloexecFrom(first uint) bool {
	return unix.CloseRange(first, ^uint(0), unix.CLOSE_RANGE_CLOEXEC) == nil
}
