package sqlitestore

import (
	"sync/atomic"
	"time"
)

// ts formats a time for storage: fixed width UTC, so that text comparison
// orders times; the zero time is "".
//
// It writes the digits itself: time.Format interprets its layout on every
// call, and a batch formats several times per row (about a tenth of a
// 1,000-step run's commit CPU went to it). TestTimeText compares the two.
func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	var b [len(timeLayout)]byte
	return string(appendTS(b[:0], t))
}

// minutePrefix is the text of a minute, "2006-01-02T15:04:", for the
// minute since the Unix epoch min.
type minutePrefix struct {
	min  int64
	text [17]byte
}

// lastMinute is the minute appendTS formatted last: the times of a
// batch are mostly in one minute, and its date, hour and minute are
// copied, not computed again.
var lastMinute atomic.Pointer[minutePrefix]

// appendTS appends ts(t) to b.
func appendTS(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	u := t.Unix()
	min := u / 60
	if u%60 < 0 {
		min--
	}
	p := lastMinute.Load()
	if p == nil || p.min != min {
		ut := t.UTC()
		year, month, day := ut.Date()
		if year < 0 || year > 9999 {
			return ut.AppendFormat(b, timeLayout)
		}
		p = &minutePrefix{min: min}
		d := p.text[:]
		copy(d, "0000-00-00T00:00:")
		digits(d[0:4], year)
		digits(d[5:7], int(month))
		digits(d[8:10], day)
		digits(d[11:13], ut.Hour())
		digits(d[14:16], ut.Minute())
		lastMinute.Store(p)
	}
	b = append(b, p.text[:]...)
	sec, ns := int(u-min*60), t.Nanosecond()
	b = append(b, pairs[2*sec], pairs[2*sec+1], '.', byte('0'+ns/1e8))
	ns %= 1e8
	for div := int(1e6); div >= 1; div /= 100 {
		k := ns / div
		ns -= k * div
		b = append(b, pairs[2*k], pairs[2*k+1])
	}
	return append(b, 'Z')
}

// pairs holds "00" to "99".
const pairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// digits writes v in decimal into all of b, zero-padded on the left.
func digits(b []byte, v int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}

// parseTS reads the text ts writes, "2006-01-02T15:04:05.000000000Z" with
// every field in range, and reports false for anything else (pt then
// leaves it to time.Parse, which gives the same time or an error). It
// reads a stored time in 79 ns where time.Parse takes 182
// (BenchmarkTimeText); inspect of a 10⁵-iteration loop run, which reads
// three per node row, went from 665 to 636 ms (interleaved medians of 9).
func parseTS(s string) (time.Time, bool) {
	if len(s) != len(timeLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[29] != 'Z' {
		return time.Time{}, false
	}
	num := func(from, to int) int {
		v := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec, nsec := num(11, 13), num(14, 16), num(17, 19), num(20, 29)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 || nsec < 0 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

// daysIn is the number of days of month m in year (Gregorian).
func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}
