package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/smithc/smithc/compiler"
	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/stdlib"
)

// build runs parse → check → compile on a file with the standard
// library's actions.
func build(file string) *compiler.Result {
	return compiler.Build(file, &compiler.Config{Checker: checker.Config{Actions: stdlib.Specs()}})
}

// printDiags renders diagnostics in the CLI form with the source line and
// a caret, followed by a count.
func printDiags(w io.Writer, res *compiler.Result) {
	diag.Fprint(w, res.Sources, res.Diagnostics)
	errs, warns := 0, 0
	for _, d := range res.Diagnostics {
		switch d.Severity {
		case diag.Error:
			errs++
		case diag.Warning:
			warns++
		}
	}
	if errs+warns > 0 {
		switch {
		case warns == 0:
			fmt.Fprintf(w, "%s\n", plural(errs, "error"))
		case errs == 0:
			fmt.Fprintf(w, "%s\n", plural(warns, "warning"))
		default:
			fmt.Fprintf(w, "%s, %s\n", plural(errs, "error"), plural(warns, "warning"))
		}
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// jsonDiag is the --format json form of one diagnostic.
type jsonDiag struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	EndLine  int    `json:"end_line"`
	EndCol   int    `json:"end_col"`
	Severity string `json:"severity"`
	Code     string `json:"code,omitempty"`
	Message  string `json:"message"`
	Detail   string `json:"detail,omitempty"`
	Hint     string `json:"hint,omitempty"`
}

func toJSONDiags(ds diag.Diagnostics) []jsonDiag {
	out := make([]jsonDiag, 0, len(ds))
	for _, d := range ds {
		out = append(out, jsonDiag{
			File: d.Subject.File, Line: d.Subject.Start.Line, Col: d.Subject.Start.Col,
			EndLine: d.Subject.End.Line, EndCol: d.Subject.End.Col,
			Severity: d.Severity.String(), Code: d.Code, Message: d.Summary, Detail: d.Detail, Hint: d.Hint,
		})
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // "<" stays "<": this is for people and tools, not HTML
	return enc.Encode(v)
}
