// Package diag defines source positions and user-facing diagnostics.
//
// User mistakes are reported as Diagnostics, never as Go errors: every phase
// of smithc (parse, check, compile) returns its best-effort result together
// with the Diagnostics it found. Rendering is kept apart from the data: see
// [Diagnostic.String] for the stable one-line form used by goldens and logs,
// and [Fprint] for the form with the source line and a caret.
package diag

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a position in a source file.
type Pos struct {
	Offset int `json:"offset"` // 0-based byte offset
	Line   int `json:"line"`   // 1-based line; 0 if unknown
	Col    int `json:"col"`    // 1-based column, in runes
}

// IsValid reports whether the position is known.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Before reports whether p comes strictly before q.
func (p Pos) Before(q Pos) bool { return p.Offset < q.Offset }

// Range is a span of source text. Start is inclusive, End exclusive.
type Range struct {
	File  string `json:"file"`
	Start Pos    `json:"start"`
	End   Pos    `json:"end"`
}

// IsValid reports whether the range points somewhere.
func (r Range) IsValid() bool { return r.Start.IsValid() }

// String renders "file:line:col" or "file:line:col-col2" (same line) or
// "file:line:col-line2:col2".
func (r Range) String() string {
	var b strings.Builder
	b.WriteString(r.File)
	if !r.Start.IsValid() {
		return b.String()
	}
	fmt.Fprintf(&b, ":%d:%d", r.Start.Line, r.Start.Col)
	switch {
	case !r.End.IsValid() || r.End.Offset <= r.Start.Offset+1 && r.End.Line == r.Start.Line:
	case r.End.Line == r.Start.Line:
		fmt.Fprintf(&b, "-%d", r.End.Col)
	default:
		fmt.Fprintf(&b, "-%d:%d", r.End.Line, r.End.Col)
	}
	return b.String()
}

// Severity tells how serious a diagnostic is. The zero value is invalid so
// that an unset severity is a bug, not silently an error.
type Severity uint8

// Severities.
const (
	Invalid Severity = iota
	Error
	Warning
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "invalid"
}

// MarshalText renders the severity as its name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Related points at another place that explains a diagnostic, such as
// "step declared here".
type Related struct {
	Range   Range  `json:"range"`
	Message string `json:"message"`
}

// Diagnostic is one problem found in the user's program.
type Diagnostic struct {
	Severity Severity  `json:"severity"`
	Code     string    `json:"code,omitempty"` // stable id, e.g. "undefined-step"
	Summary  string    `json:"summary"`        // lower-case, no final period
	Detail   string    `json:"detail,omitempty"`
	Hint     string    `json:"hint,omitempty"` // e.g. `did you mean "analyze"?`
	Subject  Range     `json:"subject"`
	Related  []Related `json:"related,omitempty"`
}

// String renders the stable one-line form:
//
//	in.smw:4:9-14: error[undefined-step]: undefined step "fetch" (did you mean "fetch_all"?)
func (d Diagnostic) String() string {
	var b strings.Builder
	if d.Subject.File != "" || d.Subject.IsValid() {
		b.WriteString(d.Subject.String())
		b.WriteString(": ")
	}
	b.WriteString(d.Severity.String())
	if d.Code != "" {
		b.WriteString("[" + d.Code + "]")
	}
	b.WriteString(": ")
	b.WriteString(d.Summary)
	if d.Hint != "" {
		b.WriteString(" (" + d.Hint + ")")
	}
	return b.String()
}

// Errorf builds an error diagnostic at r.
func Errorf(r Range, code, format string, args ...any) Diagnostic {
	return Diagnostic{Severity: Error, Code: code, Summary: fmt.Sprintf(format, args...), Subject: r}
}

// Diagnostics is a list of problems. It implements error.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Err returns ds as an error if it has errors, nil otherwise.
func (ds Diagnostics) Err() error {
	if ds.HasErrors() {
		return ds
	}
	return nil
}

// Error joins the one-line forms.
func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// Sort orders diagnostics by file, position, then summary, and removes
// exact duplicates. It returns the sorted list.
func (ds Diagnostics) Sort() Diagnostics {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Subject, ds[j].Subject
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Start.Offset != b.Start.Offset {
			return a.Start.Offset < b.Start.Offset
		}
		if a.End.Offset != b.End.Offset {
			return a.End.Offset < b.End.Offset
		}
		return ds[i].Summary < ds[j].Summary
	})
	out := ds[:0]
	for i, d := range ds {
		if i > 0 && d.String() == ds[i-1].String() {
			continue
		}
		out = append(out, d)
	}
	return out
}
