package stdlib

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/schema"
)

// argvScript prints each of its arguments followed by a NUL byte.
const argvScript = `for a in "$@"; do printf '%s\0' "$a"; done` + "\n"

func splitArgv(stdout string) []string {
	if stdout == "" {
		return []string{}
	}
	return strings.Split(strings.TrimSuffix(stdout, "\x00"), "\x00")
}

// hostile are values that would inject commands if they were pasted into
// a script unquoted.
var hostile = []string{
	`'`, `"`, `''`, `a'b"c`, `$(touch pwned)`, "`touch pwned`", "a\nb; touch pwned",
	"; touch pwned", "&& touch pwned", "| touch pwned", "*", "?", "[a-z]*", "-rf", "--help",
	"héllo wörld ✓ 日本", "$HOME", "${HOME}", `\`, `\'`, " lead and trail ", "", "~", "~root",
	"!x", "#not a comment", "a\tb", ">pwned", "<in", "$'\\x41'", "x; rm -rf /tmp/nothing #",
	"\n", "a\r\nb", "{a,b}", "FOO=bar", "%s%n",
}

// TestQuoteWord checks the quoting of interpolated words: reserved words
// and glued values are never bare.
func TestQuoteWord(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		forced bool
		want   string
	}{
		{"main", false, "main"},
		{"main", true, "'main'"},
		{"b,c", true, "'b,c'"},
		{"5", true, "'5'"},
		{"elif", false, "'elif'"},
		{"esac", false, "'esac'"},
		{"a\nb", false, "'a\nb'"},
		{"\x01", false, "'\x01'"},
	}
	for _, tt := range tests {
		if got := quoteWord(tt.in, tt.forced); got != tt.want {
			t.Errorf("quoteWord(%q, %v) = %s, want %s", tt.in, tt.forced, got, tt.want)
		}
		if got := shellEcho(t, quoteWord(tt.in, tt.forced)); got != tt.in {
			t.Errorf("sh reads quoteWord(%q) back as %q", tt.in, got)
		}
	}
}

