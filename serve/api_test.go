package serve_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smithc/smithc/internal/pgtest"
)

// The API tests run the real `smithc serve` on a real SQLite store, with
// runs started by the real `smithc run` in other processes, and talk to
// it as any HTTP client would.

const token = "test-token-1234567890"

type client struct {
	t    *testing.T
	base string
}

func (c *client) do(method, path, body string, hdr map[string]string) (int, map[string]any, string) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(raw, &m)
	return resp.StatusCode, m, string(raw)
}

// waitStatus polls a run until it has status want.
func (c *client) waitStatus(id, want string) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		code, m, raw := c.do("GET", "/api/v1/runs/"+id, "", nil)
		if code == 200 {
			run := m["run"].(map[string]any)
			if run["status"] == want {
				return m
			}
			last = raw
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Fatalf("run %s never reached %s; last:\n%s", id, want, last)
	return nil
}

func serveDir(t *testing.T, files map[string]string, extra ...string) (*client, string) {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base, _ := startServe(t, dir, append([]string{"--token", token}, extra...)...)
	return &client{t: t, base: base}, dir
}

const eventFlow = `workflow deploy {
  step request { run = "echo requested" }
  event done {
    name   = "deploy.finished"
    output { ok: bool, url?: string }
  }
  step announce { value = done.ok ? "at " + (done.url ?? "?") : "failed" }
  output = announce
}
`

