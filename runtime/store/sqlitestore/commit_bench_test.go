//go:build unix

package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/smithc/smithc/runtime/store"
)

// elementBatch is the runtime's commit of k compute steps (for elements
// or a chain): per step its node row, its first attempt started and
// finished, and its three events, fenced on the run's claim.
func elementBatch(fence *store.Fence, first, k int, now time.Time) *store.Batch {
	b := &store.Batch{Fence: fence}
	for i := first; i < first+k; i++ {
		scope := fmt.Sprintf("F[%d]", i)
		t := now.Add(time.Duration(i) * time.Microsecond)
		b.Nodes = append(b.Nodes, &store.Node{RunID: fence.RunID, NodeID: "w", Scope: scope, Kind: "step", State: store.NodeFinished,
			Attempts: 1, Output: []byte(fmt.Sprint(2 * i)), StartedAt: t, FinishedAt: t.Add(3 * time.Microsecond), UpdatedAt: t.Add(3 * time.Microsecond)})
		b.AttemptStarts = append(b.AttemptStarts, &store.Attempt{RunID: fence.RunID, NodeID: "w", Scope: scope, Number: 1, State: store.AttemptFinished,
			Owner: "24622@vm", LeaseExpiresAt: t.Add(10 * time.Second), HeartbeatAt: t.Add(time.Microsecond), StartedAt: t.Add(time.Microsecond), FinishedAt: t.Add(3 * time.Microsecond)})
		b.Events = append(b.Events,
			&store.Event{RunID: fence.RunID, NodeID: "w", Scope: scope, Kind: "NodeStarted", Time: t},
			&store.Event{RunID: fence.RunID, NodeID: "w", Scope: scope, Attempt: 1, Kind: "AttemptStarted", Time: t.Add(time.Microsecond)},
			&store.Event{RunID: fence.RunID, NodeID: "w", Scope: scope, Attempt: 1, Kind: "NodeFinished", Time: t.Add(3 * time.Microsecond)})
	}
	return b
}