func TestShellQuote(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"abc", "abc"},
		{"a/b.c-d_e:f@g%h+i,j", "a/b.c-d_e:f@g%h+i,j"},
		{"", "''"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"$x", "'$x'"},
		{"~", "'~'"},
		{"a=b", "'a=b'"},
	}
	for _, tt := range tests {
		if got := ShellQuote(tt.in); got != tt.want {
			t.Errorf("ShellQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestShellInjection runs every hostile value through each quoting
// context of a run template and through exec, and checks that a script
// printing its argv receives it as exactly one literal argument.
func TestShellInjection(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := writeScript(t, dir, "argv.sh", argvScript)
	forms := []struct {
		name, run string
		want      func(x string) []string
	}{
		{"unquoted", "${script} ${x}", func(x string) []string { return []string{x} }},
		{"single quotes", "${script} '${x}'", func(x string) []string { return []string{x} }},
		{"double quotes", `${script} "${x}"`, func(x string) []string { return []string{x} }},
		{"inside double quotes", `${script} "pre ${x} post"`, func(x string) []string { return []string{"pre " + x + " post"} }},
		{"inside single quotes", `${script} 'pre ${x} post'`, func(x string) []string { return []string{"pre " + x + " post"} }},
		{"glued", "${script} pre${x}post", func(x string) []string { return []string{"pre" + x + "post"} }},
		{"in $( )", `${script} "$(printf '%s' ${x})"`, func(x string) []string { return []string{strings.TrimRight(x, "\n")} }},
		{"after a pipe", `true | ${script} ${x}`, func(x string) []string { return []string{x} }},
	}
	for _, f := range forms {
		for _, x := range hostile {
			step := &ir.Step{Action: "shell", Args: map[string]*ir.Expr{"run": tpl(t, f.run)}}
			a, _ := newAttempt(t, step, map[string]any{"x": x, "script": script})
			out, err := run(t, Config{}, a)
			if err != nil {
				t.Errorf("%s: %q: %v", f.name, x, err)
				continue
			}
			got := splitArgv(out.(map[string]any)["stdout"].(string))
			if diff := cmp.Diff(f.want(x), got); diff != "" {
				t.Errorf("%s: %q: argv (-want +got):\n%s", f.name, x, diff)
			}
			if _, err := os.Stat(filepath.Join(a.Dir, "pwned")); err == nil {
				t.Errorf("%s: %q: a command was injected", f.name, x)
			}
		}
	}
	for _, x := range hostile {
		step := &ir.Step{Action: "shell", Args: map[string]*ir.Expr{"exec": ex(`[script, x, "second"]`)}}
		a, _ := newAttempt(t, step, map[string]any{"x": x, "script": script})
		out, err := run(t, Config{}, a)
		if err != nil {
			t.Errorf("exec: %q: %v", x, err)
			continue
		}
		if diff := cmp.Diff([]string{x, "second"}, splitArgv(out.(map[string]any)["stdout"].(string))); diff != "" {
			t.Errorf("exec: %q: argv (-want +got):\n%s", x, diff)
		}
	}
}

func TestShellInterpolationValues(t *testing.T) {
	t.Parallel()
	script := writeScript(t, t.TempDir(), "argv.sh", argvScript)
	tests := []struct {
		name string
		run  string
		env  map[string]any
		want []string
	}{
		{"list expands to one word per element", "${script} ${xs}", map[string]any{"xs": []any{"a b", "c'd", 3}}, []string{"a b", "c'd", "3"}},
		{"empty list expands to nothing", "${script} x ${xs} y", map[string]any{"xs": []any{}}, []string{"x", "y"}},
		{"numbers and bools", "${script} ${n} ${f} ${b}", map[string]any{"n": 42, "f": 1.5, "b": true}, []string{"42", "1.5", "true"}},
		{"null is an empty word", "${script} a ${x} b \"${x}\"", map[string]any{"x": nil}, []string{"a", "", "b", ""}},
		{"shell's own variables stay", "X=1; ${script} \"$X\" ${x}", map[string]any{"x": "$X"}, []string{"1", "$X"}},
		{"arithmetic", "${script} $(( ${n} << 1 )) $((${n}*(2+1))) ${x}", map[string]any{"n": 3, "x": "a b"}, []string{"6", "9", "a b"}},
		{"here-document before", "cat <<EOF >/dev/null\nbody\nEOF\n${script} ${x}", map[string]any{"x": "a b"}, []string{"a b"}},
		{"escaped quote in literal", `${script} it\'s ${x}`, map[string]any{"x": "z"}, []string{"it's", "z"}},
		{"parameter expansion in double quotes", `G=$${x}; ${script} "hello $${G:-nobody}" ${x}`, map[string]any{"x": "w; rm -rf /"}, []string{"hello nobody", "w; rm -rf /"}},
		{"shell's own parameter expansion", `X=a; ${script} $${X:-'b c'} ${x}`, map[string]any{"x": "d e"}, []string{"a", "d e"}},
		{"top-level case", "case ${x} in a) ${script} ${y};; *) ${script} no;; esac", map[string]any{"x": "a", "y": "$(id) y"}, []string{"$(id) y"}},
		{"case inside $( ) before", `${script} "$(case ${x} in a) echo hit;; esac)"`, map[string]any{"x": "a"}, []string{"hit"}},
		{"esac closes the case", `${script} "$(case a in a) echo hit;; esac; echo " ")" "${y}"`, map[string]any{"y": "$(id)"}, []string{"hit\n ", "$(id)"}},
		{"ANSI-C string before", `${script} $'a b' ${x}`, map[string]any{"x": "c'd"}, []string{shellEcho(t, `$'a b'`), "c'd"}},
		{"comment after", "${script} ${x} # done", map[string]any{"x": "a#b"}, []string{"a#b"}},
		{"case arm inside $( )", `${script} "$(case ${x} in a) echo ${y};; esac)"`, map[string]any{"x": "a", "y": "$(id) y"}, []string{"$(id) y"}},
		{"word case inside $( )", `${script} "$(echo case a) ${y}"`, map[string]any{"y": "$(id)"}, []string{"case a $(id)"}},
		{"case and esac as arguments", `${script} case ${y} esac`, map[string]any{"y": "esac; id"}, []string{"case", "esac; id", "esac"}},
		{"here-document delimiter with a space", "cat <<'E F' >/dev/null\nbody\nE F\n${script} ${x}", map[string]any{"x": "a'b"}, []string{"a'b"}},
		{"negative int in arithmetic", `${script} $((1-${n})) $(( ${n} * 2 ))`, map[string]any{"n": -5}, []string{"6", "-10"}},
		{"int test operand", `[ ${n} -gt 5 ] && ${script} big`, map[string]any{"n": 7}, []string{"big"}},
		{"a digit before a redirection stays an argument", `${script} ${x}>&1`, map[string]any{"x": "1"}, []string{"1"}},
		{"list glued to nothing before a comment", "${script} ${xs} #c", map[string]any{"xs": []any{}}, []string{}},
		{"list in for", `for i in ${xs}; do ${script} "$i"; done`, map[string]any{"xs": []any{"a b", "#"}}, []string{"a b", "#"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]any{"script": script}
			for k, v := range tt.env {
				env[k] = v
			}
			step := &ir.Step{Action: "shell", Args: map[string]*ir.Expr{"run": tpl(t, tt.run)}}
			a, _ := newAttempt(t, step, env)
			out, err := run(t, Config{}, a)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, splitArgv(out.(map[string]any)["stdout"].(string))); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
		})
	}
}

// shellEcho returns what /bin/sh makes of word (shells differ on $'...').
func shellEcho(t *testing.T, word string) string {
	t.Helper()
	out, err := exec.Command("/bin/sh", "-c", "printf '%s' "+word).Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestShellRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		step *ir.Step
		env  map[string]any
		want string // substring of the error
	}{
		{"NUL in interpolation", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, "echo ${x}")}}, map[string]any{"x": "a\x00b"}, "NUL byte"},
		{"NUL in exec", &ir.Step{Args: map[string]*ir.Expr{"exec": ex(`["echo", x]`)}}, map[string]any{"x": "a\x00b"}, "NUL byte"},
		{"NUL in env", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, "true")}, Maps: map[string]map[string]*ir.Expr{"env": {"X": ex("x")}}}, map[string]any{"x": "a\x00b"}, "NUL byte"},
		{"object", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, "echo ${x}")}}, map[string]any{"x": map[string]any{"a": 1}}, "object"},
		{"nested list", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, "echo ${x}")}}, map[string]any{"x": []any{[]any{"a"}}}, "itself a list"},
		{"list in quotes", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, `echo "${x}"`)}}, map[string]any{"x": []any{"a"}}, "inside quotes"},
		{"comment", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, "echo hi # ${x}")}}, map[string]any{"x": "\nrm -rf /"}, "comment"},
		{"here-document", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, "cat <<EOF\n${x}\nEOF")}}, map[string]any{"x": "a"}, "here-document"},
		{"backticks", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, "echo `echo ${x}`")}}, map[string]any{"x": "a"}, "`...`"},
		{"after backslash", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, `echo \${x}`)}}, map[string]any{"x": "a"}, "backslash"},
		{"after dollar", &ir.Step{Args: map[string]*ir.Expr{"run": {Template: []ir.TemplatePart{{Lit: "echo $"}, {Expr: ex("x")}}}}}, map[string]any{"x": "a"}, "'$'"},
		{"in a quoted parameter expansion", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, `echo "$${A:-${x}}"`)}}, map[string]any{"x": "a"}, "parameter expansion"},
		{"missing cwd", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, "true"), "cwd": ex(`"no/such/dir"`)}}, nil, "is not a directory"},
		{"string in arithmetic", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, `echo $(( ${x} + 1 ))`)}}, map[string]any{"x": "a[$(id)]"}, "not an int"},
		{"fraction in arithmetic", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, `echo $(( ${x} + 1 ))`)}}, map[string]any{"x": 1.5}, "not an integer"},
		{"quoted in arithmetic", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, `echo $(( $(echo '${x}') ))`)}}, map[string]any{"x": "1"}, "arithmetic"},
		{"string in [[ -gt ]]", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, `[[ ${x} -gt 5 ]]`)}}, map[string]any{"x": "a[$(id)]"}, "not an int"},
		{"list before #", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, "echo ${x}#c")}}, map[string]any{"x": []any{}}, "whole words"},
		{"list in a redirection", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, "cat <${x}<EOF\nbody\nEOF")}}, map[string]any{"x": []any{}}, "whole words"},
		{"list as the command", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, "${x} arg")}}, map[string]any{"x": []any{}}, "whole words"},
		{"here-document delimiter", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, "cat <<${x}\nb\n")}}, map[string]any{"x": "b"}, "unclosed here-document"},
		{"here-document with a spaced delimiter", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, "cat <<'E F'\n${x}\nE F\n")}}, map[string]any{"x": "E F"}, "here-document"},
		{"declare", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, "declare -a a=${x}")}}, map[string]any{"x": "($(id))"}, "declare"},
		{"read", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, "read ${x} </dev/null")}}, map[string]any{"x": "a[$(id)]"}, "variable name"},
		{"test -v", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, "test -v ${x}")}}, map[string]any{"x": "a[$(id)]"}, "variable name"},
		{"syntax error", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, "echo ${x} )")}}, map[string]any{"x": "a"}, "syntax error"},
		{"inside $'...'", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, `echo $'a ${x}'`)}}, map[string]any{"x": "b"}, "$'...'"},
		{"after \\' in $'...'", &ir.Step{Args: map[string]*ir.Expr{"run": tpl(t, `echo $'a\'b' ${x}`)}}, map[string]any{"x": "b"}, "syntax error"},
		{"empty exec", &ir.Step{Args: map[string]*ir.Expr{"exec": ex(`[]`)}}, nil, "empty"},
		{"exec not a list", &ir.Step{Args: map[string]*ir.Expr{"exec": ex(`"echo hi"`)}}, nil, "expected a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.step.Action = "shell"
			a, _ := newAttempt(t, tt.step, tt.env)
			_, err := run(t, Config{}, a)
			var se *runtime.StepError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v, want a StepError", err)
			}
			if se.Kind != runtime.ErrKindExpr || se.Retry {
				t.Errorf("kind %q retry %v, want %q and no retry", se.Kind, se.Retry, runtime.ErrKindExpr)
			}
			if !strings.Contains(se.Message, tt.want) {
				t.Errorf("message %q does not mention %q", se.Message, tt.want)
			}
		})
	}
}

