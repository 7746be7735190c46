package checker

import (
	"errors"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/smithc/smithc/internal/golden"
	"github.com/smithc/smithc/lang/diag"
)

// errorMarker matches an inline expectation: // ERROR "regexp".
var errorMarker = regexp.MustCompile(`//\s*ERROR\s+("(?:[^"\\]|\\.)*")`)

// TestGoldenCheck runs every archive of testdata/golden/check: in.smw (and
// the files it imports) are checked, out/diag holds the diagnostics in
// their one-line form, and each // ERROR "re" marker in in.smw must be
// matched by a diagnostic on its line.
func TestGoldenCheck(t *testing.T) {
	golden.Run(t, "../../testdata/golden/check", func(t *testing.T, c *golden.Case) map[string]string {
		files := map[string][]byte{}
		for _, f := range c.Inputs() {
			files[f.Name] = f.Data
		}
		cfg := &Config{
			Actions: testSpecs(),
			ReadFile: func(name string) ([]byte, error) {
				if b, ok := files[name]; ok {
					return b, nil
				}
				return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("no such file or directory")}
			},
		}
		_, ds := CheckFile("in.smw", cfg)
		for name, src := range files {
			checkMarkers(t, name, src, ds)
		}
		checkRanges(t, files, ds)
		var b strings.Builder
		for _, d := range ds {
			b.WriteString(d.String())
			b.WriteByte('\n')
		}
		return map[string]string{"diag": b.String()}
	})
}

// checkMarkers asserts that each ERROR marker of the input file called
// name has a matching diagnostic on its line.
func checkMarkers(t *testing.T, name string, src []byte, ds diag.Diagnostics) {
	t.Helper()
	for i, line := range strings.Split(string(src), "\n") {
		for _, m := range errorMarker.FindAllStringSubmatch(line, -1) {
			checkMarker(t, name, i+1, m[1], ds)
		}
	}
}

// checkMarker asserts that one ERROR marker ("regexp", with \" for a
// quote) on line of file name has a diagnostic whose summary matches.
func checkMarker(t *testing.T, name string, line int, quoted string, ds diag.Diagnostics) {
	t.Helper()
	pat := strings.ReplaceAll(quoted[1:len(quoted)-1], `\"`, `"`)
	re, err := regexp.Compile(pat)
	if err != nil {
		t.Errorf("%s:%d: bad ERROR regexp: %v", name, line, err)
		return
	}
	for _, d := range ds {
		if d.Subject.File == name && d.Subject.Start.Line == line && re.MatchString(d.Summary) {
			return
		}
	}
	t.Errorf("%s:%d: no diagnostic matching %q on this line; got:\n%s", name, line, pat, ds.Error())
}

// checkRanges asserts that every diagnostic points inside its file.
func checkRanges(t *testing.T, files map[string][]byte, ds diag.Diagnostics) {
	t.Helper()
	for _, d := range ds {
		src, ok := files[d.Subject.File]
		if !ok {
			t.Errorf("%s: diagnostic in unknown file", d)
			continue
		}
		r := d.Subject
		if !r.Start.IsValid() || r.Start.Offset > len(src) || r.End.Offset > len(src) || r.End.Offset < r.Start.Offset {
			t.Errorf("%s: bad range %+v", d, r)
		}
		if d.Code == "" {
			t.Errorf("%s: no code", d)
		}
	}
}