func TestAPIApproval(t *testing.T) {
	c, dir := serveDir(t, map[string]string{"release.smw": approvalFlow})
	if out, err := smithc(t, dir, "run", "release.smw", "--db", "runs.db", "--run-id", "r1", "--wait", "never"); err == nil {
		t.Fatalf("run should wait:\n%s", out)
	}

	// The list shows it waiting, with the command that moves it on.
	code, _, raw := c.do("GET", "/api/v1/runs?status=waiting-approval", "", nil)
	if code != 200 || !strings.Contains(raw, `"r1"`) || !strings.Contains(raw, `smithc approve r1 ship`) {
		t.Fatalf("list: %d\n%s", code, raw)
	}
	// The detail has the approval's fields for a form.
	_, m, _ := c.do("GET", "/api/v1/runs/r1", "", nil)
	w := m["waiting"].([]any)[0].(map[string]any)
	fields, _ := json.Marshal(w["fields"])
	if want := `[{"enum":["stable","beta"],"name":"channel","type":"enum"},{"default":true,"name":"notify","type":"bool"},{"name":"reason","optional":true,"type":"string"}]`; string(fields) != want {
		t.Errorf("approval fields:\n%s\nwant\n%s", fields, want)
	}

	// No token: 401, and nothing recorded.
	code, _, _ = c.do("POST", "/api/v1/runs/r1/approvals/ship/approve", `{"fields":{"channel":"beta"}}`, map[string]string{"Authorization": ""})
	if code != 401 {
		t.Errorf("approve without the token: %d, want 401", code)
	}
	// Another site's page in a logged-in browser: 403.
	code, _, raw = c.do("POST", "/api/v1/runs/r1/approvals/ship/approve", `{"fields":{"channel":"beta"}}`,
		map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
	if code != 403 {
		t.Errorf("cross-origin approve: %d, want 403\n%s", code, raw)
	}
	// A value that does not fit the approval's output: 400 naming the field.
	code, m, raw = c.do("POST", "/api/v1/runs/r1/approvals/ship/approve", `{"fields":{"channel":"gamma"}}`, nil)
	if code != 400 || !strings.Contains(raw, "channel") || m["field"] != "fields.channel" {
		t.Errorf("bad field: %d, want 400 naming channel\n%s", code, raw)
	}
	// A misspelt request field: 400.
	code, _, raw = c.do("POST", "/api/v1/runs/r1/approvals/ship/approve", `{"feilds":{}}`, nil)
	if code != 400 || !strings.Contains(raw, "feilds") {
		t.Errorf("unknown request field: %d\n%s", code, raw)
	}
	// Text after the body's object: 400, nothing decided.
	code, _, raw = c.do("POST", "/api/v1/runs/r1/approvals/ship/approve", `{"fields":{"channel":"beta"}} {"fields":{}}`, nil)
	if code != 400 || !strings.Contains(raw, "nothing after it") {
		t.Errorf("a body of two objects: %d\n%s", code, raw)
	}
	// Unknown run and node: 404.
	if code, _, raw = c.do("GET", "/api/v1/runs/nope", "", nil); code != 404 || !strings.Contains(raw, `no run \"nope\" (GET /api/v1/runs lists the runs)`) || strings.Count(raw, "nope") != 1 {
		t.Errorf("unknown run's detail: %d\n%s", code, raw)
	}
	if code, _, raw = c.do("POST", "/api/v1/runs/nope/approvals/ship/approve", `{}`, nil); code != 404 {
		t.Errorf("unknown run: %d\n%s", code, raw)
	}
	if code, _, raw = c.do("POST", "/api/v1/runs/r1/approvals/nope/approve", `{}`, nil); code != 404 {
		t.Errorf("unknown node: %d\n%s", code, raw)
	}
	// Still waiting after all that.
	if _, m, _ = c.do("GET", "/api/v1/runs/r1", "", nil); m["run"].(map[string]any)["status"] != "waiting-approval" {
		t.Fatalf("a refused decision changed the run: %v", m["run"])
	}

	code, _, raw = c.do("POST", "/api/v1/runs/r1/approvals/ship/approve", `{"note":"ok","fields":{"channel":"beta","reason":"tested"}}`, nil)
	if code != 200 {
		t.Fatalf("approve: %d\n%s", code, raw)
	}
	m = c.waitStatus("r1", "finished")
	out, _ := json.Marshal(m["output"])
	if string(out) != `{"channel":"beta","notify":true,"reason":"tested","version":"1.2.3"}` {
		t.Errorf("output %s", out)
	}
	// Deciding again: 409.
	if code, _, raw = c.do("POST", "/api/v1/runs/r1/approvals/ship/deny", `{}`, nil); code != 409 {
		t.Errorf("second decision: %d, want 409\n%s", code, raw)
	}
}

func TestAPISignalAndStream(t *testing.T) {
	c, dir := serveDir(t, map[string]string{"deploy.smw": eventFlow})
	if out, err := smithc(t, dir, "run", "deploy.smw", "--db", "runs.db", "--run-id", "d1", "--wait", "never"); err == nil {
		t.Fatalf("run should wait:\n%s", out)
	}
	// Open the stream first: it replays the log, then follows it.
	req, _ := http.NewRequest("GET", c.base+"/api/v1/runs/d1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %v %v", err, resp)
	}
	defer resp.Body.Close()
	type sseEvent struct {
		id   int64
		kind string
	}
	events := make(chan sseEvent, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				ev.id, _ = strconv.ParseInt(strings.TrimPrefix(line, "id: "), 10, 64)
			case strings.HasPrefix(line, "data: "):
				var d struct{ Kind string }
				json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &d)
				ev.kind = d.Kind
			case line == "" && ev.kind != "":
				events <- ev
				ev = sseEvent{}
			}
		}
		close(events)
	}()

	// Data that does not fit the event's output: 400 naming the field,
	// nothing recorded.
	code, _, raw := c.do("POST", "/api/v1/runs/d1/signals/deploy.finished", `{"data":{"ok":"yes"}}`, nil)
	if code != 400 || !strings.Contains(raw, "ok") {
		t.Errorf("bad signal data: %d\n%s", code, raw)
	}
	code, _, raw = c.do("POST", "/api/v1/runs/d1/signals/deploy.finished", `{"data":{"ok":true,"url":"https://x"}}`, nil)
	if code != 200 {
		t.Fatalf("signal: %d\n%s", code, raw)
	}
	m := c.waitStatus("d1", "finished")
	if m["output"] != "at https://x" {
		t.Errorf("output %v", m["output"])
	}
	// No node of a finished run takes a signal: 409, nothing recorded.
	code, _, raw = c.do("POST", "/api/v1/runs/d1/signals/deploy.finished", `{"data":{"ok":true,"url":"https://y"}}`, nil)
	if code != 409 || !strings.Contains(raw, "the run has finished") {
		t.Errorf("signal to the finished run: %d\n%s", code, raw)
	}
	var kinds []string
	var last int64
	timeout := time.After(10 * time.Second)
loop:
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				break loop
			}
			if ev.id <= last {
				t.Errorf("event ids out of order: %d after %d", ev.id, last)
			}
			last = ev.id
			kinds = append(kinds, ev.kind)
			if ev.kind == "RunFinished" {
				break loop
			}
		case <-timeout:
			t.Fatalf("the stream did not deliver RunFinished; got %v", kinds)
		}
	}
	got := strings.Join(kinds, " ")
	for _, want := range []string{"RunStarted", "NodeFinished", "RunWaiting", "SignalSent", "RunResumed", "RunFinished"} {
		if !strings.Contains(got, want) {
			t.Errorf("stream lacks %s: %s", want, got)
		}
	}
	if strings.Index(got, "RunWaiting") > strings.Index(got, "SignalSent") {
		t.Errorf("stream out of order: %s", got)
	}
	// A reconnect with Last-Event-ID gets only what came after.
	req, _ = http.NewRequest("GET", c.base+"/api/v1/runs/d1/events?after="+strconv.FormatInt(last-1, 10), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Events []struct{ Seq int64 }
	}
	json.NewDecoder(r2.Body).Decode(&page)
	r2.Body.Close()
	if len(page.Events) != 1 || page.Events[0].Seq != last {
		t.Errorf("events after %d: %+v", last-1, page.Events)
	}
}