func TestShellResult(t *testing.T) {
	t.Parallel()
	obj := schema.ObjectOf(&schema.Field{Name: "n", Type: schema.IntType}, &schema.Field{Name: "s", Type: schema.StringType})
	tests := []struct {
		name     string
		run      string
		allow    bool
		declared *schema.Type
		want     any
		wantErr  *runtime.StepError // Kind, ExitCode, Retry compared
	}{
		{name: "ok", run: "echo out; echo err >&2",
			want: map[string]any{"stdout": "out\n", "stderr": "err\n", "exit_code": int64(0)}},
		{name: "non-zero exit fails", run: "echo partial; echo why >&2; exit 3",
			wantErr: &runtime.StepError{Kind: runtime.ErrKindExit, ExitCode: 3, Retry: true, Message: "command failed: why"}},
		{name: "allow_failure", run: "echo partial; exit 3", allow: true,
			want: map[string]any{"stdout": "partial\n", "stderr": "", "exit_code": int64(3)}},
		{name: "command not found", run: "no-such-command-xyz",
			wantErr: &runtime.StepError{Kind: runtime.ErrKindExit, ExitCode: 127, Retry: true}},
		{name: "killed by a signal", run: "kill -9 $$",
			wantErr: &runtime.StepError{Kind: runtime.ErrKindExit, ExitCode: 137, Retry: true, Message: "command failed"}},
		{name: "declared output parsed", run: `echo '{"n": 2, "s": "x", "extra": true}'`, declared: obj,
			want: map[string]any{"n": int64(2), "s": "x"}},
		{name: "declared output not JSON", run: "echo hello", declared: obj,
			wantErr: &runtime.StepError{Kind: runtime.ErrKindValidation, Retry: true}},
		{name: "declared output empty", run: "true", declared: obj,
			wantErr: &runtime.StepError{Kind: runtime.ErrKindValidation, Retry: true, Message: "stdout is empty, but the step declares an output type: print one JSON value"}},
		{name: "declared output wrong type", run: `echo '{"n": "two", "s": "x"}'`, declared: obj,
			wantErr: &runtime.StepError{Kind: runtime.ErrKindValidation, Retry: true, Path: "s.n", Message: "s.n: expected int, got string \"two\""}},
		{name: "declared output, two values", run: `echo '{}' '{}'`, declared: obj,
			wantErr: &runtime.StepError{Kind: runtime.ErrKindValidation, Retry: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			step := &ir.Step{Action: "shell", Args: map[string]*ir.Expr{"run": tpl(t, tt.run)}}
			if tt.allow {
				step.Args["allow_failure"] = ex("true")
			}
			a, _ := newAttempt(t, step, nil)
			if tt.declared != nil {
				step.DeclaredOutput = true
				a.Node.Output = tt.declared
			}
			got, err := run(t, Config{}, a)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("output (-want +got):\n%s", diff)
				}
				return
			}
			var se *runtime.StepError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v, want a StepError", err)
			}
			if se.Kind != tt.wantErr.Kind || se.ExitCode != tt.wantErr.ExitCode || se.Retry != tt.wantErr.Retry || se.Path != tt.wantErr.Path {
				t.Errorf("got kind %q exit %d retry %v path %q, want %q %d %v %q", se.Kind, se.ExitCode, se.Retry, se.Path,
					tt.wantErr.Kind, tt.wantErr.ExitCode, tt.wantErr.Retry, tt.wantErr.Path)
			}
			if tt.wantErr.Message != "" && se.Message != tt.wantErr.Message {
				t.Errorf("message %q, want %q", se.Message, tt.wantErr.Message)
			}
		})
	}
}

