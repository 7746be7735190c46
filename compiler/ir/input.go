package ir

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
)

// ApplyInputDefaults fills the fields of input that the caller did not
// give and whose default reads the environment (InputDefaults), looking
// variables up with lookup. It runs before the input is validated, so the
// value is checked like any other. secret() is refused here: a run's input
// is stored, and a secret must never be.
func (w *Workflow) ApplyInputDefaults(input map[string]any, lookup func(string) (string, bool)) error {
	for _, name := range sortedKeys(w.InputDefaults) {
		if _, given := input[name]; given {
			continue
		}
		x := w.InputDefaults[name]
		prog := x.Program
		if prog == nil {
			var err error
			if prog, err = x.Compile(); err != nil {
				return fmt.Errorf("the default of input %s: %w", name, err)
			}
		}
		env := map[string]any{
			"env": func(v string) string {
				s, _ := lookup(v)
				return s
			},
			"secret": func(string) (string, error) {
				return "", fmt.Errorf("secret() cannot be an input default: a run's input is stored; read the secret in the step that uses it")
			},
		}
		v, err := expr.Run(prog, env)
		if err != nil {
			return fmt.Errorf("the default of input %s (%s): %w", name, strings.TrimSpace(x.Src), err)
		}
		input[name] = v
	}
	return nil
}
