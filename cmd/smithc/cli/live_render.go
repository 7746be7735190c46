package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/smithc/smithc/runtime/store"
)

// ANSI sequences of the live view.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiClear  = "\x1b[J" // clear from the cursor to the end of the screen
)

// stateLook returns the symbol and colour of a node state.
func stateLook(s store.NodeState) (symbol, color string) {
	switch s {
	case store.NodeRunning:
		return "▸", ansiCyan
	case store.NodeWaiting:
		return "◆", ansiBold + ansiYellow
	case store.NodeFinished:
		return "✓", ansiGreen
	case store.NodeFailed:
		return "✗", ansiRed
	case store.NodeSkipped:
		return "↷", ansiDim
	case store.NodeCancelled:
		return "⊘", ansiYellow
	}
	return "·", ansiDim
}

// state sums up a row's instances: any running or waiting instance makes
// the row so; then failed, cancelled; all finished or skipped make it
// finished (skipped when none finished).
func (r *liveRow) state() store.NodeState {
	if len(r.instances) == 0 {
		return store.NodePending
	}
	has := map[store.NodeState]bool{}
	for _, in := range r.instances {
		has[in.state] = true
	}
	for _, s := range []store.NodeState{store.NodeRunning, store.NodeWaiting, store.NodeFailed, store.NodeCancelled, store.NodePending, store.NodeFinished} {
		if has[s] {
			return s
		}
	}
	return store.NodeSkipped
}

// elapsed is the time from the row's first start to its last end, or to
// now while it is active.
func (r *liveRow) elapsed(now time.Time) (time.Duration, bool) {
	var start, end time.Time
	active := false
	for _, in := range r.instances {
		if in.started.IsZero() {
			continue
		}
		if start.IsZero() || in.started.Before(start) {
			start = in.started
		}
		switch {
		case in.state == store.NodeRunning || in.state == store.NodeWaiting:
			active = true
		case in.ended.After(end):
			end = in.ended
		}
	}
	if start.IsZero() {
		return 0, false
	}
	if active || end.IsZero() {
		end = now
	}
	return end.Sub(start), true
}

// formatElapsed prints a duration compactly: 80ms, 1.2s, 2m03s, 1h05m.
func formatElapsed(d time.Duration) string {
	switch {
	case d < 0:
		d = 0
		fallthrough
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// frame renders the current tree: a header line, then one line per node
// (at most the terminal's height allows), each cut to the width.
func (v *liveView) frame(now time.Time) string {
	var b strings.Builder
	end := now
	if !v.ended.IsZero() {
		end = v.ended
	}
	head := fmt.Sprintf("run %s %s  %s", v.runID, v.workflow, v.status)
	if !v.started.IsZero() {
		head += "  " + formatElapsed(end.Sub(v.started))
	}
	b.WriteString(v.paint(ansiBold, cut(head, v.width)) + "\n")

	rows := v.visibleRows()
	idWidth := 0
	for _, r := range rows {
		idWidth = max(idWidth, 2*r.depth+len([]rune(r.id)))
	}
	for _, r := range rows {
		st := r.state()
		id := strings.Repeat("  ", r.depth) + r.id
		line := fmt.Sprintf("%-*s  %-9s", idWidth, id, st)
		if r.attempt > 0 {
			line += fmt.Sprintf(" #%-2d", r.attempt)
		} else {
			line += "    "
		}
		if d, ok := r.elapsed(now); ok {
			line += fmt.Sprintf(" %7s", formatElapsed(d))
		} else {
			line += "        "
		}
		if n := len(r.instances); n > 1 {
			line += fmt.Sprintf("  ×%d", n)
		}
		if r.note != "" {
			line += "  " + strings.ReplaceAll(r.note, "\n", " ")
		}
		line = cut(strings.TrimRight(line, " "), v.width-4)
		symbol, color := stateLook(st)
		sym := v.paint(color, symbol)
		if st == store.NodeWaiting {
			line = v.paint(ansiBold+ansiYellow, line)
		}
		b.WriteString("  " + sym + " " + line + "\n")
	}
	if hidden := len(v.rows) - len(rows); hidden > 0 {
		b.WriteString(v.paint(ansiDim, fmt.Sprintf("  … %d more nodes", hidden)) + "\n")
	}
	return b.String()
}

// visibleRows returns the rows that fit the terminal: all of them when
// they fit, otherwise the active and failed ones first, then the others
// in tree order.
func (v *liveView) visibleRows() []*liveRow {
	room := v.height - 3 // header, the "more" line, and the cursor's line
	if room < 1 {
		room = 1
	}
	if len(v.rows) <= room {
		return v.rows
	}
	keep := map[*liveRow]bool{}
	n := 0
	for pass := 0; pass < 2; pass++ {
		for _, r := range v.rows {
			if n == room {
				break
			}
			st := r.state()
			urgent := st == store.NodeRunning || st == store.NodeWaiting || st == store.NodeFailed
			if !keep[r] && (pass == 1 || urgent) {
				keep[r] = true
				n++
			}
		}
	}
	out := make([]*liveRow, 0, room)
	for _, r := range v.rows {
		if keep[r] {
			out = append(out, r)
		}
	}
	return out
}

// summary is the line printed under the last frame: how the run ended
// and how many nodes ended in each state.
func (v *liveView) summary(now time.Time) string {
	end := now
	if !v.ended.IsZero() {
		end = v.ended
	}
	counts := map[store.NodeState]int{}
	for _, r := range v.rows {
		counts[r.state()]++
	}
	var parts []string
	for _, s := range []store.NodeState{store.NodeFinished, store.NodeFailed, store.NodeSkipped, store.NodeCancelled, store.NodeWaiting, store.NodeRunning, store.NodePending} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	s := fmt.Sprintf("run %s %s", v.runID, v.status)
	if !v.started.IsZero() {
		s += " after " + formatElapsed(end.Sub(v.started))
	}
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	return s
}

func (v *liveView) paint(code, s string) string {
	if !v.color || code == "" {
		return s
	}
	return code + s + ansiReset
}

// cut shortens s to at most n runes, marking the cut with "…".
func cut(s string, n int) string {
	r := []rune(s)
	if n < 2 || len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// drawLocked writes the frame over the previous one: the cursor goes back
// up over the lines drawn last time, the rest of the screen is cleared,
// and the new frame is written. v.mu must be held.
func (v *liveView) drawLocked() {
	if v.size != nil {
		if w, h := v.size(); w > 0 && h > 0 {
			v.width, v.height = w, h
		}
	}
	f := v.frame(v.now())
	var b strings.Builder
	if v.lines > 0 {
		fmt.Fprintf(&b, "\r\x1b[%dA", v.lines)
	}
	b.WriteString(ansiClear)
	b.WriteString(f)
	_, _ = io.WriteString(v.w, b.String()) // a terminal that went away only loses the picture
	v.lines = strings.Count(f, "\n")
	v.dirty = false
}
