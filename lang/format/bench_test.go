package format_test

import (
	"os"
	"testing"

	"github.com/smithc/smithc/lang/format"
)

// BenchmarkFormatReview formats examples/review.smw (parse, layout, and
// the token and comment verification).
func BenchmarkFormatReview(b *testing.B) {
	src, err := os.ReadFile("../../examples/review.smw")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, ds := format.Source("review.smw", src); ds.HasErrors() {
			b.Fatal(ds)
		}
	}
}
