package diag_test

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/lang/diag"
)

func rng(line, col, endCol, off int) diag.Range {
	return diag.Range{File: "in.smw",
		Start: diag.Pos{Offset: off, Line: line, Col: col},
		End:   diag.Pos{Offset: off + endCol - col, Line: line, Col: endCol}}
}

func TestString(t *testing.T) {
	d := diag.Diagnostic{Severity: diag.Error, Code: "undefined-step", Summary: `undefined step "fetch"`,
		Hint: `did you mean "fetch_all"?`, Subject: rng(4, 9, 14, 40)}
	want := `in.smw:4:9-14: error[undefined-step]: undefined step "fetch" (did you mean "fetch_all"?)`
	if got := d.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	point := diag.Diagnostic{Severity: diag.Warning, Summary: "w", Subject: rng(1, 2, 3, 1)}
	if got, want := point.String(), "in.smw:1:2: warning: w"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFprintCaret(t *testing.T) {
	src := []byte("workflow w {\n\tstep a { needs = [fetch] }\n}\n")
	// "fetch" starts at byte 31 on line 2; the tab counts as one column.
	d := diag.Diagnostic{Severity: diag.Error, Summary: `undefined step "fetch"`, Hint: `did you mean "fetch_all"?`,
		Subject: diag.Range{File: "in.smw", Start: diag.Pos{Offset: 31, Line: 2, Col: 19}, End: diag.Pos{Offset: 36, Line: 2, Col: 24}}}
	var buf bytes.Buffer
	diag.Fprint(&buf, diag.Sources{"in.smw": src}, diag.Diagnostics{d})
	want := "in.smw:2:19-24: error: undefined step \"fetch\"\n" +
		" 2 |     step a { needs = [fetch] }\n" +
		"   |                      ^^^^^\n" +
		"    hint: did you mean \"fetch_all\"?\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSortDedupes(t *testing.T) {
	a := diag.Diagnostic{Severity: diag.Error, Summary: "a", Subject: rng(2, 1, 2, 10)}
	b := diag.Diagnostic{Severity: diag.Error, Summary: "b", Subject: rng(1, 1, 2, 0)}
	ds := diag.Diagnostics{a, b, a}.Sort()
	if len(ds) != 2 || ds[0].Summary != "b" || ds[1].Summary != "a" {
		t.Errorf("Sort = %v", ds)
	}
	if !ds.HasErrors() || ds.Err() == nil {
		t.Error("HasErrors/Err should report errors")
	}
	if (diag.Diagnostics{}).Err() != nil {
		t.Error("no diagnostics is no error")
	}
}
