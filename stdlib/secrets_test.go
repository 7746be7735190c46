package stdlib

import (
	"strings"
	"testing"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/schema"
)

// loggedStdout joins the StepOutput events of stdout.
func loggedStdout(rec *recorder) string {
	var b strings.Builder
	for _, d := range rec.kinds("StepOutput") {
		if d["stream"] == "stdout" {
			b.WriteString(d["text"].(string))
		}
	}
	return b.String()
}

// TestStreamedSecretNotSplit: a secret that reaches the monitor in two
// reads (after a long line that forces a flush, or at a line break inside
// a multi-line secret) is never logged in two halves that are redacted
// one by one.
func TestStreamedSecretNotSplit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, secret, first, second, want string }{
		{"long line", "split-secret-0123456789", strings.Repeat("x", 16<<10+10) + "split-se", "cret-0123456789\n", strings.Repeat("x", 16<<10+10) + "***\n"},
		{"line break inside", "ab\ncd-multi-line-secret", "head ab\n", "cd-multi-line-secret\n", "head ***\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			step := &ir.Step{Action: "shell", Args: map[string]*ir.Expr{"run": tpl(t, `printf '%s' "$A"; sleep 0.3; printf '%s' "$B"`)},
				Maps: map[string]map[string]*ir.Expr{"env": {"A": ex("a"), "B": ex("b")}}}
			a, rec := newAttempt(t, step, map[string]any{"a": tc.first, "b": tc.second})
			a.Secrets = &schema.Secrets{}
			if err := a.Secrets.Add("S", tc.secret); err != nil {
				t.Fatal(err)
			}
			if _, err := run(t, Config{HeartbeatInterval: time.Nanosecond}, a); err != nil {
				t.Fatal(err)
			}
			if logged := loggedStdout(rec); logged != tc.want {
				t.Errorf("logged ...%q, want ...%q", logged[max(0, len(logged)-40):], tc.want[max(0, len(tc.want)-40):])
			}
		})
	}
}

// TestSecretEnvNotInherited: a process does not inherit a variable the
// program reads with secret(), unless the step passes it.
func TestSecretEnvNotInherited(t *testing.T) {
	t.Parallel()
	cfg := Config{EnvironFunc: func() []string {
		return []string{"PATH=/usr/bin:/bin", "API_TOKEN=tok-from-env", "PLAIN=visible"}
	}}
	for _, tc := range []struct {
		name string
		maps map[string]map[string]*ir.Expr
		want string
	}{
		{"inherited environment", nil, "token=[] plain=[visible]"},
		{"passed explicitly", map[string]map[string]*ir.Expr{"env": {"API_TOKEN": ex(`"tok-passed"`)}}, "token=[tok-passed] plain=[visible]"},
	} {
		step := &ir.Step{Action: "shell", Args: map[string]*ir.Expr{"run": tpl(t, `printf 'token=[%s] plain=[%s]' "$API_TOKEN" "$PLAIN"`)}, Maps: tc.maps}
		a, _ := newAttempt(t, step, nil)
		a.Program = &ir.Program{Secrets: []string{"API_TOKEN"}}
		out, err := run(t, cfg, a)
		if err != nil {
			t.Fatal(err)
		}
		if got := out.(map[string]any)["stdout"]; got != tc.want {
			t.Errorf("%s: stdout %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestSecretFormsShellQuoted: the shell quoting of a secret is a form the
// runtime redacts (a logged script holds it so).
func TestSecretFormsShellQuoted(t *testing.T) {
	sec := "it's a secret"
	var s schema.Secrets
	if err := s.Add("S", sec, SecretForms(sec)...); err != nil {
		t.Fatal(err)
	}
	script := "deploy --token " + ShellQuote(sec) + ` --again "'` + strings.ReplaceAll(sec, "'", `'\''`) + `'"`
	if got := s.Redact(script); strings.Contains(got, "secret") {
		t.Errorf("Redact(%q) = %q", script, got)
	}
}

// TestSecretFormsEveryContext: whatever shell context a run template puts
// a secret in, the script the action renders (and logs) is redacted.
func TestSecretFormsEveryContext(t *testing.T) {
	for _, sec := range []string{"it's-a-secret", `q"uo$te\back`, "multi\nline-secret", "plain-secret-99", "tab\tsecret`x`"} {
		var s schema.Secrets
		if err := s.Add("S", sec, SecretForms(sec)...); err != nil {
			t.Fatal(err)
		}
		for _, tmpl := range []string{`echo ${x}`, `echo '${x}'`, `echo "${x}"`, `echo a${x}b`} {
			step := &ir.Step{Action: "shell", Args: map[string]*ir.Expr{"run": tpl(t, tmpl)}}
			a, _ := newAttempt(t, step, map[string]any{"x": sec})
			script, err := renderScript(a, step.Args["run"])
			if err != nil {
				t.Fatalf("%s with %q: %v", tmpl, sec, err)
			}
			got := s.Redact(script)
			for _, part := range []string{"secret", "uo", "back", "line"} {
				if strings.Contains(got, part) {
					t.Errorf("%s with %q: script %q redacted to %q", tmpl, sec, script, got)
					break
				}
			}
		}
	}
}
