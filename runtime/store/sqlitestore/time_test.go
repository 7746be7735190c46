package sqlitestore

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestTimeText checks that ts writes what time.Format would, for times
// across the range a store holds (and the zero time as "").
func TestTimeText(t *testing.T) {
	if got := ts(time.Time{}); got != "" {
		t.Fatalf("ts(zero) = %q, want \"\"", got)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	times := []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 12, 7, 6, 4, 5, 0, time.FixedZone("x", -7*3600)),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Now(),
	}
	for range 10000 {
		times = append(times, time.Unix(rnd.Int64N(300*365*86400)-100*365*86400, rnd.Int64N(1e9)).In(time.FixedZone("z", int(rnd.Int64N(86400))-43200)))
	}
	// runs of times a few seconds apart (appendTS reuses the text of the
	// minute it wrote last), across minutes, days, years and the epoch
	for _, base := range []time.Time{time.Date(2026, 12, 31, 23, 58, 30, 5, time.UTC), time.Unix(-150, 999999999), time.Date(9999, 12, 31, 23, 59, 0, 0, time.UTC)} {
		for k := range 400 {
			times = append(times, base.Add(time.Duration(k)*1700*time.Millisecond+time.Duration(rnd.Int64N(1e6))))
		}
	}
	for _, tm := range times {
		if got, want := ts(tm), tm.UTC().Format(timeLayout); got != want {
			t.Fatalf("ts(%v) = %q, want %q", tm, got, want)
		}
		if !pt(ts(tm)).Equal(tm) && tm.Year() > 0 && tm.Year() < 10000 {
			t.Fatalf("pt(ts(%v)) = %v", tm, pt(ts(tm)))
		}
	}
}

func BenchmarkTimeText(b *testing.B) {
	tm := time.Date(2026, 12, 7, 6, 4, 5, 123456789, time.UTC)
	b.Run("ts", func(b *testing.B) {
		for b.Loop() {
			_ = ts(tm)
		}
	})
	b.Run("appendTS", func(b *testing.B) {
		buf := make([]byte, 0, 64)
		for b.Loop() {
			buf = appendTS(buf[:0], tm)
		}
	})
	b.Run("Format", func(b *testing.B) {
		for b.Loop() {
			_ = tm.Format(timeLayout)
		}
	})
}
