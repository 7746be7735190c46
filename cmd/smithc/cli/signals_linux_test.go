//go:build linux

package cli_test

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGHUPCancelsLikeSIGTERM: a closed terminal (SIGHUP to smithc
// alone) stops the run like SIGTERM: the step's process group is killed,
// the run is cancelled with exit 130 and resumes to its end.
func TestSIGHUPCancelsLikeSIGTERM(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("crash.smw", crashSMW)
	e.killPidsOnCleanup("slow_pids")
	p := e.start("run", f, "--input", "dir="+e.dir, "--run-id", "h1")
	e.waitNode("h1", "slow", "running")
	var stepGroup int
	eventually(t, "the step's sleep", func() bool {
		pids := e.pids("slow_pids")
		if len(pids) != 1 {
			return false
		}
		_, g, ok := procStat(pids[0])
		stepGroup = g
		return ok && g != 0 && !groupGone(g)
	})
	if err := syscall.Kill(p.cmd.Process.Pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	r := p.wait(t)
	mustCode(t, r, 130)
	mustContain(t, "stdout", r.stdout, "cancelled", "smithc resume h1")
	eventually(t, "the step's process group to be killed", func() bool { return groupGone(stepGroup) })
	if in := e.inspect("h1"); in.Status != "cancelled" {
		t.Errorf("status %q after SIGHUP, want cancelled", in.Status)
	}
	r = e.bin("resume", "h1", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "finished" {
		t.Errorf("resume after SIGHUP: %+v", out)
	}
}

// TestStepDiesWithSmithc: when smithc is killed outright (SIGKILL, no
// chance to clean up), the kernel kills the step it started (Pdeathsig).
func TestStepDiesWithSmithc(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("orphan.smw", `workflow orphan {
  input { dir: string }
  step slow { run = "echo $$ > ${input.dir}/slow_pids; exec sleep 300" }
}
`)
	e.killPidsOnCleanup("slow_pids")
	p := e.start("run", f, "--input", "dir="+e.dir, "--run-id", "o1")
	var step int
	eventually(t, "the step's sleep", func() bool {
		pids := e.pids("slow_pids")
		if len(pids) != 1 {
			return false
		}
		step = pids[0]
		b, err := os.ReadFile("/proc/" + strconv.Itoa(step) + "/cmdline")
		return err == nil && strings.HasPrefix(string(b), "sleep")
	})
	if err := syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t)
	eventually(t, "the step to die with smithc", func() bool { return gone(step) })
}

// TestStepsInheritNoExtraFiles: files smithc itself inherited open
// (descriptors 3 and 4 here) do not reach the steps it starts.
func TestStepsInheritNoExtraFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("fds.smw", `workflow fds {
  step look { run = "for fd in 3 4 5 6; do [ -e /proc/$$/fd/$fd ] && echo leaked-$fd; done; echo looked" }
  output = look
}
`)
	var extra []*os.File
	for _, name := range []string{"a", "b"} {
		fh, err := os.Create(e.path("inherited-" + name))
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		extra = append(extra, fh)
	}
	c := e.cmd("run", f, "--format", "json")
	c.ExtraFiles = extra
	r := runBounded(t, c, time.Minute)
	mustCode(t, r, 0)
	out := decodeRun(t, r)
	if !strings.Contains(string(out.Output), "looked") || strings.Contains(string(out.Output), "leaked") {
		t.Errorf("the step saw smithc's inherited descriptors: %s", out.Output)
	}
}
