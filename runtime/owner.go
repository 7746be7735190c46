package runtime

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/smithc/smithc/runtime/store"
)

// Owner identifies a process that executes runs: its pid, host name and
// an identity of its start (the kernel start time on Linux), so that a
// reused pid is not taken for the original process.
type Owner struct {
	PID   int
	Host  string
	Start string
}

// String renders "pid@host", the owner column of runs and attempts.
func (o Owner) String() string { return strconv.Itoa(o.PID) + "@" + o.Host }

// CurrentOwner returns the identity of the calling process.
func CurrentOwner() Owner {
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	pid := os.Getpid()
	return Owner{PID: pid, Host: host, Start: processStart(pid)}
}

// parseOwner splits "pid@host".
func parseOwner(s string) (pid int, host string, ok bool) {
	p, h, found := strings.Cut(s, "@")
	if !found {
		return 0, "", false
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return 0, "", false
	}
	return n, h, true
}

// processStart returns an identity of the start of process pid: field 22
// of /proc/pid/stat (start time in clock ticks since boot), or "" where
// that is unavailable.
func processStart(pid int) string {
	start, _ := procStat(pid)
	return start
}

// procStat reads the start time and state (field 3: "R", "S", "Z"...) of
// process pid from /proc; "" where unavailable.
func procStat(pid int) (start, state string) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", ""
	}
	s := string(b)
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", ""
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is field 3 (state); start time is field 22.
	if len(fields) < 20 {
		return "", ""
	}
	return fields[19], fields[0]
}

// ownerAlive reports whether the process named by owner/start may still be
// running. Owners on another host are unknown: known is false.
func (e *Engine) ownerAlive(owner, start string) (alive, known bool) {
	pid, host, ok := parseOwner(owner)
	if !ok || host != e.cfg.Owner.Host {
		return false, false
	}
	if pid == e.cfg.Owner.PID && start == e.cfg.Owner.Start {
		return true, true
	}
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false, true
	}
	cur, state := procStat(pid)
	if state == "Z" || state == "X" {
		return false, true // exited, not yet reaped
	}
	if start != "" && cur != "" && cur != start {
		return false, true // the pid was reused
	}
	return true, true
}

// killLeftover kills the process group an abandoned attempt started when
// it runs on this host and is still there: its leader has the recorded
// start time, or is gone while the group lives on (a group id is not
// reused while the group exists). It waits (a few seconds at most) until
// the group is gone and reports whether it signalled one.
func (e *Engine) killLeftover(a *store.Attempt) bool {
	if a.PID <= 1 {
		return false
	}
	if _, host, ok := parseOwner(a.Owner); !ok || host != e.cfg.Owner.Host {
		return false // another host's processes are out of reach
	}
	if cur, _ := procStat(a.PID); cur != "" && a.PIDStart != "" && cur != a.PIDStart {
		return false // the pid now names another process
	}
	if err := syscall.Kill(-a.PID, syscall.SIGKILL); err != nil {
		return false // no such group: nothing was left
	}
	for i := 0; i < 200; i++ {
		if err := syscall.Kill(-a.PID, 0); errors.Is(err, syscall.ESRCH) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}
