package ir_test

import (
	"strings"
	"testing"

	"github.com/smithc/smithc/compiler/ir"
)

func TestApplyInputDefaults(t *testing.T) {
	w := &ir.Workflow{InputDefaults: map[string]*ir.Expr{
		"home": {Src: `env("HOME_X")`},
		"user": {Src: `env("USER_X") + "!"`},
	}}
	lookup := func(k string) (string, bool) {
		v, ok := map[string]string{"HOME_X": "/home/ada", "USER_X": "ada"}[k]
		return v, ok
	}
	in := map[string]any{"user": "given"}
	if err := w.ApplyInputDefaults(in, lookup); err != nil {
		t.Fatal(err)
	}
	if in["home"] != "/home/ada" || in["user"] != "given" {
		t.Errorf("got %v; want home from the environment and user as given", in)
	}
	secret := &ir.Workflow{InputDefaults: map[string]*ir.Expr{"key": {Src: `secret("K")`}}}
	err := secret.ApplyInputDefaults(map[string]any{}, lookup)
	if err == nil || !strings.Contains(err.Error(), "secret() cannot be an input default") {
		t.Errorf("secret default: err = %v", err)
	}
}
