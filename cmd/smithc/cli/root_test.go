package cli

import (
	"bytes"
	"context"
	"testing"
)

// TestHotCommandAloneIsTheSame: a hot command, built alone in the tree
// when it is the first argument, prints the same help and the same usage
// errors as in the whole tree.
func TestHotCommandAloneIsTheSame(t *testing.T) {
	t.Parallel()
	exec := func(full bool, args ...string) string {
		var out bytes.Buffer
		a := &app{stdout: &out, stderr: &out}
		tree := args
		if full {
			tree = nil
		}
		root := a.newRoot(tree)
		root.SetArgs(args)
		root.SetOut(&out)
		root.SetErr(&out)
		if err := root.ExecuteContext(context.Background()); err != nil {
			out.WriteString("error: " + err.Error())
		}
		return out.String()
	}
	for name := range (&app{}).hotCommands() {
		for _, args := range [][]string{{name, "--help"}, {name, "--no-such-flag"}, {name, "a", "b", "c"}} {
			alone, whole := exec(false, args...), exec(true, args...)
			if alone != whole {
				t.Errorf("smithc %q alone:\n%s\nin the whole tree:\n%s", args, alone, whole)
			}
			if alone == "" {
				t.Errorf("smithc %q printed nothing", args)
			}
		}
		if got := len(exec(false, name, "--help")); got < 200 {
			t.Errorf("smithc %s --help is %d bytes", name, got)
		}
	}
}
