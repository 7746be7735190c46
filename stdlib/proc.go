package stdlib

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/smithc/smithc/runtime"
)

// procSpec describes a process to run.
type procSpec struct {
	Path  string   // the program, already resolved
	Args  []string // argv, Args[0] included
	Dir   string
	Env   []string
	Stdin io.Reader // nil: /dev/null
	// StdoutLine, when set, gets each complete line of stdout as it is
	// printed (without the newline; very long lines are cut), so that a
	// caller can read an event stream whatever the capture keeps.
	StdoutLine func(line []byte)
}

// procResult is what a finished (or killed) process left.
type procResult struct {
	Stdout, Stderr string
	StdoutCut      bool
	ExitCode       int   // 128+signal when killed by a signal
	CtxErr         error // non-nil when the context ended the process
}

// runProcess starts spec in its own process group, captures its output
// (bounded, keeping the tail) while a monitor heartbeats and streams it to
// the event log, and waits. When ctx ends, the group gets SIGTERM and,
// after the grace period, SIGKILL. Whatever is left of the group once the
// leader exits is killed too, so a step never leaks processes. The error
// is non-nil only when the process could not be started.
func runProcess(ctx context.Context, cfg Config, a *runtime.Attempt, spec procSpec) (procResult, error) {
	var res procResult
	if err := ctx.Err(); err != nil {
		res.CtxErr = err
		return res, nil
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return res, fmt.Errorf("stdout pipe: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return res, fmt.Errorf("stderr pipe: %w", err)
	}
	cmd := &exec.Cmd{
		Path:        spec.Path,
		Args:        spec.Args,
		Dir:         spec.Dir,
		Env:         spec.Env,
		Stdin:       spec.Stdin,
		Stdout:      outW,
		Stderr:      errW,
		SysProcAttr: childAttr(),
		// Bounds how long Wait waits for the stdin copy once the process
		// has exited (a child that inherited stdin may never read it).
		WaitDelay: cfg.killGrace(),
	}
	CloseInheritedFiles()
	// Pdeathsig (Linux) follows the thread that starts the child: keep it
	// from exiting, and from being handed to a goroutine that might end
	// it, until the child is reaped.
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	startErr := cmd.Start()
	// The child holds its own copies of the write ends; ours must be
	// closed so that the readers see EOF when the group is gone.
	outW.Close()
	errW.Close()
	if startErr != nil {
		outR.Close()
		errR.Close()
		return res, startErr
	}
	pgid := cmd.Process.Pid
	a.ReportProcess(pgid) // recorded, so that a resume after a crash kills what is left

	mon := newMonitor(a, cfg.heartbeatInterval())
	stdout := newTailBuffer(cfg.maxOutput())
	stderr := newTailBuffer(cfg.maxOutput())
	var readers sync.WaitGroup
	readers.Add(2)
	outSinks := []io.Writer{stdout, mon.writer("stdout")}
	var lines *lineWriter
	if spec.StdoutLine != nil {
		lines = &lineWriter{fn: spec.StdoutLine}
		outSinks = append(outSinks, lines)
	}
	go copyStream(&readers, io.MultiWriter(outSinks...), outR)
	go copyStream(&readers, io.MultiWriter(stderr, mon.writer("stderr")), errR)

	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var waitErr error
	select {
	case waitErr = <-waited:
	case <-ctx.Done():
		res.CtxErr = ctx.Err()
		killGroup(pgid, syscall.SIGTERM)
		timer := time.NewTimer(cfg.killGrace())
		select {
		case waitErr = <-waited:
			timer.Stop()
		case <-timer.C:
			killGroup(pgid, syscall.SIGKILL)
			waitErr = <-waited
		}
	}
	// Stragglers (background jobs of the script) die with the step.
	killGroup(pgid, syscall.SIGKILL)

	// A process that left the group (setsid) may still hold a pipe; do not
	// wait for it longer than the grace period.
	done := make(chan struct{})
	go func() { readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(cfg.killGrace()):
		outR.Close()
		errR.Close()
		<-done
	}
	outR.Close()
	errR.Close()
	mon.flush()
	if lines != nil {
		lines.flush()
	}

	res.Stdout, res.Stderr, res.StdoutCut = stdout.String(), stderr.String(), stdout.Cut()
	res.ExitCode = exitCode(cmd.ProcessState, waitErr)
	return res, nil
}

func copyStream(wg *sync.WaitGroup, w io.Writer, r io.Reader) {
	defer wg.Done()
	// Errors end the copy: a closed pipe means the output is over.
	_, _ = io.Copy(w, r)
}

// killGroup signals the process group pgid; a group that is already gone
// is not an error worth reporting.
func killGroup(pgid int, sig syscall.Signal) {
	_ = syscall.Kill(-pgid, sig) // ESRCH: nothing left to kill
}

// exitCode returns a process's exit code, 128+N when signal N killed it.
func exitCode(ps *os.ProcessState, waitErr error) int {
	if ps == nil {
		if waitErr != nil {
			return -1
		}
		return 0
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// envValue returns the value of key in env ("KEY=value" entries, the last
// one wins).
func envValue(env []string, key string) string {
	val := ""
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			val = v
		}
	}
	return val
}

// lookPath finds the program name on the PATH of env. A name with a slash
// is used as it is (relative to dir when relative).
func lookPath(name string, env []string, dir string) (string, error) {
	if name == "" {
		return "", errors.New("empty program name")
	}
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) && dir != "" {
			p = filepath.Join(dir, p)
		}
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("program %q: %w", name, err)
		}
		return p, nil
	}
	for _, d := range filepath.SplitList(envValue(env, "PATH")) {
		if d == "" || !filepath.IsAbs(d) {
			continue
		}
		p := filepath.Join(d, name)
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("program %q not found on PATH", name)
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fs.ErrPermission
	}
	return nil
}

// mergeEnv returns base with the entries of extra set (replacing earlier
// values of the same keys).
func mergeEnv(base []string, extra map[string]string, keys []string) []string {
	out := make([]string, 0, len(base)+len(keys))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := extra[k]; ok {
			continue
		}
		out = append(out, kv)
	}
	for _, k := range keys {
		out = append(out, k+"="+extra[k])
	}
	return out
}

// maxEventLine bounds one line a lineWriter hands on; the rest of a longer
// line is dropped (an event that large is not one a parser needs whole).
const maxEventLine = 16 << 20

// lineWriter splits what is written to it into lines for fn. It is used
// by one goroutine at a time.
type lineWriter struct {
	fn   func([]byte)
	buf  []byte
	drop bool // the current line is over maxEventLine
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.add(p)
			break
		}
		w.add(p[:i])
		w.emit()
		p = p[i+1:]
	}
	return n, nil
}

func (w *lineWriter) add(p []byte) {
	if w.drop {
		return
	}
	if len(w.buf)+len(p) > maxEventLine {
		w.drop = true
		return
	}
	w.buf = append(w.buf, p...)
}

func (w *lineWriter) emit() {
	if !w.drop && len(bytes.TrimSpace(w.buf)) > 0 {
		w.fn(w.buf)
	}
	w.buf, w.drop = w.buf[:0], false
}

// flush hands on a last line that has no newline.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.emit()
	}
}