func TestAPIReadOnlyAndMetrics(t *testing.T) {
	c, dir := serveDir(t, map[string]string{"release.smw": approvalFlow}, "--read-only")
	smithc(t, dir, "run", "release.smw", "--db", "runs.db", "--run-id", "r1", "--wait", "never")
	code, _, raw := c.do("POST", "/api/v1/runs/r1/approvals/ship/approve", `{"fields":{"channel":"beta"}}`, nil)
	if code != 403 || !strings.Contains(raw, "read-only") {
		t.Errorf("approve on a read-only server: %d\n%s", code, raw)
	}
	req, _ := http.NewRequest("GET", c.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`smithc_runs{status="waiting-approval"} 1`, `smithc_serve_requests_total{code="403",method="POST"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Unknown API paths are JSON 404s; the page without a token sends
	// the browser to the login page.
	if code, _, raw = c.do("GET", "/api/v1/nothing", "", nil); code != 404 || !strings.Contains(raw, "docs/api.md") {
		t.Errorf("unknown path: %d %s", code, raw)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.Get(c.base + "/")
	if err != nil || resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Errorf("page without token: %v %v", err, resp)
	}
	resp, err = noRedirect.Get(c.base + "/login?token=" + token)
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %v %v", err, resp)
	}
	ck := resp.Cookies()
	if len(ck) != 1 || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode {
		t.Errorf("login cookie %+v", ck)
	}
}

func TestServeRefusesOpenAddressWithoutToken(t *testing.T) {
	dir := t.TempDir()
	out, err := smithc(t, dir, "serve", "--addr", "0.0.0.0:0", "--db", "runs.db")
	if err == nil || !strings.Contains(out, "--token") {
		t.Errorf("serve on 0.0.0.0 without a token should be refused:\n%s", out)
	}
}

// TestAPIPauseResume pauses a run executing in another process: the step
// running finishes, nothing new starts, the run ends paused; resuming it
// from the server finishes it.
func TestAPIPauseResume(t *testing.T) {
	c, dir := serveDir(t, map[string]string{"two.smw": `workflow two {
  step slow { run = "sleep 2; echo slept" }
  step after { value = trim(slow.stdout) + " then after" }
  output = after
}
`})
	run := exec.Command(smithcBin, "run", "two.smw", "--db", "runs.db", "--run-id", "p1", "--wait", "always")
	run.Dir = dir
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- run.Wait() }()
	t.Cleanup(func() { run.Process.Kill() })
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, m, _ := c.do("GET", "/api/v1/runs/p1", "", nil)
		if nodes, ok := m["nodes"].([]any); ok && len(nodes) > 0 && nodes[0].(map[string]any)["state"] == "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow step never showed running")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _, raw := c.do("POST", "/api/v1/runs/p1/pause", `{}`, nil); code != 200 {
		t.Fatalf("pause: %d\n%s", code, raw)
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("smithc run did not end after the pause")
	}
	m := c.waitStatus("p1", "paused")
	for _, n := range m["nodes"].([]any) {
		if n := n.(map[string]any); n["id"] == "after" && n["state"] != "pending" {
			t.Errorf("after started in a paused run: %v", n)
		}
	}
	if code, _, raw := c.do("POST", "/api/v1/runs/p1/resume", `{}`, nil); code != 202 {
		t.Fatalf("resume: %d\n%s", code, raw)
	}
	m = c.waitStatus("p1", "finished")
	if m["output"] != "slept then after" {
		t.Errorf("output %v", m["output"])
	}
}

// TestAPIOnPostgres is the approval path on a PostgreSQL store: the server
// and the run share the database, not a file.
func TestAPIOnPostgres(t *testing.T) {
	url := pgtest.NewDatabase(t)
	c, dir := serveDir(t, map[string]string{"release.smw": approvalFlow}, "--db", url)
	if out, err := smithc(t, dir, "run", "release.smw", "--db", url, "--run-id", "pg1", "--wait", "never"); err == nil {
		t.Fatalf("run should wait:\n%s", out)
	}
	code, _, raw := c.do("GET", "/api/v1/runs?status=waiting-approval", "", nil)
	if code != 200 || !strings.Contains(raw, `"pg1"`) {
		t.Fatalf("list: %d\n%s", code, raw)
	}
	if code, _, raw = c.do("POST", "/api/v1/runs/pg1/approvals/ship/approve", `{"fields":{"channel":"stable"}}`, nil); code != 200 {
		t.Fatalf("approve: %d\n%s", code, raw)
	}
	m := c.waitStatus("pg1", "finished")
	if out, _ := json.Marshal(m["output"]); !strings.Contains(string(out), `"channel":"stable"`) {
		t.Errorf("output %s", out)
	}
}

// TestServeStopCancelsItsRuns: a run the server continues (after a
// decision made over HTTP) ends cancelled, not orphaned, when the server
// is stopped, and resumes to the end from the CLI.
func TestServeStopCancelsItsRuns(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "w.smw"), []byte(`workflow w {
  approval ok { title = "go?" }
  step nap { run = "sleep 30" }
}
`), 0o644)
	if out, err := smithc(t, dir, "run", "w.smw", "--db", "runs.db", "--run-id", "s1", "--wait", "never"); err == nil {
		t.Fatalf("run should wait:\n%s", out)
	}
	srv := exec.Command(smithcBin, "serve", "--addr", "127.0.0.1:0", "--db", "runs.db", "--token", token)
	srv.Dir = dir
	out, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill() })
	sc := bufio.NewScanner(out)
	var base string
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "smithc serve: http://") {
			base = strings.Fields(strings.TrimPrefix(l, "smithc serve: "))[0]
			break
		}
	}
	go io.Copy(io.Discard, out)
	c := &client{t: t, base: base}
	if code, _, raw := c.do("POST", "/api/v1/runs/s1/approvals/ok/approve", `{}`, nil); code != 200 {
		t.Fatalf("approve: %d\n%s", code, raw)
	}
	c.waitNode("s1", "nap", "running")
	srv.Process.Signal(os.Interrupt)
	if err := srv.Wait(); err != nil {
		t.Fatalf("serve did not exit cleanly: %v", err)
	}
	ps, _ := smithc(t, dir, "ps", "--db", "runs.db")
	if !strings.Contains(ps, "cancelled") {
		t.Errorf("after the server stopped, the run it executed is not cancelled:\n%s", ps)
	}
}

// waitNode polls a run until node has state want.
func (c *client) waitNode(id, node, want string) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		_, m, _ := c.do("GET", "/api/v1/runs/"+id, "", nil)
		if nodes, ok := m["nodes"].([]any); ok {
			for _, n := range nodes {
				if n := n.(map[string]any); n["id"] == node && n["state"] == want {
					return
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("node %s of run %s never reached %s", node, id, want)
}

const forkFlow = `workflow fk {
  step a { run = "echo a" }
  step b { value = trim(a.stdout) + "b" }
  output = b
}
`

// TestAPIFork: POST /runs/{id}/fork starts a new run from a node, like
// smithc fork, and executes it in the server; a missing from is 400, an
// unknown node 404, a taken run id 409.
func TestAPIFork(t *testing.T) {
	c, dir := serveDir(t, map[string]string{"fk.smw": forkFlow})
	if out, err := smithc(t, dir, "run", "fk.smw", "--db", "runs.db", "--run-id", "o1"); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	code, m, raw := c.do("POST", "/api/v1/runs/o1/fork", `{"from":"b","run_id":"f1"}`, nil)
	if code != 202 || m["run_id"] != "f1" || m["forked_from"] != "o1" {
		t.Fatalf("fork: %d\n%s", code, raw)
	}
	got := c.waitStatus("f1", "finished")
	if got["output"] != "ab" {
		t.Errorf("the fork's output: %v", got["output"])
	}
	if f, _ := got["forked_from"].(map[string]any); f["run_id"] != "o1" || f["node"] != "b" {
		t.Errorf("the fork's forked_from: %v", got["forked_from"])
	}
	code, _, raw = c.do("GET", "/api/v1/runs/f1/events", "", nil)
	if code != 200 || !strings.Contains(raw, `"RunForked"`) || strings.Contains(raw, `"node_id":"a"`) {
		t.Errorf("the fork's events: %d\n%s", code, raw)
	}
	for _, tc := range []struct {
		body string
		code int
		want string
	}{
		{`{}`, 400, "from"},
		{`{"from":"nope"}`, 404, `no node \"nope\"`},
		{`{"from":"b","run_id":"f1"}`, 409, "f1"},
	} {
		if code, _, raw := c.do("POST", "/api/v1/runs/o1/fork", tc.body, nil); code != tc.code || !strings.Contains(raw, tc.want) {
			t.Errorf("fork %s: %d, want %d with %q\n%s", tc.body, code, tc.code, tc.want, raw)
		}
	}
}
