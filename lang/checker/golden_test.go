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
		checkMarkers(t, files["in.smw"], ds)
		checkRanges(t, files, ds)
		var b strings.Builder
		for _, d := range ds {
			b.WriteString(d.String())
			b.WriteByte('\n')
		}
		return map[string]string{"diag": b.String()}
	})
}

// checkMarkers asserts that each ERROR marker has a matching diagnostic on
// its line of in.smw.
func checkMarkers(t *testing.T, src []byte, ds diag.Diagnostics) {
	t.Helper()
	for i, line := range strings.Split(string(src), "\n") {
		for _, m := range errorMarker.FindAllStringSubmatch(line, -1) {
			checkMarker(t, i+1, m[1], ds)
		}
	}
}

// checkMarker asserts that one ERROR marker on line has its diagnostic.
func checkMarker(t *testing.T, line int, quoted string, ds diag.Diagnostics) {
	t.Helper()
	{
		i := line - 1
		m := []string{"", quoted}
		pat := strings.ReplaceAll(m[1][1:len(m[1])-1], `\"`, `"`)
		re, err := regexp.Compile(pat)
		if err != nil {
			t.Errorf("line %d: bad ERROR regexp: %v", i+1, err)
			return
		}
		found := false
		for _, d := range ds {
			if d.Subject.File == "in.smw" && d.Subject.Start.Line == i+1 && re.MatchString(d.Summary) {
				found = true
			}
		}
		if !found {
			t.Errorf("in.smw:%d: no diagnostic matching %q on this line; got:\n%s", i+1, pat, ds.Error())
		}
	}
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