func TestShellExitKeepsPartialOutput(t *testing.T) {
	t.Parallel()
	step := &ir.Step{Action: "shell", Args: map[string]*ir.Expr{"run": tpl(t, "echo partial; exit 4")}}
	a, _ := newAttempt(t, step, nil)
	_, err := run(t, Config{}, a)
	se := runtime.AsStepError(err)
	want := map[string]any{"stdout": "partial\n", "stderr": "", "exit_code": int64(4)}
	if diff := cmp.Diff(want, se.Output); diff != "" {
		t.Errorf("partial output (-want +got):\n%s", diff)
	}
	if got := se.Error(); got != "command failed (exit code 4)" {
		t.Errorf("Error() = %q", got)
	}
}

func TestShellEnvAndCwd(t *testing.T) {
	t.Parallel()
	step := &ir.Step{
		Action: "shell",
		Args: map[string]*ir.Expr{
			"run": tpl(t, `printf '%s|%s|%s|%s' "$GREETING" "$N" "$BASE_ONLY" "$(basename "$PWD")"`),
			"cwd": ex(`"sub/dir"`),
		},
		Maps: map[string]map[string]*ir.Expr{"env": {"GREETING": ex("greeting"), "N": ex("7")}},
	}
	a, _ := newAttempt(t, step, map[string]any{"greeting": "hi 'there' $(x)"})
	if err := os.MkdirAll(filepath.Join(a.Dir, "sub", "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := Config{EnvironFunc: func() []string {
		return []string{"PATH=" + os.Getenv("PATH"), "BASE_ONLY=base", "GREETING=overridden"}
	}}
	out, err := run(t, cfg, a)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.(map[string]any)["stdout"], "hi 'there' $(x)|7|base|dir"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

func TestShellOutputCap(t *testing.T) {
	t.Parallel()
	step := &ir.Step{Action: "shell", Args: map[string]*ir.Expr{
		"run": tpl(t, `i=0; while [ $i -lt 100 ]; do printf '%09d\n' $i; i=$((i+1)); done; printf 'é' >&2`),
	}}
	a, _ := newAttempt(t, step, nil)
	out, err := run(t, Config{MaxOutputBytes: 25}, a)
	if err != nil {
		t.Fatal(err)
	}
	m := out.(map[string]any)
	if want := "[... 975 bytes cut ...]\n0097\n000000098\n000000099\n"; m["stdout"] != want {
		t.Errorf("stdout = %q, want %q", m["stdout"], want)
	}
	if m["stderr"] != "é" {
		t.Errorf("stderr = %q", m["stderr"])
	}
}

func TestShellNotFoundProgram(t *testing.T) {
	t.Parallel()
	step := &ir.Step{Action: "shell", Args: map[string]*ir.Expr{"exec": ex(`["no-such-program-xyz", "a"]`)}}
	a, _ := newAttempt(t, step, nil)
	_, err := run(t, Config{}, a)
	se := runtime.AsStepError(err)
	if se.Kind != runtime.ErrKindExit || se.ExitCode != 127 || !strings.Contains(se.Message, "not found") {
		t.Errorf("got %+v", se)
	}
}

// TestShellTimeoutKillsGroup runs a script that ignores SIGTERM and starts
// a background child; when the context ends both must be gone.
func TestShellTimeoutKillsGroup(t *testing.T) {
	t.Parallel()
	for _, trap := range []string{"", "trap '' TERM; "} {
		step := &ir.Step{Action: "shell", Args: map[string]*ir.Expr{
			"run": tpl(t, trap+`sleep 60 & echo $! > child.pid; echo started; wait`),
		}}
		a, rec := newAttempt(t, step, nil)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard: the test cancels much sooner
		go func() {
			for len(rec.kinds("StepOutput")) == 0 && ctx.Err() == nil {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
		}()
		_, err := Actions(Config{KillGrace: 100 * time.Millisecond, HeartbeatInterval: time.Nanosecond})["shell"].Run(ctx, a)
		se := runtime.AsStepError(err)
		if se.Kind != runtime.ErrKindCancelled {
			t.Errorf("%q: kind = %q (%v), want cancelled", trap, se.Kind, err)
		}
		if out, _ := se.Output.(map[string]any); out == nil || out["stdout"] != "started\n" {
			t.Errorf("%q: partial output = %v", trap, se.Output)
		}
		pid := readPid(t, filepath.Join(a.Dir, "child.pid"))
		waitGone(t, pid)
	}
}

func TestShellDeadlineIsTimeout(t *testing.T) {
	t.Parallel()
	step := &ir.Step{Action: "shell", Args: map[string]*ir.Expr{"run": tpl(t, "sleep 30")}}
	a, _ := newAttempt(t, step, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := Actions(Config{})["shell"].Run(ctx, a)
	if se := runtime.AsStepError(err); se.Kind != runtime.ErrKindTimeout || !se.Retry {
		t.Errorf("got %+v, want a retryable timeout", se)
	}
}

// TestShellReapsBackgroundJobs: a background job left behind by a script
// that exits normally is killed with its group.
func TestShellReapsBackgroundJobs(t *testing.T) {
	t.Parallel()
	step := &ir.Step{Action: "shell", Args: map[string]*ir.Expr{"run": tpl(t, `sleep 60 >/dev/null 2>&1 & echo $! > child.pid`)}}
	a, _ := newAttempt(t, step, nil)
	if _, err := run(t, Config{}, a); err != nil {
		t.Fatal(err)
	}
	waitGone(t, readPid(t, filepath.Join(a.Dir, "child.pid")))
}

func TestShellStreamsOutput(t *testing.T) {
	t.Parallel()
	step := &ir.Step{Action: "shell", Args: map[string]*ir.Expr{"run": tpl(t, `echo one; echo "token $TOKEN"; echo two >&2`)},
		Maps: map[string]map[string]*ir.Expr{"env": {"TOKEN": ex("token")}}}
	a, rec := newAttempt(t, step, map[string]any{"token": "s3cret"})
	a.AddSecret("s3cret")
	if _, err := run(t, Config{HeartbeatInterval: time.Nanosecond}, a); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	for _, d := range rec.kinds("StepOutput") {
		if d["stream"] == "stdout" {
			stdout.WriteString(d["text"].(string))
		} else {
			stderr.WriteString(d["text"].(string))
		}
	}
	if stdout.String() != "one\ntoken ***\n" || stderr.String() != "two\n" {
		t.Errorf("logged stdout %q stderr %q", stdout.String(), stderr.String())
	}
	if rec.heartbeats() == 0 {
		t.Error("no heartbeat while output flowed")
	}
	cmds := rec.kinds("ShellCommand")
	if len(cmds) != 1 || !strings.Contains(cmds[0]["run"].(string), "echo one") {
		t.Errorf("ShellCommand events = %v", cmds)
	}
}
