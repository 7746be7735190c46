package format_test

import (
	"strings"
	"testing"

	"github.com/smithc/smithc/internal/golden"
	"github.com/smithc/smithc/lang/format"
)

// TestGoldenFormat formats in.smw of every archive of
// testdata/golden/format; out/formatted is the result (or the
// diagnostics), and formatting it again must change nothing.
func TestGoldenFormat(t *testing.T) {
	golden.Run(t, "../../testdata/golden/format", func(t *testing.T, c *golden.Case) map[string]string {
		src, ok := c.File("in.smw")
		if !ok {
			t.Fatal("no in.smw")
		}
		out, ds := format.Source("in.smw", src)
		if ds.HasErrors() {
			var b strings.Builder
			for _, d := range ds {
				b.WriteString(d.String() + "\n")
			}
			return map[string]string{"formatted": b.String()}
		}
		again, ds := format.Source("in.smw", out)
		if ds.HasErrors() || string(again) != string(out) {
			t.Errorf("not idempotent:\n%s\n--- again:\n%s%s", out, again, ds.Error())
		}
		return map[string]string{"formatted": string(out)}
	})
}
