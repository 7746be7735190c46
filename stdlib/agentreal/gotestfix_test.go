package agentreal

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/smithc/smithc/cmd/smithc/cli"
)

// TestRealGoTestFix runs examples/go_test_fix.smw with the real claude on
// a repository whose test fails: claude (the stub's tool calls) diagnoses
// it with structured output, a person approves, claude reads and edits
// the file with permission_mode = "accept_edits", the fix is committed on
// the worktree's branch and the tests pass.
func TestRealGoTestFix(t *testing.T) {
	claude := findCLI(t, "claude")
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	_, self, _, _ := runtime.Caller(0)
	example := filepath.Join(filepath.Dir(self), "..", "..", "examples", "go_test_fix.smw")

	root, err := os.MkdirTemp("/var/tmp", "smithc-gotestfix-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	repo := filepath.Join(root, "calc")
	write(t, filepath.Join(repo, "go.mod"), "module calc\n\ngo 1.21\n")
	write(t, filepath.Join(repo, "add.go"), "package calc\n\n// Add returns the sum of a and b.\nfunc Add(a, b int) int {\n\treturn a - b\n}\n")
	write(t, filepath.Join(repo, "add_test.go"), "package calc\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif got := Add(2, 3); got != 5 {\n\t\tt.Fatalf(\"Add(2, 3) = %d, want 5\", got)\n\t}\n}\n")
	git := func(args ...string) string {
		t.Helper()
		c := exec.Command("git", append([]string{"-C", repo}, args...)...)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	git("init", "-q", "-b", "main")
	git("config", "user.email", "dev@example.com")
	git("config", "user.name", "Dev")
	git("add", "-A")
	git("commit", "-q", "-m", "calc with a bug")
	target := filepath.Join(root, "smithc-go-test-fix", "add.go") // the worktree's copy

	applyTurns := 0 // the stub answers one request at a time
	s := newSetup(t, "claude", func(n int, r request) turn {
		switch {
		case strings.Contains(r.Body, "These Go tests failed"):
			if r.ToolResult {
				return turn{text: "Diagnosed."}
			}
			return turn{tool: "StructuredOutput", input: map[string]any{"failing": []string{"TestAdd"},
				"cause": "Add subtracts instead of adding.", "fix": "In add.go, return a + b instead of a - b."}}
		case strings.Contains(r.Body, "Apply this fix"):
			applyTurns++
			switch applyTurns {
			case 1:
				return turn{tool: "Read", input: map[string]any{"file_path": target}}
			case 2:
				return turn{tool: "Edit", input: map[string]any{"file_path": target, "old_string": "return a - b", "new_string": "return a + b"}}
			}
			return turn{text: "Fixed add.go."}
		}
		return turn{text: "?"}
	})
	for k, v := range s.env {
		t.Setenv(k, v)
	}
	t.Setenv("PATH", filepath.Dir(claude)+string(os.PathListSeparator)+filepath.Dir(goBin)+string(os.PathListSeparator)+"/usr/bin:/bin")
	t.Setenv("GOFLAGS", "-mod=mod")
	if c, err := exec.Command(goBin, "env", "GOCACHE").Output(); err == nil {
		t.Setenv("GOCACHE", strings.TrimSpace(string(c)))
	}
	t.Chdir(repo)

	db := filepath.Join(root, "runs.db")
	main := func(args ...string) map[string]any {
		t.Helper()
		var out, errb bytes.Buffer
		cli.Main(context.Background(), append(args, "--db", db, "--format", "json"), strings.NewReader(""), &out, &errb)
		var res map[string]any
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("smithc %v: %v\nstdout: %s\nstderr: %s", args, err, out.String(), errb.String())
		}
		return res
	}
	res := main("run", example, "--run-id", "fix1", "--wait", "never")
	if res["status"] != "waiting-approval" {
		t.Fatalf("run: %v", res)
	}
	res = main("approve", "fix1", "apply_fix", "--note", "looks right")
	if res["status"] != "finished" {
		t.Fatalf("after approval: %v", res)
	}
	out, _ := res["output"].(map[string]any)
	if out["passed_first_time"] != false || out["fixed"] != true || js(out["failing"]) != `["TestAdd"]` {
		t.Errorf("report = %v", out)
	}
	if got := git("show", "smithc-go-test-fix:add.go"); !strings.Contains(got, "return a + b") {
		t.Errorf("the fix is not committed on the branch:\n%s", got)
	}
	if msg := git("log", "-1", "--format=%s%n%b", "smithc-go-test-fix"); !strings.Contains(msg, "return a + b") {
		t.Errorf("commit message: %s", msg)
	}
}
