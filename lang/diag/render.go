package diag

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Sources maps a file name (as it appears in ranges) to its text, so that
// diagnostics can be rendered with the offending source line.
type Sources map[string][]byte

// Fprint writes each diagnostic in the CLI form:
//
//	review.smw:12:5: error: undefined step "analyz"
//	   12 |   needs = [analyz]
//	      |            ^^^^^^
//	      = hint: did you mean "analyze"?
//
// Lines that cannot be found in src are omitted.
func Fprint(w io.Writer, src Sources, ds Diagnostics) {
	for _, d := range ds {
		fmt.Fprintf(w, "%s: %s: %s\n", d.Subject.String(), d.Severity, d.Summary)
		if line, ok := sourceLine(src[d.Subject.File], d.Subject.Start); ok {
			num := fmt.Sprint(d.Subject.Start.Line)
			pad := strings.Repeat(" ", len(num))
			fmt.Fprintf(w, " %s | %s\n", num, expandTabs(line))
			width := 1
			if d.Subject.End.Line == d.Subject.Start.Line && d.Subject.End.Col > d.Subject.Start.Col {
				width = d.Subject.End.Col - d.Subject.Start.Col
			}
			prefix := expandTabs(runePrefix(line, d.Subject.Start.Col-1))
			fmt.Fprintf(w, " %s | %s%s\n", pad, strings.Repeat(" ", utf8.RuneCountInString(prefix)), strings.Repeat("^", width))
		}
		if d.Detail != "" {
			fmt.Fprintf(w, "    %s\n", d.Detail)
		}
		if d.Hint != "" {
			fmt.Fprintf(w, "    hint: %s\n", d.Hint)
		}
		for _, r := range d.Related {
			fmt.Fprintf(w, "    %s: note: %s\n", r.Range, r.Message)
		}
	}
}

func sourceLine(text []byte, p Pos) (string, bool) {
	if text == nil || !p.IsValid() || p.Offset > len(text) {
		return "", false
	}
	start := p.Offset
	for start > 0 && text[start-1] != '\n' {
		start--
	}
	end := p.Offset
	for end < len(text) && text[end] != '\n' {
		end++
	}
	return strings.TrimRight(string(text[start:end]), "\r"), true
}

func runePrefix(s string, n int) string {
	i := 0
	for n > 0 && i < len(s) {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n--
	}
	return s[:i]
}

func expandTabs(s string) string { return strings.ReplaceAll(s, "\t", "    ") }
