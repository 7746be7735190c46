package cli_test

import (
	"encoding/json"
	"testing"
)

// TestTemplatesFormatAlike: a value prints the same way in every kind of
// template: a string template, a run script, a cache key, and inside a
// list (before, a run template printed 0.000001 and a string template
// 1e-06).
func TestTemplatesFormatAlike(t *testing.T) {
	e := newEnv(t)
	f := e.write("fmt.smw", `workflow fmt {
  input {
    small: float = 0.000001
    tiny: float = 0.0000001
    big: float = 1e21
    whole: float = 3.0
    n: int = 42
  }
  step str { value = "${input.small} ${input.tiny} ${input.big} ${input.whole} ${input.n} ${[input.small, input.n]}" }
  step sh  { run = "printf '%s ' \"${input.small} ${input.tiny} ${input.big} ${input.whole} ${input.n}\" ${[input.small, input.n]}" }
  step key {
    value = 1
    cache { key = "${input.small}" }
  }
  output = { str: str, sh: sh.stdout }
}`)
	r := e.cli("run", f, "--format", "json")
	if r.code != 0 {
		t.Fatal(r)
	}
	var res struct {
		Output struct{ Str, Sh string } `json:"output"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	const want = "0.000001 1e-7 1e+21 3 42 [0.000001,42]"
	if res.Output.Str != want {
		t.Errorf("string template: %q, want %q", res.Output.Str, want)
	}
	if res.Output.Sh != "0.000001 1e-7 1e+21 3 42 0.000001 42 " {
		t.Errorf("run template: %q", res.Output.Sh)
	}
}
