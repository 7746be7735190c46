package pgstore

import (
	"strings"
	"testing"
)

// TestBoundJSONIsNotCopied: the text bound for a stored value shares the
// encoding's bytes unless a \u0000 must be replaced.
func TestBoundJSONIsNotCopied(t *testing.T) {
	m := []byte(`"` + strings.Repeat("x", 1<<20) + `"`)
	var s string
	if n := testing.AllocsPerRun(10, func() { s = js(m) }); n != 0 {
		t.Errorf("js of a 1 MB value: %v allocations, want none", n)
	}
	if s != string(m) {
		t.Fatal("js changed the text")
	}
	if got := js([]byte(`"a\u0000b"`)); got != `"a\ufffdb"` {
		t.Errorf(`js("a\u0000b") = %s`, got)
	}
	if js(nil) != "null" {
		t.Errorf("js(nil) = %q", js(nil))
	}
}
