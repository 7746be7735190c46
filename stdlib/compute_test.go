package stdlib

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
)

func TestCompute(t *testing.T) {
	t.Parallel()
	env := map[string]any{"analyze": map[string]any{"summary": "ok", "n": 2}}
	tests := []struct {
		name  string
		value *ir.Expr
		want  any
		kind  string
	}{
		{"object", ex(`{markdown: "# " + analyze.summary, n: analyze.n * 2}`), map[string]any{"markdown": "# ok", "n": 4}, ""},
		{"list", ex(`map([1, 2], # + analyze.n)`), []any{3, 4}, ""},
		{"run-time error", ex(`analyze.summary.nope.x`), nil, runtime.ErrKindExpr},
		{"no value", nil, nil, runtime.ErrKindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			step := &ir.Step{Action: "compute", Args: map[string]*ir.Expr{}}
			if tt.value != nil {
				step.Args["value"] = tt.value
			}
			a, _ := newAttempt(t, step, env)
			got, err := run(t, Config{}, a)
			if tt.kind != "" {
				if se := runtime.AsStepError(err); se == nil || se.Kind != tt.kind || se.Retry {
					t.Errorf("got %+v, want a non-retryable %s error", se, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCall(t *testing.T) {
	t.Parallel()
	type call struct {
		Workflow string
		Input    any
	}
	tests := []struct {
		name    string
		input   *ir.Expr
		result  any
		fail    error
		want    any
		wantIn  any
		errKind string
	}{
		{"input", ex(`{repo: repo, n: 1}`), map[string]any{"ok": true}, nil, map[string]any{"ok": true}, map[string]any{"repo": "acme", "n": 1}, ""},
		{"no input", nil, "done", nil, "done", map[string]any{}, ""},
		{"child failed", ex(`{}`), nil, &runtime.StepError{Kind: runtime.ErrKindExit, ExitCode: 1, Message: "child run failed"}, nil, map[string]any{}, runtime.ErrKindExit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			step := &ir.Step{Action: "call", Call: "child", Args: map[string]*ir.Expr{}}
			if tt.input != nil {
				step.Args["input"] = tt.input
			}
			a, _ := newAttempt(t, step, map[string]any{"repo": "acme"})
			var calls []call
			a.CallFunc = func(_ context.Context, wf string, input any) (any, error) {
				calls = append(calls, call{wf, input})
				return tt.result, tt.fail
			}
			got, err := run(t, Config{}, a)
			if diff := cmp.Diff([]call{{"child", tt.wantIn}}, calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if tt.errKind != "" {
				var se *runtime.StepError
				if !errors.As(err, &se) || se.Kind != tt.errKind {
					t.Errorf("error = %v, want kind %s", err, tt.errKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("no CallFunc", func(t *testing.T) {
		t.Parallel()
		a, _ := newAttempt(t, &ir.Step{Action: "call", Call: "child"}, nil)
		_, err := run(t, Config{}, a)
		if se := runtime.AsStepError(err); se.Kind != runtime.ErrKindInternal || !strings.Contains(se.Message, "call child") {
			t.Errorf("got %+v", se)
		}
	})
}
