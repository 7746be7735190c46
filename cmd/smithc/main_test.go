package main

import (
	"os"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

func gogc() uint64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// waitCollections waits until paceGC has looked at n collections.
func waitCollections(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for collectionsWatched.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("paceGC looked at %d collections, want %d (GOGC %d)", collectionsWatched.Load(), n, gogc())
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

// TestGCPacing: the process starts with GOGC=400, keeps it while the live
// heap stays small, and goes back to the default (100) for good once a
// collection finds more than 4 MB live.
func TestGCPacing(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("$GOGC is set: smithc leaves the pacing to it")
	}
	paceGC()
	if got := gogc(); got != smallHeapGCPercent {
		t.Fatalf("GOGC after paceGC = %d, want %d", got, smallHeapGCPercent)
	}
	waitCollections(t, 1)
	if got := gogc(); got != smallHeapGCPercent {
		t.Fatalf("GOGC after a collection with a small live heap = %d, want %d", got, smallHeapGCPercent)
	}
	// The allocations may set off a collection themselves: wait for the
	// pacing to change rather than for a number of collections.
	big := make([][]byte, 16)
	for i := range big {
		big[i] = make([]byte, 1<<20)
	}
	deadline := time.Now().Add(30 * time.Second)
	for gogc() != 100 {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC is %d after collections with 16 MB live, want 100", gogc())
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	runtime.KeepAlive(big)
	n := collectionsWatched.Load()
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	time.Sleep(10 * time.Millisecond)
	if m := collectionsWatched.Load(); m != n {
		t.Errorf("paceGC still watches collections after going back to the default (%d → %d)", n, m)
	}
	if got := gogc(); got != 100 {
		t.Errorf("GOGC = %d after going back to the default", got)
	}
}
