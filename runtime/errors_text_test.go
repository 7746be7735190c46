package runtime_test

import (
	"testing"

	"github.com/smithc/smithc/runtime"
)

func TestUserText(t *testing.T) {
	for in, want := range map[string]string{
		"runtime: run r1: run is live":                        "run r1: run is live",
		"runtime: run r1: sqlitestore: run \"r1\": not found": "run r1: run \"r1\": not found",
		"step s failed: node xruntime: kept":                  "step s failed: node xruntime: kept",
		"pgstore: list runs: store: unavailable":              "list runs: unavailable",
		"plain":                                               "plain",
	} {
		if got := runtime.UserText(in); got != want {
			t.Errorf("UserText(%q) = %q, want %q", in, got, want)
		}
	}
}
