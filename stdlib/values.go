package stdlib

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/schema"
)

// stepErr returns a StepError of the given kind that is not retried: the
// step's configuration or data is wrong and another attempt would fail the
// same way.
func stepErr(kind, format string, args ...any) *runtime.StepError {
	return &runtime.StepError{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// evalErr wraps an error from evaluating the attribute attr.
func evalErr(attr string, err error) error {
	var se *runtime.StepError
	if errors.As(err, &se) {
		return err
	}
	return &runtime.StepError{Kind: runtime.ErrKindExpr, Message: fmt.Sprintf("evaluating %s: %v", attr, err), Err: err}
}

// evalArg evaluates the step argument attr; absent arguments are nil.
func evalArg(a *runtime.Attempt, attr string) (any, error) {
	e := a.Step.Args[attr]
	if e == nil {
		return nil, nil
	}
	v, err := a.Eval(e)
	if err != nil {
		return nil, evalErr(attr, err)
	}
	return v, nil
}

// evalString evaluates attr and requires a string (or a scalar, which is
// formatted). Absent arguments give def.
func evalString(a *runtime.Attempt, attr, def string) (string, error) {
	e := a.Step.Args[attr]
	if e == nil {
		return def, nil
	}
	v, err := a.Eval(e)
	if err != nil {
		return "", evalErr(attr, err)
	}
	if v == nil {
		return def, nil
	}
	s, err := scalarString(v)
	if err != nil {
		return "", stepErr(runtime.ErrKindExpr, "%s: %v", attr, err)
	}
	return s, nil
}

// evalBool evaluates attr as a bool; absent or null means false.
func evalBool(a *runtime.Attempt, attr string) (bool, error) {
	v, err := evalArg(a, attr)
	if err != nil || v == nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, stepErr(runtime.ErrKindExpr, "%s: expected bool, got %T", attr, v)
	}
	return b, nil
}

// evalExprString evaluates e (an agent setting, for example) to a string.
func evalExprString(a *runtime.Attempt, what string, e *ir.Expr) (string, error) {
	if e == nil {
		return "", nil
	}
	v, err := a.Eval(e)
	if err != nil {
		return "", evalErr(what, err)
	}
	if v == nil {
		return "", nil
	}
	s, err := scalarString(v)
	if err != nil {
		return "", stepErr(runtime.ErrKindExpr, "%s: %v", what, err)
	}
	return s, nil
}

// scalarString formats a scalar value as text (schema.Text): strings as
// they are, numbers and bools as in JSON. Null, lists and objects are
// errors.
func scalarString(v any) (string, error) {
	switch x := schema.Canonical(v).(type) {
	case string:
		return x, nil
	case bool, int64, float64:
		return schema.Text(x), nil
	case nil:
		return "", errors.New("value is null")
	}
	return "", fmt.Errorf("expected a string or number, got %s", schema.Describe(v))
}

// textValue formats any value as text (schema.Text): scalars as
// scalarString, lists and objects as JSON. Null is an error.
func textValue(v any) (string, error) {
	switch x := schema.Canonical(v).(type) {
	case []any, map[string]any:
		return schema.Text(x), nil
	}
	return scalarString(v)
}

// checkNUL rejects text holding a NUL byte, which no process argument or
// environment variable can carry.
func checkNUL(what, s string) error {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return stepErr(runtime.ErrKindExpr, "%s contains a NUL byte at offset %d; processes cannot receive NUL bytes in arguments or the environment", what, i)
	}
	return nil
}

// shorten cuts s to at most n bytes on a rune boundary, adding "...".
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
