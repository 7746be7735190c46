package fuzzguard

import (
	"testing"
)

type fakeT struct {
	testing.TB
	failed string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed = format
}

func TestRunPassesSmallWork(t *testing.T) {
	ft := &fakeT{TB: t}
	Run(ft, []byte("x"), func() { _ = make([]byte, 1<<20) })
	if ft.failed != "" {
		t.Errorf("small work failed the guard: %s", ft.failed)
	}
}

var sink [][]byte

func TestRunFailsOnAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates more than 1 GiB in total")
	}
	fuzzingForTest = true
	defer func() { fuzzingForTest = false }()
	ft := &fakeT{TB: t}
	Run(ft, []byte("x"), func() {
		for i := 0; i < 1100; i++ {
			sink = append(sink[:0], make([]byte, 1<<20)) // 1.1 GiB allocated, 1 MiB live
		}
	})
	sink = nil
	if ft.failed == "" {
		t.Error("1.1 GiB of allocations passed the guard")
	}
}
