package smithc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smithc/smithc/cmd/smithc/cli"
)

// smithc runs the CLI in-process and returns its exit code, stdout and
// stderr.
func smithc(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// runResult is the --format json result of run, approve, signal, resume.
type runResult struct {
	RunID  string `json:"run_id"`
	Status string `json:"status"`
	Output any    `json:"output"`
	Error  any    `json:"error"`
}

func decode(t *testing.T, stdout string) runResult {
	t.Helper()
	var r runResult
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("stdout is not one JSON result: %v\n%s", err, stdout)
	}
	return r
}

// fakeClaude puts a stand-in `claude` first on PATH: it reads the prompt
// on stdin and answers with claude's JSON result envelope, whose result
// is the given text.
func fakeClaude(t *testing.T, result string) {
	t.Helper()
	dir := t.TempDir()
	envelope, err := json.Marshal(map[string]any{
		"type": "result", "subtype": "success", "is_error": false, "result": result,
		"session_id": "stand-in", "usage": map[string]any{"input_tokens": 12, "output_tokens": 34},
	})
	if err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\ncat >/dev/null\ncat <<'JSON'\n" + string(envelope) + "\nJSON\n"
	if err := os.WriteFile(filepath.Join(dir, "claude"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// TestExamplesRun runs every example end to end through the CLI, on a
// fresh SQLite store, acting as a person where an example waits.
func TestExamplesRun(t *testing.T) {
	runExamples(t, func(t *testing.T, dir string) string { return filepath.Join(dir, "smithers.db") })
}

// runExamples runs every example with the store newDB returns for each
// (dir is the example's temporary directory).
func runExamples(t *testing.T, newDB func(t *testing.T, dir string) string) {
	examples, err := filepath.Abs("examples")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(examples, "*.smw"))
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	type scenario struct {
		args []string                                       // extra run arguments
		then func(t *testing.T, db, runID string) runResult // how a person finishes a waiting run
		want string                                         // a substring of the final output JSON
	}
	approve := func(node string) func(t *testing.T, db, runID string) runResult {
		return func(t *testing.T, db, runID string) runResult {
			code, out, errOut := smithc(t, "approve", runID, node, "--note", "looks fine", "--db", db, "--format", "json")
			if code != 0 {
				t.Fatalf("approve exit %d\n%s\n%s", code, out, errOut)
			}
			return decode(t, out)
		}
	}
	special := map[string]scenario{
		"approval.smw": {then: approve("approve"), want: "applying"},
		"event.smw": {then: func(t *testing.T, db, runID string) runResult {
			code, out, errOut := smithc(t, "signal", runID, "deploy.finished", "--data", `{"ok": true, "url": "https://example.test/1"}`, "--db", db, "--format", "json")
			if code != 0 {
				t.Fatalf("signal exit %d\n%s\n%s", code, out, errOut)
			}
			return decode(t, out)
		}, want: "deployed at https://example.test/1"},
		"review.smw": {args: []string{"--input", "repo=acme/api", "--input", "sha=abc123"},
			then: approve("approve_high_risk"), want: "Risk: high"},
		"hello.smw":       {args: []string{"--input", "name=Ada"}, want: "Hello, Ada!"},
		"call.smw":        {args: []string{"--workflow", "greet_team"}, want: "Hello, Ada! Hello, team!"},
		"go_test_fix.smw": {then: approve("apply_fix"), want: `"TestAdd"`},
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".smw"), func(t *testing.T) {
			sc := special[name]
			dir := t.TempDir()
			t.Chdir(dir)
			switch name {
			case "worktree.smw":
				repo := filepath.Join(dir, "repo")
				gitInit(t, repo, nil)
				t.Chdir(repo)
			case "go_test_fix.smw":
				// A Go module whose test fails, and the stand-in agent.
				repo := filepath.Join(dir, "repo")
				gitInit(t, repo, map[string]string{
					"go.mod":       "module example.test/calc\n\ngo 1.26\n",
					"calc.go":      "package calc\n\n// Add adds two numbers.\nfunc Add(a, b int) int { return a - b }\n",
					"calc_test.go": "package calc\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif got := Add(2, 3); got != 5 {\n\t\tt.Fatalf(\"Add(2, 3) = %d, want 5\", got)\n\t}\n}\n",
				})
				t.Chdir(repo)
				t.Setenv("PATH", filepath.Join(examples, "agents")+string(os.PathListSeparator)+os.Getenv("PATH"))
			case "http.smw":
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					fmt.Fprint(w, "<html>hello</html>")
				}))
				t.Cleanup(srv.Close)
				sc.args = []string{"--input", "url=" + srv.URL}
				sc.want = `"status": 200`
			case "review.smw":
				fakeClaude(t, `{"summary": "One risky migration.", "risk": "high", "files": ["db/migrate.sql"]}`)
			}
			db := newDB(t, dir)
			args := append([]string{"run", file, "--db", db, "--format", "json"}, sc.args...)
			code, out, errOut := smithc(t, args...)
			r := decode(t, out)
			if sc.then != nil {
				if code != 3 {
					t.Fatalf("run: exit %d, want 3 (waiting)\n%s\n%s", code, out, errOut)
				}
				r = sc.then(t, db, r.RunID)
			} else if code != 0 {
				t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
			}
			if r.Status != "finished" {
				t.Fatalf("status %s, want finished: %v\n%s", r.Status, r.Error, errOut)
			}
			got, _ := json.MarshalIndent(r.Output, "", "  ")
			if sc.want != "" && !strings.Contains(string(got), sc.want) {
				t.Errorf("output does not contain %q:\n%s", sc.want, got)
			}
		})
	}
}

// gitInit makes a git repository at dir with files committed.
func gitInit(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-q", "--allow-empty", "-m", "init"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}

// TestReadmeCheckOutput keeps the README's `smithc check broken.smw`
// transcript true: the smw-error block it shows is checked, and the
// output must be what the README prints.
func TestReadmeCheckOutput(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	src := between(t, text, "```smw-error\n", "```\n")
	want := between(t, text, "$ smithc check broken.smw\n", "```\n")
	t.Chdir(t.TempDir())
	if err := os.WriteFile("broken.smw", []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := smithc(t, "check", "broken.smw")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	if got := out + errOut; got != want {
		t.Errorf("README.md shows\n%s\nbut smithc check prints\n%s", want, got)
	}
}

// between returns the text after the first start and before the next end.
func between(t *testing.T, s, start, end string) string {
	t.Helper()
	i := strings.Index(s, start)
	if i < 0 {
		t.Fatalf("no %q", start)
	}
	s = s[i+len(start):]
	j := strings.Index(s, end)
	if j < 0 {
		t.Fatalf("no %q after %q", end, start)
	}
	return s[:j]
}
