package format

import (
	"strings"
)

// item is one entry of a braced group (or of the file): an attribute, a
// field, a block, a node or a declaration, already rendered.
type item struct {
	start, end int    // the item's source range (byte offsets)
	key        string // an attribute's name, aligned on "="; "" otherwise
	text       string // the rest: "= value" for an attribute, else all of it; lines after the first are complete
	node       bool   // a node or declaration: one blank line between two of them unless both are one line
	inlinable  bool   // may sit in a one-line group
	trailing   string // line comments from inside the item, written after it
}

func (it item) render() string {
	if it.key != "" {
		return it.key + " " + it.text
	}
	return it.text
}

// line is one output line of a group before alignment.
type line struct {
	blank    bool   // an empty line before this one
	key      string // aligned attribute name, or ""
	text     string // the rest of the line (may hold further complete lines)
	trailing string // a trailing comment
	comment  bool   // a comment on its own line
}

// group lays out items between the "{" at open and the "}" at close (or
// the whole file when close < 0), at indentation depth. When oneLine is
// allowed and the source had the group on one line without comments, the
// result is "{ a, b }". The result has no indentation before its first
// line; it starts with "{" unless close < 0.
func (p *printer) group(open, close int, items []item, depth int, oneLine bool) string {
	ind := strings.Repeat(indentUnit, depth)
	inner := ind + indentUnit
	fileLevel := close < 0
	end := close
	if fileLevel {
		end = len(p.src)
		inner = ""
	}
	if !fileLevel && len(p.commentsIn(open+1, close)) == 0 {
		if len(items) == 0 {
			return "{}"
		}
		if oneLine && p.line(open) == p.line(close) && allInline(items) {
			parts := make([]string, len(items))
			for i, it := range items {
				parts[i] = it.render()
			}
			return "{ " + strings.Join(parts, ", ") + " }"
		}
	}
	var lines []line
	headerComment := ""
	prevEnd := open + 1
	if fileLevel {
		prevEnd = 0
	}
	prevItem := -1
	for i, it := range items {
		prefix := ""
		for _, c := range p.commentsIn(prevEnd, it.start) {
			c.used = true
			switch {
			case strings.HasPrefix(c.text, "/*") && !strings.Contains(c.text, "\n") && p.line(c.end) == p.line(it.start) &&
				(prevItem < 0 || p.line(c.start) != p.line(items[prevItem].end)) && (fileLevel || p.line(c.start) != p.line(open)):
				// a block comment just before the item, on its line
				prefix += c.text + " "
				continue // an empty line before it is the item's
			case !fileLevel && prevItem < 0 && p.line(c.start) == p.line(open):
				headerComment += " " + c.text
			case prevItem >= 0 && p.line(c.start) == p.line(items[prevItem].end) && len(lines) > 0 && !lines[len(lines)-1].comment:
				lines = attach(lines, c.text)
			default:
				lines = append(lines, line{blank: len(lines) > 0 && p.blankBetween(prevEnd, c.start), text: c.text, comment: true})
			}
			prevEnd = c.end
		}
		blank := len(lines) > 0 && p.blankBetween(prevEnd, it.start)
		if prevItem >= 0 && it.node && items[prevItem].node &&
			(strings.Contains(it.text, "\n") || strings.Contains(items[prevItem].text, "\n")) {
			// one blank line between two nodes, before the comments that
			// lead the second one
			first := len(lines)
			for first > 0 && lines[first-1].comment && first-1 > lastItemLine(lines) {
				first--
				if lines[first].blank {
					break // the comments before it belong to the item above
				}
			}
			if first < len(lines) {
				lines[first].blank = true
			} else {
				blank = true
			}
		}
		if prefix != "" {
			if it.key != "" {
				it.key = prefix + it.key
			} else {
				it.text = prefix + it.text
			}
		}
		lines = append(lines, line{blank: blank, key: it.key, text: it.text})
		if it.trailing != "" {
			lines = attach(lines, it.trailing)
		}
		prevEnd, prevItem = it.end, i
	}
	for _, c := range p.commentsIn(prevEnd, end) {
		c.used = true
		switch {
		case !fileLevel && prevItem < 0 && p.line(c.start) == p.line(open):
			headerComment += " " + c.text
		case prevItem >= 0 && p.line(c.start) == p.line(items[prevItem].end) && len(lines) > 0 && !lines[len(lines)-1].comment:
			lines = attach(lines, c.text)
		default:
			lines = append(lines, line{blank: len(lines) > 0 && p.blankBetween(prevEnd, c.start), text: c.text, comment: true})
		}
		prevEnd = c.end
	}
	align(lines)
	var b strings.Builder
	if !fileLevel {
		b.WriteString("{" + headerComment + "\n")
	}
	for _, l := range lines {
		if l.blank {
			b.WriteString("\n")
		}
		b.WriteString(inner)
		if l.key != "" {
			b.WriteString(l.key + " ")
		}
		b.WriteString(l.text)
		if l.trailing != "" {
			b.WriteString(" " + l.trailing)
		}
		b.WriteString("\n")
	}
	if !fileLevel {
		b.WriteString(ind + "}")
	}
	return b.String()
}

