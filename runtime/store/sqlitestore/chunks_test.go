package sqlitestore

import (
	"strings"
	"testing"
)

// TestChunks: a batch's rows are split into chunks that add up to them,
// each a power of two from 4 to maxChunk, largest first, and then at
// most three single rows (one statement shape for a small batch).
func TestChunks(t *testing.T) {
	for n := 0; n <= 3*maxChunk+7; n++ {
		sum, ones, last := 0, 0, maxChunk
		for _, k := range chunks(n) {
			sum += k
			if k > last || (k != 1 && (k < 4 || k&(k-1) != 0 || k > maxChunk)) {
				t.Fatalf("chunks(%d) = %v: %d is out of order or not a power of two from 4 to %d (or 1)", n, chunks(n), k, maxChunk)
			}
			if k == 1 {
				ones++
			}
			last = k
		}
		if sum != n || ones > 3 {
			t.Fatalf("chunks(%d) = %v: %d rows, %d single ones", n, chunks(n), sum, ones)
		}
	}
}

// Each chunk size's statement, built at its first use, has that many rows
// and is the same text at every use.
func TestChunkSQLs(t *testing.T) {
	if 1<<maxChunkLog != maxChunk {
		t.Fatalf("maxChunkLog %d is not log2(maxChunk %d)", maxChunkLog, maxChunk)
	}
	for _, f := range []func(int) string{eventSQLN, nodeUpsertSQLN, attemptStartSQLN} {
		for n := maxChunk; n >= 1; n /= 2 {
			first := f(n)
			if got := strings.Count(first, "(?"); got != n {
				t.Errorf("%d rows: %d value lists in %.60q...", n, got, first)
			}
			if again := f(n); again != first {
				t.Errorf("%d rows: the second use gave another text", n)
			}
		}
	}
}
