package worker_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Benchmarks report CPU time next to wall time: on the shared 2-core
// development machine wall time mostly measures waiting for a core.

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru) //nolint:errcheck // cannot fail for RUSAGE_SELF
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTick is the unit of /proc/PID/stat times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// serverCPU returns the CPU time used so far by the PostgreSQL server
// whose data directory is dataDir: the postmaster, its exited children
// (the backends of closed connections) and its live children. It returns
// -1 when that cannot be read (no such server on this machine).
func serverCPU(dataDir string) time.Duration {
	if dataDir == "" {
		return -1
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return -1
	}
	pm, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		return -1
	}
	total, _, ok := procCPU(pm, true)
	if !ok {
		return -1
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if cpu, ppid, ok := procCPU(pid, false); ok && ppid == pm {
			total += cpu
		}
	}
	return total
}

// procCPU reads the user and system time of pid (and of its reaped
// children with children) and its parent's pid.
func procCPU(pid int, children bool) (time.Duration, int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// The command name (field 2) may hold spaces: fields count from its end.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 15 {
		return 0, 0, false
	}
	n := func(k int) int64 { v, _ := strconv.ParseInt(f[k-3], 10, 64); return v }
	ticks := n(14) + n(15)
	if children {
		ticks += n(16) + n(17)
	}
	ppid, _ := strconv.Atoi(f[1])
	return time.Duration(ticks) * clockTick, ppid, true
}

// cpuMark is the CPU time of this process and of the server at a start.
type cpuMark struct {
	dataDir      string
	self, server time.Duration
}

func startCPU(dataDir string) cpuMark {
	return cpuMark{dataDir: dataDir, self: selfCPU(), server: serverCPU(dataDir)}
}

// report adds the CPU time per step since the mark: client-µs/step (this
// process: runtime, workers, pgx) and, with a server on this machine,
// server-µs/step and cpu-µs/step (both).
func (m cpuMark) report(b interface {
	ReportMetric(float64, string)
}, steps int) {
	self := selfCPU() - m.self
	b.ReportMetric(float64(self.Microseconds())/float64(steps), "client-µs/step")
	if m.server < 0 {
		return
	}
	time.Sleep(50 * time.Millisecond) // the closed connections' backends are reaped
	if now := serverCPU(m.dataDir); now >= 0 {
		srv := now - m.server
		b.ReportMetric(float64(srv.Microseconds())/float64(steps), "server-µs/step")
		b.ReportMetric(float64((self+srv).Microseconds())/float64(steps), "cpu-µs/step")
	}
}
