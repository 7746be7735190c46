package stdlib

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"mvdan.cc/sh/v3/syntax"

	"github.com/smithc/smithc/schema"
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

// FuzzShellTemplate puts a value back inside its template: a template
// before ${v} after, with v a string, a list (elements split at \x1f) or
// an int, is vetted as smithc check does; when accepted it is rendered as
// the shell action does, its parse is compared with that of a benign value
// (the value may not change the script's structure), and it is run under
// dash and bash, where a canary file detects injected code.
func FuzzShellTemplate(f *testing.F) {
	seeds := [][2]string{
		{"echo ", " done"}, {"echo 'a ", "' b"}, {`echo "a `, `" b`}, {"cat <<EOF\n", "\nEOF\n"},
		{"echo # ", ""}, {"echo $((1<<", "))"}, {"echo $(( ", " + 1 ))"}, {`echo "$((`, `))"`},
		{"echo $(( $(echo '", "') ))"}, {"[[ ", " -gt 5 ]]"}, {"(( ", " ))"}, {"a[", "]=1"},
		{"echo ", "#c\necho b"}, {"cat <", "<EOF\nbody\nEOF\n"}, {"cat <<'E F'\nx\nE F\necho ", ""},
		{"echo case ", " esac"}, {"(case a in a) echo ", ";; esac)"}, {"for i in ", "; do echo $i; done"},
		{"echo ", ">out"}, {"echo ~", ""}, {"echo {a,", "}"}, {"x=", "; echo \"$x\""}, {"declare -a a=", ""},
		{"test -v ", ""}, {"echo $'a\\'b' ", ""},
	}
	for i, sd := range seeds {
		for k, v := range []string{inert, "`touch \"$C\"`", `'; touch "$C"; '`, "a\x1f; touch \"$C\"", "", "-5"} {
			f.Add(sd[0], sd[1], v, uint8(i+k))
		}
	}
	dash, errD := exec.LookPath("dash")
	bash, errB := exec.LookPath("bash")
	if errD != nil || errB != nil {
		f.Skip("FuzzShellTemplate needs dash and bash (apt-get install dash bash)")
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, before, after, value string, kind uint8) {
		k := []holeKind{holeStr, holeList, holeInt}[kind%3]
		lits := []string{before, after}
		for _, p := range checkShellTemplate(lits, []*schema.Type{holeType(k)}) {
			if !p.Warning {
				return // refused by the checker
			}
		}
		slots, p := planShell(lits)
		if p != nil {
			t.Fatalf("the checker accepted %q ${} %q, the run refuses it: %s", before, after, p.msg)
		}
		v, benign := fuzzValue(k, value)
		q, err := quoteSlot(slots[0], v)
		if err != nil {
			return // refused at run time (a NUL byte, ...)
		}
		qb, err := quoteSlot(slots[0], benign)
		if err != nil {
			t.Fatalf("benign value refused: %v", err)
		}
		script := before + q + after
		for _, lang := range []syntax.LangVariant{syntax.LangPOSIX, syntax.LangBash} {
			if !utf8.ValidString(script) {
				break // mvdan.cc/sh parses UTF-8 only; the shells below take any bytes
			}
			got, errGot := shellShape(script, lang, [][2]int{{len(before), len(before) + len(q)}})
			want, errWant := shellShape(before+qb+after, lang, [][2]int{{len(before), len(before) + len(qb)}})
			if (errGot == nil) != (errWant == nil) || got != want {
				t.Fatalf("the value changes how %s parses the script\nscript: %q\nwith value: %s (%v)\nbenign:     %s (%v)", lang, script, got, errGot, want, errWant)
			}
		}
		for _, sh := range []string{dash, bash} {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			cmd := exec.CommandContext(ctx, sh, "-c", script)
			canary := filepath.Join(dir, "canary")
			cmd.Dir, cmd.Env = dir, append(os.Environ(), "C="+canary)
			_ = cmd.Run() // the script may fail; only the canary matters
			cancel()
			if _, err := os.Stat(canary); err == nil {
				os.Remove(canary)
				t.Fatalf("%s: injection: template %q ${} %q, value %q\nscript: %q", sh, before, after, value, script)
			}
		}
	})
}

// fuzzValue makes a value of kind k from s, and a benign value of the same
// kind and quoting (a list of as many elements).
func fuzzValue(k holeKind, s string) (v, benign any) {
	switch k {
	case holeList:
		if s == "" {
			return []any{}, []any{}
		}
		var l, b []any
		for _, e := range strings.Split(s, "\x1f") {
			l = append(l, e)
			b = append(b, "b b")
		}
		return l, b
	case holeInt:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			n = int64(len(s)) - 3
		}
		return n, int64(-7)
	}
	return s, "b b"
}

// shellShape describes the syntax tree of script as lang parses it,
// leaving out the nodes inside the ranges [from, to) where values were
// written.
func shellShape(script string, lang syntax.LangVariant, ranges [][2]int) (string, error) {
	f, err := syntax.NewParser(syntax.Variant(lang), syntax.KeepComments(true)).Parse(strings.NewReader(script), "")
	if err != nil {
		return "", err
	}
	var b strings.Builder
	var printed []bool // per open node: whether it was written
	syntax.Walk(f, func(n syntax.Node) bool {
		if n == nil {
			if printed[len(printed)-1] {
				b.WriteString(")")
			}
			printed = printed[:len(printed)-1]
			return true
		}
		if n.Pos().IsValid() {
			for _, r := range ranges {
				if int(n.Pos().Offset()) >= r[0] && int(n.End().Offset()) <= r[1] {
					return false
				}
			}
		}
		switch x := n.(type) {
		case *syntax.Lit, *syntax.DblQuoted:
			// Literal text is left out: how a value is quoted may split
			// it into several quoted parts of the same word. Expansions
			// inside "..." are walked.
			printed = append(printed, false)
			return true
		case *syntax.SglQuoted:
			if !x.Dollar {
				printed = append(printed, false)
				return true
			}
		}
		printed = append(printed, true)
		b.WriteString(strings.TrimPrefix(reflectName(n), "*syntax.") + "(")
		return true
	})
	return b.String(), nil
}

func reflectName(n syntax.Node) string { return fmt.Sprintf("%T", n) }
