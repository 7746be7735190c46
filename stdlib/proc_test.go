package stdlib

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// processGone reports whether pid has exited (a zombie counts as gone: it
// runs nothing and waits only for its parent to reap it).
func processGone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}

// waitGone fails the test if pid is still running after a generous wait
// (signals are delivered asynchronously).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if processGone(pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("process %d is still running", pid)
}

func TestTailBuffer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		max    int
		writes []string
		want   string
	}{
		{"fits", 10, []string{"abc", "def"}, "abcdef"},
		{"exactly", 6, []string{"abc", "def"}, "abcdef"},
		{"cut", 4, []string{"abc", "def"}, "[... 2 bytes cut ...]\ncdef"},
		{"many small writes", 3, strings.Split("abcdefghij", ""), "[... 7 bytes cut ...]\nhij"},
		{"rune boundary kept", 3, []string{"aé", "éz"}, "[... 3 bytes cut ...]\néz"},
		{"never starts mid rune", 2, []string{"aé", "éz"}, "[... 5 bytes cut ...]\nz"},
		{"compaction", 4, []string{"0123456789", "abcdefghij", "k"}, "[... 17 bytes cut ...]\nhijk"},
	}
	for _, tt := range tests {
		b := newTailBuffer(tt.max)
		for _, w := range tt.writes {
			if _, err := b.Write([]byte(w)); err != nil {
				t.Fatal(err)
			}
		}
		if got := b.String(); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}
