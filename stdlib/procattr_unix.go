//go:build unix && !linux

package stdlib

import "syscall"

// childAttr is how step processes start: in a process group of their own
// (so that the whole group can be signalled). There is no Pdeathsig
// outside Linux: a child outlives a smithc killed with SIGKILL until the
// run is resumed.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// fdDir lists the process's open file descriptors.
const fdDir = "/dev/fd"

// cloexecFrom reports false: close_range(2) with CLOSE_RANGE_CLOEXEC is
// Linux's, so the caller marks the descriptors it lists one by one.
func cloexecFrom(uint) bool { return false }
