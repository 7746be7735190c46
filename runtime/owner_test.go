package runtime

import (
	"os/exec"
	"testing"
	"time"
)

func TestOwnerAlive(t *testing.T) {
	t.Parallel()
	e := &Engine{cfg: Config{Owner: CurrentOwner()}}
	me := e.cfg.Owner
	if me.Start == "" {
		t.Skip("no /proc on this system")
	}
	// A child that exited but is not reaped yet is a zombie: dead.
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait() //nolint:errcheck // reaps the zombie
	child := Owner{PID: cmd.Process.Pid, Host: me.Host, Start: processStart(cmd.Process.Pid)}
	for i := 0; ; i++ {
		if _, state := procStat(child.PID); state == "Z" {
			break
		}
		if i > 1000 {
			t.Fatal("the child did not exit")
		}
		time.Sleep(5 * time.Millisecond)
	}
	tests := []struct {
		name         string
		owner, start string
		alive, known bool
	}{
		{"this process", me.String(), me.Start, true, true},
		{"pid reused", me.String(), "1", false, true},
		{"zombie", child.String(), child.Start, false, true},
		{"another host", "1@elsewhere", "", false, false},
		{"garbage", "nobody", "", false, false},
	}
	for _, tt := range tests {
		alive, known := e.ownerAlive(tt.owner, tt.start)
		if alive != tt.alive || known != tt.known {
			t.Errorf("%s: alive %v known %v, want %v %v", tt.name, alive, known, tt.alive, tt.known)
		}
	}
}
