package agentreal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/smithc/smithc/cmd/smithc/cli"
	_ "github.com/smithc/smithc/runtime/store/sqlitestore" // the store's driver
)

// findCLI finds a real agent CLI: in $SMITHC_AGENT_CLIS/bin, the cache
// prefix .ci/run installs into, or on PATH. The test skips without it.
func findCLI(t *testing.T, name string) string {
	t.Helper()
	var dirs []string
	if d := os.Getenv("SMITHC_AGENT_CLIS"); d != "" {
		dirs = append(dirs, filepath.Join(d, "bin"))
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		if h, err := os.UserHomeDir(); err == nil {
			cache = filepath.Join(h, ".cache")
		}
	}
	dirs = append(dirs, filepath.Join(cache, "smithc", "agent-clis", "bin"))
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	t.Skipf("the %s CLI is not installed (.ci/run installs it from npm into %s; or set SMITHC_AGENT_CLIS)", name, filepath.Join(cache, "smithc", "agent-clis"))
	return ""
}

// setup is one real CLI pointed at a stub, in a fresh HOME.
type setup struct {
	kind string
	bin  string
	home string
	work string // the agent's working directory
	stub *stub
	env  map[string]string
}

// newSetup configures the CLI kind for the stub: a temporary HOME, the
// CLI's own configuration, telemetry and auto-update off, internal retries
// bounded.
func newSetup(t *testing.T, kind string, script func(n int, r request) turn) *setup {
	t.Helper()
	bin := findCLI(t, kind)
	// Under /var/tmp rather than /tmp: codex refuses to put its helper
	// binaries under a temporary directory such as /tmp.
	root, err := os.MkdirTemp("/var/tmp", "smithc-agentreal-")
	if err != nil {
		root = t.TempDir()
	} else {
		t.Cleanup(func() { os.RemoveAll(root) })
	}
	s := &setup{kind: kind, bin: bin, home: filepath.Join(root, "home"), work: filepath.Join(root, "work"), stub: newStub(t, script)}
	for _, d := range []string{s.home, s.work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.env = map[string]string{"HOME": s.home, "NO_COLOR": "1"}
	switch kind {
	case "claude":
		for k, v := range map[string]string{
			"ANTHROPIC_BASE_URL": s.stub.srv.URL, "ANTHROPIC_API_KEY": "sk-stub-key",
			"DISABLE_AUTOUPDATER": "1", "DISABLE_TELEMETRY": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
			"CLAUDE_CODE_MAX_RETRIES": "0", "IS_SANDBOX": "1",
		} {
			s.env[k] = v
		}
	case "codex":
		codexHome := filepath.Join(s.home, ".codex")
		write(t, filepath.Join(codexHome, "config.toml"), fmt.Sprintf(`model = "gpt-5"
model_provider = "stub"
[model_providers.stub]
name = "stub"
base_url = "%s/v1"
env_key = "STUB_API_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
[analytics]
enabled = false
`, s.stub.srv.URL))
		s.env["CODEX_HOME"] = codexHome
		s.env["STUB_API_KEY"] = "sk-stub-key"
	case "gemini":
		write(t, filepath.Join(s.home, ".gemini", "settings.json"), `{
  "security": {"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": false}},
  "general": {"disableAutoUpdate": true, "disableUpdateNag": true, "maxAttempts": 1},
  "privacy": {"usageStatisticsEnabled": false},
  "telemetry": {"enabled": false}
}`)
		s.env["GEMINI_API_KEY"] = "stub-key"
		s.env["GOOGLE_GEMINI_BASE_URL"] = s.stub.srv.URL
	}
	return s
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// agent is the agent declaration of the setup, with extra settings.
func (s *setup) agent(name, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "agent %s {\n  cli = %q\n  cwd = %q\n", name, s.bin, s.work)
	switch s.kind {
	case "codex":
		b.WriteString("  model = \"gpt-5\"\n")
	case "gemini":
		b.WriteString("  model = \"gemini-2.5-pro\"\n")
	}
	if extra != "" {
		b.WriteString("  " + extra + "\n")
	}
	b.WriteString("  env {\n")
	keys := make([]string, 0, len(s.env))
	for k := range s.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "    %s = %q\n", k, s.env[k])
	}
	b.WriteString("  }\n}\n")
	return b.String()
}

// result is what `smithc run --format json` printed, and the run's events.
type result struct {
	Status string         `json:"status"`
	Error  any            `json:"error"`
	Output map[string]any `json:"output"`
	RunID  string         `json:"run_id"`
	events []event
	stderr string
	// usage is the run's usage as `smithc inspect --format json` shows it.
	usage struct {
		Tokens  float64 `json:"tokens"`
		CostUSD float64 `json:"cost_usd"`
	}
}

type event struct {
	Kind string         `json:"kind"`
	Node string         `json:"node"`
	Data map[string]any `json:"data"`
}

func (r result) kinds(kind string) []map[string]any {
	var out []map[string]any
	for _, e := range r.events {
		if e.Kind == kind {
			out = append(out, e.Data)
		}
	}
	return out
}

// run runs src with `smithc run` in-process and reads its events with
// `smithc logs`.
func run(t *testing.T, src string) result {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "w.smw")
	write(t, file, src)
	db := filepath.Join(dir, "runs.db")
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), []string{"run", file, "--db", db, "--format", "json", "--wait", "never"}, strings.NewReader(""), &out, &errb)
	var res result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("smithc run exited %d, printed no JSON result: %v\nstdout: %s\nstderr: %s", code, err, out.String(), errb.String())
	}
	res.stderr = errb.String()
	out.Reset()
	errb.Reset()
	if c := cli.Main(context.Background(), []string{"logs", res.RunID, "--db", db, "--format", "json"}, strings.NewReader(""), &out, &errb); c != 0 {
		t.Fatalf("smithc logs exited %d: %s", c, errb.String())
	}
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			res.events = append(res.events, e)
		}
	}
	out.Reset()
	errb.Reset()
	if c := cli.Main(context.Background(), []string{"inspect", res.RunID, "--db", db, "--format", "json"}, strings.NewReader(""), &out, &errb); c != 0 {
		t.Fatalf("smithc inspect exited %d: %s", c, errb.String())
	}
	var in struct {
		Usage *json.RawMessage `json:"usage"`
	}
	if err := json.Unmarshal(out.Bytes(), &in); err != nil || in.Usage == nil {
		t.Fatalf("smithc inspect printed no usage: %v\n%s", err, out.String())
	}
	if err := json.Unmarshal(*in.Usage, &res.usage); err != nil {
		t.Fatalf("smithc inspect usage: %v", err)
	}
	return res
}

// failingWorkflow asks once inside try and reports the error's kind and
// message.
func failingWorkflow(agent, retry string) string {
	return agent + `
workflow w {
  try {
    step ask {
      agent  = a
      prompt = "Say hello."
      ` + retry + `
    }
  } catch {
    step caught { value = { kind: error.kind, message: error.message } }
  }
  output = { text: ask?.text ?? "", caught: caught ?? nil }
}
`
}
