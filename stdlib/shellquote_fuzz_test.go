package stdlib

import (
	"os/exec"
	"strings"
	"testing"
)

// FuzzShellQuote checks that /bin/sh reads ShellQuote(s) back as exactly
// s, for any s without a NUL byte.
func FuzzShellQuote(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.IndexByte(s, 0) >= 0 {
			t.Skip("NUL bytes cannot be passed to a process")
		}
		out, err := exec.Command("/bin/sh", "-c", "printf '%s' "+ShellQuote(s)).Output()
		if err != nil {
			t.Fatalf("sh failed for %q: %v", s, err)
		}
		if string(out) != s {
			t.Fatalf("sh read %q back as %q", s, out)
		}
	})
}

// FuzzShellContexts checks that classifying templates never panics and
// that, when an interpolation is accepted, the value arrives intact
// whatever literal text is around it in the simple contexts.
func FuzzShellContexts(f *testing.F) {
	f.Add("echo ", " done", "x'y")
	f.Add("echo 'a ", "' b", "$(id)")
	f.Add(`echo "a `, `" b`, "`id`")
	f.Add("cat <<EOF\n", "\nEOF\n", "x")
	f.Add("echo # ", "", "\nid")
	f.Add("echo $((1<<", "))", "2")
	f.Fuzz(func(t *testing.T, before, after, value string) {
		parts := []irPart{{lit: before}, {expr: true}, {lit: after}}
		ctxs, err := shellContexts(toTemplate(parts))
		if err != nil {
			return
		}
		if len(ctxs) != 1 {
			t.Fatalf("%d contexts for one interpolation", len(ctxs))
		}
		q, err := quoteFor(ctxs[0])(value)
		if err != nil {
			return
		}
		// The quoted value alone, in its context, must read back intact.
		var script string
		switch ctxs[0] {
		case ctxWord:
			script = "printf '%s' " + q
		case ctxSingle:
			script = "printf '%s' '" + q + "'"
		case ctxDouble:
			script = `printf '%s' "` + q + `"`
		}
		out, err := exec.Command("/bin/sh", "-c", script).Output()
		if err != nil || string(out) != value {
			t.Fatalf("context %d: %q read back as %q (%v)", ctxs[0], value, out, err)
		}
	})
}
