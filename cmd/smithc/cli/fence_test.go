package cli_test

import (
	"encoding/json"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestStaleOwnerCommitsNothing (fencing): an owner stopped (SIGSTOP)
// past its lease is taken over by another process, which finishes the
// run; when the stale owner wakes (SIGCONT) its step's output is refused
// by the fencing token: the finished run keeps the new owner's output and
// has no event after RunFinished. The stale owner names itself with
// $SMITHC_OWNER as if it ran on another host.
func TestStaleOwnerCommitsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("stale.smw", `workflow stale {
  input { dir: string }
  step work { run = "echo start-$$ > ${input.dir}/started-$$; while [ ! -f ${input.dir}/go ]; do sleep 0.05; done; echo $$" }
  step after { value = trim(work.stdout) }
  output = after
}
`)
	a := e.cmd("run", f, "--run-id", "st1", "--input", "dir="+e.dir, "--format", "json")
	a.Env = append(a.Env, "SMITHC_OWNER=4242@elsewhere", "SMITHC_LEASE=600ms")
	var aOut, aErr syncBuffer
	a.Stdout, a.Stderr = &aOut, &aErr
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	aDone := make(chan struct{})
	go func() { _ = a.Wait(); close(aDone) }() // the exit code is read below
	t.Cleanup(func() {
		_ = syscall.Kill(-a.Process.Pid, syscall.SIGCONT) // best effort: let it exit
		_ = syscall.Kill(-a.Process.Pid, syscall.SIGKILL)
		<-aDone
	})
	e.waitNode("st1", "work", "running")
	eventually(t, "the first attempt's shell to start", func() bool {
		ents, _ := os.ReadDir(e.dir)
		for _, en := range ents {
			if strings.HasPrefix(en.Name(), "started-") {
				return true
			}
		}
		return false
	})
	if err := syscall.Kill(-a.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// Another process takes the run over once the lease has lapsed and
	// finishes it.
	e.write("go", "")
	var b result
	eventually(t, "the take-over", func() bool {
		b = e.bin("resume", "st1", "--format", "json")
		return b.code != 1 || !strings.Contains(b.stderr, "is live")
	})
	mustCode(t, b, 0)
	out := decodeRun(t, b)
	if err := syscall.Kill(-a.Process.Pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	<-aDone
	if a.ProcessState.ExitCode() == 0 {
		t.Errorf("the stale owner exited 0:\n%s\n%s", aOut.String(), aErr.String())
	}
	in := e.inspect("st1")
	if in.Status != "finished" {
		t.Errorf("status %q after the stale owner woke, want finished", in.Status)
	}
	r := e.cli("inspect", "st1", "--format", "json")
	var got struct {
		Output json.RawMessage `json:"output"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if string(got.Output) != string(out.Output) {
		t.Errorf("the run's output is %s, want the new owner's %s", got.Output, out.Output)
	}
	logs := e.cli("logs", "st1", "--format", "json")
	lines := strings.Split(strings.TrimSpace(logs.stdout), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, `"RunFinished"`) {
		t.Errorf("events after RunFinished:\n%s", logs.stdout)
	}
}
