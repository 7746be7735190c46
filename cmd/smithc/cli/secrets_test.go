package cli_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/smithc/smithc/stdlib"
)

// secretVars are secrets of every character class: HTML-special, a
// double quote, backslashes, a newline (multi-line), a tab, non-ASCII, a
// single 4-byte character, and a single quote (shell-quoted specially).
var secretVars = map[string]string{
	"S_HTML":    "<tag>&amp;zq0",
	"S_QUOTE":   `q"uo"te-zq1`,
	"S_BSLASH":  `back\slash\\zq2`,
	"S_LINES":   "mu1ti-zq3\nline-zq3b\nlast-zq3c",
	"S_TAB":     "tab\tzq4-sep",
	"S_UNICODE": "ünï-秘密-zq5",
	"S_FOUR":    "🔑",
	"S_SQUOTE":  "it's-zq6",
}

// secretForms lists every form in which a secret could be written into
// the store or a command's output.
func secretForms(v string) []string {
	forms := []string{v}
	j, _ := json.Marshal(v)
	forms = append(forms, string(j[1:len(j)-1]))
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v) //nolint:errcheck // a string always encodes
	forms = append(forms, strings.TrimSpace(b.String())[1:len(strings.TrimSpace(b.String()))-1])
	q := strconv.Quote(v)
	forms = append(forms, q[1:len(q)-1], stdlib.ShellQuote(v), url.QueryEscape(v), url.PathEscape(v),
		base64.StdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v)))
	if strings.Contains(v, "\n") {
		forms = append(forms, strings.Split(v, "\n")...)
	}
	var out []string
	seen := map[string]bool{}
	for _, f := range forms {
		if len(f) >= 4 && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

const secretsProgram = `
agent standin { cli = "claude" }

workflow child {
  input { n: int }
  step inner { value = input.n + len(secret("S_UNICODE")) }
  output = inner
}

workflow shapes {
  // shell: the secret quoted into a script (logged as ShellCommand) and
  // passed explicitly in the environment; stdout never holds it.
  step sh {
    run = "printf '%s' ${secret("S_HTML")} ${secret("S_QUOTE")} ${secret("S_BSLASH")} ${secret("S_LINES")} ${secret("S_TAB")} ${secret("S_SQUOTE")} | wc -c; printf 'inherited=[%s] passed=%s\n' \"$S_UNICODE\" \"$${#PASSED}\""
    env { PASSED = secret("S_FOUR") }
  }
  // compute: a value derived from secrets, not holding them.
  step comp { value = len(secret("S_HTML") + secret("S_QUOTE") + secret("S_BSLASH") + secret("S_LINES") + secret("S_TAB") + secret("S_UNICODE") + secret("S_FOUR") + secret("S_SQUOTE")) }
  // cache: a key built from a secret.
  step cached {
    run = "echo cached-ok"
    cache { key = "k-" + secret("S_QUOTE") + secret("S_LINES") }
  }
  // call: the child reads the secret itself.
  step called {
    call child { input = { n: 1 } }
  }
  // agent stand-in: the prompt holds a secret; the CLI gets no secret
  // variable from the environment.
  step ask {
    agent  = standin
    prompt = "Use ${secret("S_TAB")} and ${secret("S_HTML")} carefully."
  }
  output = { sh: trim(sh.stdout), comp: comp, cached: trim(cached.stdout), called: called, ask: ask.text }
}

workflow leaks {
  // errors: a failing command whose stderr (logged, and the last line in
  // the error message) holds secrets.
  step noisy {
    run = "printf '%s\n' ${secret("S_HTML")} ${secret("S_LINES")} >&2; printf 'last %s\n' ${secret("S_QUOTE")} >&2; exit 3"
    continue_on_fail = true
  }
  // an output holding a secret is refused, naming the field.
  step echoed {
    run = "printf 'token=%s\n' ${secret("S_BSLASH")}"
    continue_on_fail = true
  }
  step shown { value = { nested: { t: toJSON({ v: secret("S_UNICODE") }) } }, continue_on_fail = true }
  step four { value = [ "a", secret("S_FOUR") ], continue_on_fail = true }
  step after { value = "after" }
}
`

// TestSecretsNeverStored runs every workflow shape with secrets of every
// character class and looks for every form of every secret in the
// SQLite file and its WAL, in logs, inspect and ps (text and JSON), and in
// the run results. None may be there; stored outputs are what was
// validated; the JSON commands still work.
func TestSecretsNeverStored(t *testing.T) {
	e := newEnv(t)
	bin := filepath.Join(e.dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// The agent stand-in answers in claude's JSON, reporting whether it
	// inherited a secret variable.
	e.write("bin/claude", "#!/bin/sh\ncat > /dev/null\nprintf '{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"result\":\"answer env=[%s]\",\"session_id\":\"s1\"}\\n' \"$S_TAB\"\n")
	if err := os.Chmod(filepath.Join(bin, "claude"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := e.write("secrets.smw", secretsProgram)
	withEnv := func(args ...string) result {
		t.Helper()
		c := e.cmd(args...)
		c.Env = append(c.Env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		for k, v := range secretVars {
			c.Env = append(c.Env, k+"="+v)
		}
		var stdout, stderr strings.Builder
		c.Stdout, c.Stderr = &stdout, &stderr
		err := c.Run()
		code := 0
		if err != nil {
			code = c.ProcessState.ExitCode()
		}
		return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	}

	var outputs []result
	r := withEnv("run", f, "--workflow", "shapes", "--run-id", "shapes1", "--format", "json")
	outputs = append(outputs, r)
	if r.code != 0 {
		t.Fatalf("shapes: %s", r)
	}
	var res struct {
		Output map[string]any `json:"output"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	total := 0
	for _, k := range []string{"S_HTML", "S_QUOTE", "S_BSLASH", "S_LINES", "S_TAB", "S_UNICODE", "S_FOUR", "S_SQUOTE"} {
		total += len(secretVars[k])
	}
	shWant := strconv.Itoa(total-len(secretVars["S_UNICODE"])-len(secretVars["S_FOUR"])) + "\ninherited=[] passed=4"
	want := map[string]any{"sh": shWant, "comp": float64(len([]rune(strings.Join(values(), "")))),
		"cached": "cached-ok", "called": float64(1 + len([]rune(secretVars["S_UNICODE"]))), "ask": "answer env=[]"}
	for k, w := range want {
		if got := res.Output[k]; strings.TrimSpace(toString(got)) != toString(w) {
			t.Errorf("output %s = %#v, want %#v", k, got, w)
		}
	}
	// The cache hits on a second run.
	r = withEnv("run", f, "--workflow", "shapes", "--run-id", "shapes2", "--format", "json")
	outputs = append(outputs, r)
	if r.code != 0 {
		t.Fatalf("shapes again: %s", r)
	}

	r = withEnv("run", f, "--workflow", "leaks", "--run-id", "leaks1", "--format", "json")
	outputs = append(outputs, r)
	for _, msg := range []string{`echoed.stdout holds the value of secret("S_BSLASH")`, `shown.nested.t holds the value of secret("S_UNICODE")`, `four[1] holds the value of secret("S_FOUR")`} {
		if !strings.Contains(strings.ReplaceAll(r.stdout+r.stderr, `\"`, `"`), msg) {
			t.Errorf("leaks run does not say %q:\n%s", msg, r)
		}
	}

	// A call input that carries a secret is refused before anything runs.
	bad := e.write("bad.smw", `workflow child { input { t: string } step s { value = len(input.t) } }
workflow parent { step c { call child { input = { t: secret("S_HTML") } } } }`)
	r = withEnv("run", bad, "--workflow", "parent", "--run-id", "bad1")
	outputs = append(outputs, r)
	if r.code == 0 || !strings.Contains(r.stderr, `secret("S_HTML") cannot be used in input`) {
		t.Errorf("call input with a secret: %s", r)
	}

	for _, args := range [][]string{
		{"ps"}, {"ps", "--format", "json"},
		{"inspect", "shapes1"}, {"inspect", "shapes1", "--format", "json"}, {"inspect", "leaks1"}, {"inspect", "leaks1", "--format", "json"},
		{"logs", "shapes1"}, {"logs", "shapes1", "--format", "json"}, {"logs", "leaks1"}, {"logs", "leaks1", "--format", "json"},
		{"logs", "shapes2", "--format", "json"}, {"inspect", "shapes1.called", "--format", "json"},
	} {
		r := withEnv(args...)
		if r.code != 0 {
			t.Errorf("smithc %v: %s", args, r)
		}
		if args[len(args)-1] == "json" && !validJSONStream(r.stdout) {
			t.Errorf("smithc %v printed invalid JSON:\n%s", args, r.stdout)
		}
		outputs = append(outputs, r)
	}

	var places = map[string]string{}
	for i, o := range outputs {
		places["command "+strconv.Itoa(i)] = o.stdout + o.stderr
	}
	for _, name := range []string{"smithers.db", "smithers.db-wal", "smithers.db-shm"} {
		places[name] = e.read(name)
	}
	var names []string
	for k := range secretVars {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, form := range secretForms(secretVars[name]) {
			for where, text := range places {
				if strings.Contains(text, form) {
					i := strings.Index(text, form)
					t.Errorf("%s holds %s in the form %q: ...%q...", where, name, form, text[max(0, i-60):min(len(text), i+len(form)+20)])
				}
			}
		}
	}
	if !strings.Contains(places["command 0"], "answer") {
		t.Error("the shapes run printed nothing")
	}
}

func values() []string {
	out := make([]string, 0, len(secretVars))
	for _, v := range secretVars {
		out = append(out, v)
	}
	return out
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// validJSONStream reports whether s is one or more JSON values.
func validJSONStream(s string) bool {
	dec := json.NewDecoder(strings.NewReader(s))
	n := 0
	for {
		var v any
		if err := dec.Decode(&v); err != nil {
			return err.Error() == "EOF" && n > 0
		}
		n++
	}
}
