package cli

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the flush timer's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDelayedStderrKeepsTheOrder: with stdout and stderr on one pipe
// (2>&1), lines written to the delayed stderr come out before what is
// written to stdout after them, and everything is out at close.
func TestDelayedStderrKeepsTheOrder(t *testing.T) {
	t.Parallel()
	var both syncBuffer
	d := newDelayedWriter(&both)
	out := flushFirst{w: &both, before: d}
	var want strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(d, "progress %d\n", i)
		fmt.Fprintf(&want, "progress %d\n", i)
		if i%100 == 99 {
			fmt.Fprintf(out, "result %d\n", i)
			fmt.Fprintf(&want, "result %d\n", i)
		}
	}
	fmt.Fprintf(d, "last line\n")
	fmt.Fprintf(&want, "last line\n")
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if got := both.String(); got != want.String() {
		t.Errorf("interleaved output out of order:\n%s", got)
	}
	fmt.Fprintf(d, "after close\n") // a goroutine that outlived the command
	if got := both.String(); !strings.HasSuffix(got, "last line\nafter close\n") {
		t.Errorf("a write after close was held back: %q", got[len(got)-40:])
	}
}

// TestDelayedStderrFlushesByItself: a line nobody flushes is written out
// by the writer's timer (a person tailing a log sees it while the
// command still runs).
func TestDelayedStderrFlushesByItself(t *testing.T) {
	t.Parallel()
	var b syncBuffer
	d := newDelayedWriter(&b)
	defer d.Close()
	fmt.Fprintf(d, "NodeStarted s\n")
	deadline := time.Now().Add(10 * time.Second)
	for b.String() == "" {
		if time.Now().After(deadline) {
			t.Fatal("the buffered line was not written out by the timer")
		}
		time.Sleep(time.Millisecond)
	}
	if got := b.String(); got != "NodeStarted s\n" {
		t.Errorf("got %q", got)
	}
}
