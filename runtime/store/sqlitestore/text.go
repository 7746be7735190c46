package sqlitestore

import "time"

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

// appendTS appends ts(t) to b.
func appendTS(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, timeLayout)
	}
	hour, minute, sec := t.Clock()
	n := len(b)
	b = append(b, "0000-00-00T00:00:00.000000000Z"...)
	d := b[n:]
	digits(d[0:4], year)
	digits(d[5:7], int(month))
	digits(d[8:10], day)
	digits(d[11:13], hour)
	digits(d[14:16], minute)
	digits(d[17:19], sec)
	digits(d[20:29], t.Nanosecond())
	return b
}

// digits writes v in decimal into all of b, zero-padded on the left.
func digits(b []byte, v int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}