// lastItemLine is the index of the last line that is not a comment, -1
// when there is none.
func lastItemLine(lines []line) int {
	for i := len(lines) - 1; i >= 0; i-- {
		if !lines[i].comment {
			return i
		}
	}
	return -1
}

// attach adds comments (one a line) after the last line: block comments
// and the first line comment trail it, and a line comment after a line
// comment gets a line of its own.
func attach(lines []line, comments string) []line {
	for _, c := range strings.Split(comments, "\n") {
		l := &lines[len(lines)-1]
		if l.comment || strings.Contains(l.trailing, "//") {
			lines = append(lines, line{text: c, comment: true})
		} else {
			l.trailing = joinTrailing(l.trailing, c)
		}
	}
	return lines
}

// joinLines joins comments with newlines (see attach).
func joinLines(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "\n" + b
}

func joinTrailing(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + " " + b
}

func allInline(items []item) bool {
	for _, it := range items {
		if !it.inlinable || it.trailing != "" || strings.Contains(it.render(), "\n") {
			return false
		}
	}
	return true
}

// align pads attribute names so that the "=" of consecutive attributes
// line up, and pads lines so that consecutive trailing comments line up.
// An empty line, or a line that is not an attribute (a comment on its own
// line does not count), ends an "=" group; an empty line, a multi-line
// item or a line without a trailing comment ends a comment group.
func align(lines []line) {
	for i := 0; i < len(lines); {
		if lines[i].key == "" {
			i++
			continue
		}
		j, w := i, 0
		for j < len(lines) && (j == i || !lines[j].blank) && (lines[j].key != "" || lines[j].comment) {
			if lines[j].key != "" {
				w = max(w, width(lines[j].key))
			}
			j++
		}
		for k := i; k < j; k++ {
			if lines[k].key != "" {
				lines[k].key += strings.Repeat(" ", w-width(lines[k].key))
			}
		}
		i = j
	}
	full := func(l line) string {
		if l.key != "" {
			return l.key + " " + l.text
		}
		return l.text
	}
	for i := 0; i < len(lines); {
		if lines[i].trailing == "" || strings.Contains(lines[i].text, "\n") {
			i++
			continue
		}
		j, w := i, 0
		for j < len(lines) && (j == i || !lines[j].blank) && lines[j].trailing != "" && !strings.Contains(lines[j].text, "\n") {
			w = max(w, width(full(lines[j])))
			j++
		}
		for k := i; k < j; k++ {
			lines[k].text += strings.Repeat(" ", w-width(full(lines[k])))
		}
		i = j
	}
}
