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

// TestParseTSAgreesWithTimeParse: the fast reading of a stored time
// reads every text ts writes as time.Parse does, and refuses (so that pt
// asks time.Parse) whatever time.Parse refuses: fields out of range,
// February 29th of common years, other characters; what it refuses and
// time.Parse reads (a comma before the fraction) pt still reads.
func TestParseTSAgreesWithTimeParse(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	texts := []string{"2024-02-29T00:00:00.000000000Z", "2023-02-29T00:00:00.000000000Z", "1900-02-29T12:00:00.000000000Z",
		"2000-02-29T12:00:00.000000000Z", "2026-04-31T00:00:00.000000000Z", "2026-12-07T24:00:00.000000000Z",
		"2026-12-07T23:60:00.000000000Z", "2026-12-07T23:59:60.000000000Z", "2026-13-07T23:59:59.000000000Z",
		"2026-00-07T23:59:59.000000000Z", "2026-12-00T23:59:59.000000000Z", "2026-12-07T23:59:59.00000000xZ",
		"2026-12-07 23:59:59.000000000Z", "2026-12-07T23:59:59.000000000+", "+026-12-07T23:59:59.000000000Z",
		"0000-01-01T00:00:00.000000000Z", "9999-12-31T23:59:59.999999999Z", "2026-12-07T23:59:59Z"}
	for range 20000 {
		tm := time.Unix(rnd.Int64N(300*365*86400)-100*365*86400, rnd.Int64N(1e9))
		if got, ok := parseTS(ts(tm)); !ok || !got.Equal(tm) {
			t.Fatalf("parseTS(%q) = %v, %v, want %v", ts(tm), got, ok, tm)
		}
		texts = append(texts, ts(tm))
		b := []byte(ts(tm))
		b[rnd.IntN(len(b))] = "0123456789:-TZ.x"[rnd.IntN(16)] // one character changed
		texts = append(texts, string(b))
	}
	for _, s := range texts {
		checkParseTS(t, s)
	}
}

func checkParseTS(t *testing.T, s string) {
	t.Helper()
	want, err := time.Parse(timeLayout, s)
	got, ok := parseTS(s)
	switch {
	case ok && err != nil:
		t.Fatalf("parseTS(%q) = %v, but time.Parse refuses it: %v", s, got, err)
	case ok && !got.Equal(want):
		t.Fatalf("parseTS(%q) = %v, time.Parse %v", s, got, want)
	}
	if p := pt(s); (err == nil && !p.Equal(want)) || (err != nil && !p.IsZero()) {
		t.Fatalf("pt(%q) = %v, want %v (%v)", s, p, want, err)
	}
}

func FuzzParseTS(f *testing.F) {
	f.Add("2026-12-07T06:04:05.123456789Z")
	f.Add("2024-02-29T23:59:59.999999999Z")
	f.Fuzz(func(t *testing.T, s string) { checkParseTS(t, s) })
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
	text := ts(tm)
	b.Run("pt", func(b *testing.B) {
		for b.Loop() {
			_ = pt(text)
		}
	})
	b.Run("Parse", func(b *testing.B) {
		for b.Loop() {
			_, _ = time.Parse(timeLayout, text)
		}
	})
}
