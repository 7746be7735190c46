package cli

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// stderrFlushDelay is how long a line written to a stderr that is not a
// terminal may wait in the buffer before it is written out.
const stderrFlushDelay = 20 * time.Millisecond

// delayedWriter buffers what is written to a stderr that is not a
// terminal (a pipe, a file, a CI log) and writes it out at most
// stderrFlushDelay later, before anything is written to stdout, and when
// the command ends: a run's plain progress lines (one per event, a few
// thousand for a chain of steps) then cost a few writes instead of one
// each, while a reader still sees every line within a moment and in the
// same order relative to stdout.
type delayedWriter struct {
	mu     sync.Mutex
	w      *bufio.Writer
	timer  *time.Timer
	closed bool
}

func newDelayedWriter(w io.Writer) *delayedWriter {
	return &delayedWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

func (d *delayedWriter) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		// After close (a goroutine that outlived the command): no
		// buffering, nothing left behind.
		if err := d.w.Flush(); err != nil {
			return 0, err
		}
		n, err := d.w.Write(p)
		if err == nil {
			err = d.w.Flush()
		}
		return n, err
	}
	n, err := d.w.Write(p)
	if d.timer == nil && d.w.Buffered() > 0 {
		d.timer = time.AfterFunc(stderrFlushDelay, func() { d.Flush() }) //nolint:errcheck // a failed write of progress has nowhere to be reported
	}
	return n, err
}

// Flush writes out what is buffered.
func (d *delayedWriter) Flush() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.flushLocked()
}

func (d *delayedWriter) flushLocked() error {
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	return d.w.Flush()
}

// Close flushes and stops buffering: later writes go straight through.
func (d *delayedWriter) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	return d.flushLocked()
}

// flushFirst is stdout when stderr is delayed: each write to it first
// writes out what stderr holds, so that 2>&1 keeps the order.
type flushFirst struct {
	w      io.Writer
	before *delayedWriter
}

func (f flushFirst) Write(p []byte) (int, error) {
	if err := f.before.Flush(); err != nil {
		return 0, err
	}
	return f.w.Write(p)
}