// BenchmarkBatchCommit commits batches of k compute steps and reports
// the cost per step (ns/step) of BatchCommit alone: k=1 is a sequential
// step committed by itself, k=200 a for's group commit.
func BenchmarkBatchCommit(b *testing.B) {
	for _, k := range []int{1, 200} {
		b.Run(fmt.Sprint(k), func(b *testing.B) {
			ctx := context.Background()
			s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
			const id = "20261207T081445-01bad383"
			if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: id, Workflow: "fan", Status: store.RunRunning}, Now: now}); err != nil {
				b.Fatal(err)
			}
			run, err := s.RunClaim(ctx, &store.RunClaimParams{ID: id, Owner: "24622@vm", LeaseExpiresAt: now.Add(time.Hour), Now: now})
			if err != nil {
				b.Fatal(err)
			}
			fence := &store.Fence{RunID: id, Owner: "24622@vm", Token: run.Fence}
			const ahead = 64
			var batches []*store.Batch
			n := 0
			var building time.Duration // CPU spent making batches, not committing them
			b.ReportAllocs()
			b.ResetTimer()
			cpu := selfCPU()
			for i := 0; i < b.N; i++ {
				if len(batches) == 0 {
					b.StopTimer()
					c0 := selfCPU()
					for j := 0; j < ahead; j++ {
						batches = append(batches, elementBatch(fence, n, k, now))
						n += k
					}
					building += selfCPU() - c0
					b.StartTimer()
				}
				if err := s.BatchCommit(ctx, batches[0]); err != nil {
					b.Fatal(err)
				}
				batches = batches[1:]
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*k), "ns/step")
			b.ReportMetric(float64(selfCPU()-cpu-building)/float64(b.N*k), "cpu-ns/step")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// selfCPU returns the CPU time (user and system) this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru) //nolint:errcheck // cannot fail for RUSAGE_SELF
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEventList reads back the events of 2,000 compute steps
// committed in group commits of 200 (what logs and inspect read).
func BenchmarkEventList(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: "r", Workflow: "fan", Status: store.RunRunning}, Now: now}); err != nil {
		b.Fatal(err)
	}
	fence := &store.Fence{RunID: "r"}
	for i := 0; i < 10; i++ {
		bt := elementBatch(fence, i*200, 200, now)
		bt.Fence = nil
		if err := s.BatchCommit(ctx, bt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		evs, err := s.EventList(ctx, &store.EventListParams{RunID: "r"})
		if err != nil || len(evs) != 6000 {
			b.Fatal(len(evs), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*6000), "ns/event")
}

// BenchmarkCommitsThenClose is a sequential run's store work: open an
// existing store, n step commits of one compute step each (fenced, as
// the runtime commits them), then Close. Each iteration runs every
// variant once, in turn (the machine is noisy: interleaved), and the
// benchmark reports per variant the medians of the commits' wall time,
// Close's (the last connection's checkpoint of what is left in the WAL,
// and its truncation) and the total, and of the process's CPU time over
// both, and the ratios of the totals to "off": the store without its
// background checkpointer (Options.CheckpointFrames -1: SQLite's own
// automatic checkpoint only), the baseline. FULL is --durability full
// with a checkpointer asked for (it has none by default).
func BenchmarkCommitsThenClose(b *testing.B) {
	for _, sync := range []string{"NORMAL", "FULL"} {
		for _, n := range []int{100, 1000} {
			b.Run(fmt.Sprintf("%s/%d", sync, n), func(b *testing.B) { benchCommitsThenClose(b, sync, n) })
		}
	}
}

func benchCommitsThenClose(b *testing.B, sync string, n int) {
	variants := []int{-1, DefaultCheckpointFrames}
	name := func(frames int) string {
		if frames < 0 {
			return "off"
		}
		return fmt.Sprint(frames)
	}
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	paths := make([]string, len(variants))
	for v, frames := range variants {
		paths[v] = filepath.Join(b.TempDir(), "bench.db")
		s, err := Open(ctx, paths[v], Options{Synchronous: sync, CheckpointFrames: frames})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
	type sample struct{ commits, close, cpu time.Duration }
	samples := make([][]sample, len(variants))
	one := func(v, i int) sample {
		b.StopTimer()
		defer b.StartTimer()
		s, err := Open(ctx, paths[v], Options{Synchronous: sync, CheckpointFrames: variants[v]})
		if err != nil {
			b.Fatal(err)
		}
		fence := ckptRun(b, s, fmt.Sprintf("run-%d", i))
		batches := make([]*store.Batch, n)
		for j := range batches {
			batches[j] = elementBatch(fence, j, 1, now)
		}
		b.StartTimer()
		c0, t0 := selfCPU(), time.Now()
		for _, bt := range batches {
			if err := s.BatchCommit(ctx, bt); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		return sample{commits: t1.Sub(t0), close: t2.Sub(t1), cpu: selfCPU() - c0}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range variants {
			v := (i + k) % len(variants)
			samples[v] = append(samples[v], one(v, i))
		}
	}
	b.StopTimer()
	median := func(xs []sample, f func(sample) time.Duration) float64 {
		ds := make([]time.Duration, len(xs))
		for i, x := range xs {
			ds[i] = f(x)
		}
		slices.Sort(ds)
		return float64(ds[len(ds)/2].Nanoseconds()) / 1e3
	}
	total := func(x sample) time.Duration { return x.commits + x.close }
	for v, frames := range variants {
		nm := name(frames)
		b.ReportMetric(median(samples[v], func(x sample) time.Duration { return x.commits }), nm+"-commits-µs")
		b.ReportMetric(median(samples[v], func(x sample) time.Duration { return x.close }), nm+"-close-µs")
		b.ReportMetric(median(samples[v], total), nm+"-total-µs")
		b.ReportMetric(median(samples[v], func(x sample) time.Duration { return x.cpu }), nm+"-cpu-µs")
		if v > 0 {
			b.ReportMetric(median(samples[v], total)/median(samples[0], total), nm+"/off-total")
		}
	}
	b.ReportMetric(0, "ns/op")
}
