package cli_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smithc/smithc/internal/pgtest"
)

// newPgEnv is a sandbox whose store is a fresh PostgreSQL database.
func newPgEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.db = pgtest.NewDatabase(t)
	return e
}

// TestPostgresCommands: every store command works the same on a
// postgres:// URL: run, ps, inspect, logs, approve, deny, signal, cancel,
// retry, resume; SMITHC_DB takes a URL too.
func TestPostgresCommands(t *testing.T) {
	e := newPgEnv(t)
	gate := e.write("gate.smw", gateFail)
	mustCode(t, e.cli("run", gate, "--run-id", "g1"), 3)
	mustCode(t, e.cli("run", gate, "--run-id", "g2"), 3)
	mustCode(t, e.cli("run", gate, "--run-id", "g3"), 3)
	ids := strings.Join(e.psRuns(), " ")
	mustContain(t, "ps", ids, "g1", "g2", "g3")

	r := e.cli("inspect", "g1", "--format", "json")
	mustCode(t, r, 0)
	var in inspection
	if err := json.Unmarshal([]byte(r.stdout), &in); err != nil {
		t.Fatalf("inspect: %v\n%s", err, r.stdout)
	}
	if in.Status != "waiting-approval" {
		t.Errorf("inspect g1: status %s, want waiting-approval", in.Status)
	}
	r = e.cli("logs", "g1")
	mustCode(t, r, 0)
	mustContain(t, "logs", r.stdout, "RunStarted", "ApprovalRequested")

	r = e.cli("approve", "g1", "ok_to_go", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "finished" || string(out.Output) != `"done"` {
		t.Errorf("approve g1: %+v", out)
	}
	mustCode(t, e.cli("deny", "g2", "ok_to_go"), 1)
	r = e.cli("cancel", "g3")
	mustCode(t, r, 0)
	r = e.cli("inspect", "g3", "--format", "json")
	mustCode(t, r, 0)
	mustContain(t, "inspect g3", r.stdout, `"cancelled"`)

	// retry re-opens the denied approval; approving finishes the run.
	mustCode(t, e.cli("retry", "g2", "ok_to_go"), 3)
	mustCode(t, e.cli("approve", "g2", "ok_to_go"), 0)
	r = e.cli("resume", "g2", "--format", "json")
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "finished" {
		t.Errorf("resume of finished g2: %+v", out)
	}

	// Signals, with the store named by SMITHC_DB.
	t.Setenv("SMITHC_DB", e.db)
	ev := filepath.Join(examplesDir(t), "event.smw")
	r = runMain([]string{"run", ev, "--run-id", "ev1", "--format", "json"})
	mustCode(t, r, 3)
	r = runMain([]string{"signal", "ev1", "deploy.finished", "--data", `{"ok": true, "url": "https://x.test"}`, "--format", "json"})
	mustCode(t, r, 0)
	if out := decodeRun(t, r); out.Status != "finished" || !strings.Contains(string(out.Output), "deployed at https://x.test") {
		t.Errorf("signal ev1: %+v", out)
	}
}

// TestPostgresUnreachable: a URL nobody answers is exit 1 naming the URL
// (password redacted) and pointing at the docs.
func TestPostgresUnreachable(t *testing.T) {
	t.Parallel()
	r := runMain([]string{"ps", "--db", "postgres://u:secret@127.0.0.1:1/x?connect_timeout=2"})
	mustCode(t, r, 1)
	mustContain(t, "stderr", r.stderr, "postgres://u:xxxxx@127.0.0.1:1/x", "docs/scaling.md")
	if strings.Contains(r.stderr, "secret") {
		t.Errorf("the password is printed:\n%s", r.stderr)
	}
}
