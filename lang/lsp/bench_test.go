package lsp_test

import (
	"strings"
	"testing"
)

// BenchmarkChangeToDiagnostics is the time from a didChange of
// review.smw to its diagnostics arriving at the client (one full check).
func BenchmarkChangeToDiagnostics(b *testing.B) {
	c, _ := startServer(b)
	path, src := readExample(b, "review.smw")
	uri := c.open(path, src)
	c.waitDiags(uri, 1)
	v := 1
	for b.Loop() {
		v++
		c.change(uri, v, src)
		c.waitDiags(uri, v)
	}
}

// BenchmarkCompletionAfterDot completes "analyze." in review.smw (a check
// of the edited text included).
func BenchmarkCompletionAfterDot(b *testing.B) {
	c, _ := startServer(b)
	path, src := readExample(b, "review.smw")
	text := strings.Replace(src, "summary = analyze.summary", "summary = analyze.", 1)
	uri := c.open(path, text)
	c.waitDiags(uri, 1)
	i := strings.Index(text, "summary = analyze.") + len("summary = analyze.")
	line := strings.Count(text[:i], "\n")
	ch := i - (strings.LastIndexByte(text[:i], '\n') + 1)
	for b.Loop() {
		var items []completionItem
		c.call("textDocument/completion", at(uri, line, ch), &items)
		if len(items) < 4 {
			b.Fatalf("items: %v", items)
		}
	}
}
