//go:build unix

package stdlib

import (
	"os"
	"strconv"
	"sync"
	"syscall"
)

var inheritedOnce sync.Once

// CloseInheritedFiles marks every file descriptor above 2 close-on-exec,
// once per process, so that no process smithc starts inherits one. The
// files Go opens are close-on-exec already; this catches those smithc
// itself inherited open (a shell's `exec 3>file`, a CI runner's pipes),
// which would otherwise pass on to every step and git command. smithc
// keeps using them itself.
//
// Where the kernel has it (Linux 5.11 on), one close_range(2) call with
// CLOSE_RANGE_CLOEXEC marks them all; elsewhere, or when it is refused
// (an older kernel, a sandbox that filters it), the descriptors listed in
// the process's fd directory are marked one by one.
func CloseInheritedFiles() {
	inheritedOnce.Do(func() {
		if !cloexecFrom(3) {
			cloexecListed()
		}
	})
}

// cloexecListed marks the descriptors above 2 that the fd directory lists.
func cloexecListed() {
	entries, err := os.ReadDir(fdDir)
	if err != nil {
		return // no fd directory to read: nothing known to mark
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
