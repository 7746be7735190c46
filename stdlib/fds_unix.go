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
func CloseInheritedFiles() {
	inheritedOnce.Do(func() {
		entries, err := os.ReadDir(fdDir)
		if err != nil {
			return // no fd directory to read: nothing known to mark
		}
		for _, e := range entries {
			if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
				syscall.CloseOnExec(fd)
			}
		}
	})
}
