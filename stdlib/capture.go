package stdlib

import (
	"bytes"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/smithc/smithc/runtime"
)

// tailBuffer keeps the last max bytes written to it and counts the rest.
// It is safe for concurrent use.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	buf   []byte
	total int64
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

// Write implements io.Writer; it never fails.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total += int64(len(p))
	t.buf = append(t.buf, p...)
	// Compact once the slack is as large as the kept part, so that copying
	// stays linear in what is written.
	if len(t.buf) > 2*t.max {
		n := copy(t.buf, t.buf[len(t.buf)-t.max:])
		t.buf = t.buf[:n]
	}
	return len(p), nil
}

// String returns the kept tail. When bytes were dropped it starts with a
// line "[... N bytes cut ...]", and it never starts in the middle of a
// UTF-8 sequence.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	kept := t.buf
	if len(kept) > t.max {
		kept = kept[len(kept)-t.max:]
	}
	cut := t.total - int64(len(kept))
	if cut == 0 {
		return string(kept)
	}
	for i := 0; i < utf8.UTFMax && len(kept) > 0 && !utf8.RuneStart(kept[0]); i++ {
		kept = kept[1:]
		cut++
	}
	return fmt.Sprintf("[... %d bytes cut ...]\n%s", cut, kept)
}

// Cut reports whether bytes were dropped.
func (t *tailBuffer) Cut() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.total > int64(t.max)
}

// maxLoggedOutput caps how much process output one attempt streams to the
// event log; the captured output (the step's result) is not affected.
const maxLoggedOutput = 256 << 10

// monitor watches a process's output: it sends throttled heartbeats while
// output flows and streams complete lines to the event log as "StepOutput"
// events ({stream, text}). It is safe for concurrent use by the stdout and
// stderr readers.
type monitor struct {
	a        *runtime.Attempt
	interval time.Duration

	mu        sync.Mutex
	lastBeat  time.Time
	lastFlush time.Time
	pending   map[string]*bytes.Buffer
	logged    int
	truncated bool
}

func newMonitor(a *runtime.Attempt, interval time.Duration) *monitor {
	return &monitor{a: a, interval: interval, pending: map[string]*bytes.Buffer{}}
}

// writer returns an io.Writer feeding the monitor for one stream.
func (m *monitor) writer(stream string) *streamWriter {
	return &streamWriter{m: m, stream: stream}
}

// observe records a chunk of output of stream.
func (m *monitor) observe(stream string, p []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if now.Sub(m.lastBeat) >= m.interval {
		m.lastBeat = now
		m.a.Heartbeat(stream + " output")
	}
	b := m.pending[stream]
	if b == nil {
		b = &bytes.Buffer{}
		m.pending[stream] = b
	}
	if m.logged+b.Len() < maxLoggedOutput {
		b.Write(p)
	} else {
		m.truncated = true
	}
	if now.Sub(m.lastFlush) >= m.interval || b.Len() >= 16<<10 {
		m.lastFlush = now
		m.flushLocked(false)
	}
}

// flush sends whatever output is pending, complete lines or not.
func (m *monitor) flush() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.flushLocked(true)
	if m.truncated {
		m.truncated = false
		m.a.Log("StepOutput", map[string]any{"stream": "stdout", "text": fmt.Sprintf("[output beyond %d bytes not logged]\n", maxLoggedOutput)})
	}
}

func (m *monitor) flushLocked(all bool) {
	for _, stream := range []string{"stdout", "stderr"} {
		b := m.pending[stream]
		if b == nil || b.Len() == 0 {
			continue
		}
		data := b.Bytes()
		n := len(data)
		if !all {
			n = bytes.LastIndexByte(data, '\n') + 1
			if n == 0 && len(data) < 16<<10 {
				continue
			}
			if n == 0 {
				n = len(data)
			}
		}
		if !all {
			// The runtime redacts each event's text; a secret must not be
			// split across two events, so the start of one stays pending
			// until the rest of it comes.
			n -= m.a.Secrets.HoldBack(data[:n])
			if n == 0 {
				continue
			}
		}
		text := string(data[:n])
		b.Next(n)
		m.logged += n
		m.a.Log("StepOutput", map[string]any{"stream": stream, "text": text})
	}
}

// streamWriter is the io.Writer of one stream of a monitor.
type streamWriter struct {
	m      *monitor
	stream string
}

// Write implements io.Writer; it never fails.
func (w *streamWriter) Write(p []byte) (int, error) {
	w.m.observe(w.stream, p)
	return len(p), nil
}
