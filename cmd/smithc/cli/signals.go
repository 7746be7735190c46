package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// watchSignals is signal.NotifyContext for SIGINT, SIGTERM and SIGHUP
// (the first one cancels ctx; stop unregisters them), with the
// registration made on a goroutine of its own: ready is closed once it is
// made. Go's first signal.Notify in a process costs 0.2-0.4 ms here (the
// runtime starts a thread to manage signal masks and hands it each
// signal in turn): a one-step smithc run of 10 ms would wait for it
// before compiling its file. Commands wait for ready before they start
// anything a signal must stop cleanly (newEngine); until then a signal
// has its default effect, as it has while the process starts.
func watchSignals(parent context.Context) (ctx context.Context, ready <-chan struct{}, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 1)
	registered := make(chan struct{})
	done := make(chan struct{})
	go func() {
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		close(registered)
		select {
		case <-sigs:
			cancel()
		case <-done:
		case <-ctx.Done():
		}
	}()
	stop = func() {
		<-registered // so that Stop does not come before Notify
		signal.Stop(sigs)
		close(done)
		cancel()
	}
	return ctx, registered, stop
}
