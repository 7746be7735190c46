package serve_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/smithc/smithc/internal/pgtest"
)

// smithcBin is the smithc binary built once by TestMain.
var smithcBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "smithc-serve-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	smithcBin = filepath.Join(dir, "smithc")
	if out, err := exec.Command("go", "build", "-o", smithcBin, "github.com/smithc/smithc/cmd/smithc").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build smithc: %v\n%s", err, out)
		os.Exit(1)
	}
	code := pgtest.Main(m) // m.Run, then stop the PostgreSQL cluster if a test started one
	os.RemoveAll(dir)
	os.Exit(code)
}

// chromium finds a Chromium or Chrome binary, or skips.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SMITHC_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium found (apt-get install chromium, or set SMITHC_CHROMIUM): the browser tests of smithc serve did not run")
	return ""
}

// smithc runs the smithc binary in dir and returns its combined output.
func smithc(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	c := exec.Command(smithcBin, args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "NO_COLOR=1")
	out, err := c.CombinedOutput()
	return string(out), err
}

// startServe starts `smithc serve` on a free port in dir and returns the
// login URL it prints; the process is stopped at the end of the test.
func startServe(t *testing.T, dir string, extra ...string) (base, login string) {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", "runs.db"}, extra...)
	c := exec.Command(smithcBin, args...)
	c.Dir = dir
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			c.Process.Kill()
			t.Errorf("smithc serve did not stop within 10s of SIGINT")
		}
	})
	sc := bufio.NewScanner(stdout)
	re := regexp.MustCompile(`^open (http://\S+)/login\?token=\S+$`)
	deadline := time.After(20 * time.Second)
	lines := make(chan string)
	go func() {
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("smithc serve exited early:\n%s", stderr.String())
			}
			if m := re.FindStringSubmatch(l); m != nil {
				go func() {
					for range lines {
					}
				}()
				return m[1], strings.TrimPrefix(l, "open ")
			}
		case <-deadline:
			t.Fatalf("smithc serve printed no login URL in 20s:\n%s", stderr.String())
		}
	}
}

func browser(t *testing.T) context.Context {
	t.Helper()
	exe := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

// pageText is what the page shows, for a failure message.
func pageText(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var text, url string
	chromedp.Run(ctx, chromedp.Location(&url), chromedp.Text("body", &text, chromedp.ByQuery))
	return "page " + url + ":\n" + text
}

// artifact is where screenshots are kept: $SMITHC_ARTIFACTS, or the
// test's temporary directory.
func artifact(t *testing.T, name string) string {
	dir := os.Getenv("SMITHC_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	os.MkdirAll(dir, 0o755)
	return filepath.Join(dir, name)
}

const approvalFlow = `workflow release {
  input { version: string = "1.2.3" }

  step build { run = "echo built ${input.version}" }

  approval ship {
    title   = "Ship ${input.version}?"
    summary = build
    output {
      channel: "stable" | "beta"
      notify: bool = true
      reason?: string
    }
  }

  step announce {
    value = { version: input.version, channel: ship.channel, notify: ship.notify, reason: ship.reason ?? "" }
  }

  output = announce
}
`

// TestBrowserApproveRun is the newcomer's path: a run started from
// another shell waits for an approval; the page lists it, opens it,
// shows a form built from the approval's output type, and after the
// form is submitted the run finishes and the page shows it live.
func TestBrowserApproveRun(t *testing.T) {
	ctx := browser(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "release.smw"), []byte(approvalFlow), 0o644)
	_, login := startServe(t, dir)

	if err := chromedp.Run(ctx, chromedp.Navigate(login), chromedp.WaitVisible(`table.runs`, chromedp.ByQuery)); err != nil {
		t.Fatalf("open the runs list: %v", err)
	}
	// Started from another shell after the page is open: it must appear
	// live.
	out, err := smithc(t, dir, "run", "release.smw", "--db", "runs.db", "--run-id", "rel-1", "--wait", "never")
	if err == nil || !strings.Contains(out, "rel-1") {
		t.Fatalf("smithc run should wait for the approval (exit 3): %v\n%s", err, out)
	}
	// The row may first show the run as it was at the page's poll
	// (running, before it reached the approval); it must come to show
	// the approval it waits on, live.
	var status string
	if err := chromedp.Run(ctx,
		chromedp.WaitVisible(`tr[data-run="rel-1"] .badge.s-waiting-approval`, chromedp.ByQuery),
		chromedp.Text(`tr[data-run="rel-1"] .badge`, &status, chromedp.ByQuery)); err != nil {
		t.Fatalf("the run started from another shell did not appear as waiting for its approval: %v", err)
	}
	if status != "waiting-approval" {
		t.Errorf("runs list shows %q, want waiting-approval", status)
	}
	if err := chromedp.Run(ctx,
		chromedp.Click(`tr[data-run="rel-1"] a`, chromedp.ByQuery),
		chromedp.WaitVisible(`form.approval-form`, chromedp.ByQuery),
		chromedp.WaitVisible(`.graph svg g[data-node="ship"].state-waiting`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("open the waiting run: %v", err)
	}
	// The form has a select for the enum, a checkbox for the bool.
	var options string
	if err := chromedp.Run(ctx,
		chromedp.Text(`form.approval-form select[name="channel"]`, &options, chromedp.ByQuery),
		chromedp.WaitVisible(`form.approval-form input[name="notify"][type="checkbox"]`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("approval form: %v", err)
	}
	if !strings.Contains(options, "stable") || !strings.Contains(options, "beta") {
		t.Errorf("channel select offers %q, want stable and beta", options)
	}
	var shot []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&shot, 100)); err == nil {
		os.WriteFile(artifact(t, "serve-waiting-run.png"), shot, 0o644)
	}
	if err := chromedp.Run(ctx,
		chromedp.SetValue(`form.approval-form select[name="channel"]`, "beta", chromedp.ByQuery),
		chromedp.Click(`form.approval-form input[name="notify"]`, chromedp.ByQuery),
		chromedp.SendKeys(`form.approval-form input[name="reason"]`, "looks good", chromedp.ByQuery),
		chromedp.Click(`form.approval-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.run-head .badge.s-finished`, chromedp.ByQuery),
		chromedp.WaitVisible(`.graph svg g[data-node="announce"].state-finished`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("approve from the page: %v\n%s", err, pageText(ctx))
	}
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&shot, 100)); err == nil {
		os.WriteFile(artifact(t, "serve-finished-run.png"), shot, 0o644)
	}
	out, err = smithc(t, dir, "inspect", "rel-1", "--db", "runs.db", "--format", "json")
	if err != nil {
		t.Fatalf("inspect: %v\n%s", err, out)
	}
	for _, want := range []string{`"finished"`, `"beta"`, `"looks good"`, `"notify": false`} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect of the approved run lacks %s:\n%s", want, out)
		}
	}
}

// TestBrowserCancelAndRetry cancels a running run from its page, then
// retries a failed node from the node panel.
func TestBrowserCancelAndRetry(t *testing.T) {
	ctx := browser(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "slow.smw"), []byte(`workflow slow {
  step nap { run = "sleep 60" }
}
`), 0o644)
	// flaky fails until the file "fixed" exists.
	os.WriteFile(filepath.Join(dir, "flaky.smw"), []byte(`workflow flaky {
  step first { value = 1 }
  step check { run = "test -e fixed" }
  step after { value = first + 1 }
}
`), 0o644)
	_, login := startServe(t, dir)

	slow := exec.Command(smithcBin, "run", "slow.smw", "--db", "runs.db", "--run-id", "slow-1", "--wait", "always")
	slow.Dir = dir
	if err := slow.Start(); err != nil {
		t.Fatal(err)
	}
	slowDone := make(chan error, 1)
	go func() { slowDone <- slow.Wait() }()
	t.Cleanup(func() { slow.Process.Kill() })

	if err := chromedp.Run(ctx, chromedp.Navigate(login),
		chromedp.WaitVisible(`tr[data-run="slow-1"]`, chromedp.ByQuery),
		chromedp.Click(`tr[data-run="slow-1"] a`, chromedp.ByQuery),
		chromedp.WaitVisible(`.graph svg g[data-node="nap"].state-running`, chromedp.ByQuery),
		chromedp.Click(`//button[text()="Cancel"]`, chromedp.BySearch),
		chromedp.WaitVisible(`.run-head .badge.s-cancelled`, chromedp.ByQuery),
	); err != nil {
		t.Fatalf("cancel from the page: %v\n%s", err, pageText(ctx))
	}
	select {
	case <-slowDone:
	case <-time.After(15 * time.Second):
		t.Fatalf("the smithc run process did not end after the page cancelled its run")
	}

	if out, err := smithc(t, dir, "run", "flaky.smw", "--db", "runs.db", "--run-id", "flaky-1"); err == nil {
		t.Fatalf("flaky should fail first:\n%s", out)
	}
	os.WriteFile(filepath.Join(dir, "fixed"), nil, 0o644)
	steps := []struct {
		what string
		act  chromedp.Action
	}{
		{"open the failed run", chromedp.Navigate(strings.Replace(login, "/login?", "/login?next=/%23/runs/flaky-1&", 1))},
		{"see it failed", chromedp.WaitVisible(`.run-head .badge.s-failed`, chromedp.ByQuery)},
		{"select the failed node", chromedp.Click(`.graph svg g[data-node="check"]`, chromedp.ByQuery)},
		{"see its retry button", chromedp.WaitVisible(`.node-panel button.retry`, chromedp.ByQuery)},
		{"retry", chromedp.Click(`.node-panel button.retry`, chromedp.ByQuery)},
		{"see the run finish", chromedp.WaitVisible(`.run-head .badge.s-finished`, chromedp.ByQuery)},
		{"select the last node", chromedp.Click(`.graph svg g[data-node="after"]`, chromedp.ByQuery)},
		{"see its fork button", chromedp.WaitVisible(`.node-panel button.fork`, chromedp.ByQuery)},
		{"fork", chromedp.Click(`.node-panel button.fork`, chromedp.ByQuery)},
		{"see the new run open, saying where it was forked from", chromedp.WaitVisible(`//*[contains(@class,"run-head")]//span[contains(@class,"forked")][contains(., "forked from flaky-1 at after")]`, chromedp.BySearch)},
		{"see the new run finish", chromedp.WaitVisible(`.run-head .badge.s-finished`, chromedp.ByQuery)},
	}
	for _, st := range steps {
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := chromedp.Run(sctx, st.act)
		cancel()
		if err != nil {
			t.Fatalf("retry and fork from the page: %s: %v\n%s", st.what, err, pageText(ctx))
		}
	}
	// The fork is a new run that kept first and check and ran after.
	out, err := smithc(t, dir, "ps", "--db", "runs.db", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var runs []struct {
		ID     string `json:"run_id"`
		Status string `json:"status"`
	}
	json.Unmarshal([]byte(out), &runs)
	if len(runs) != 3 || runs[0].ID == "flaky-1" || runs[0].Status != "finished" {
		t.Fatalf("runs after the fork from the page: %s", out)
	}
	logs, err := smithc(t, dir, "logs", runs[0].ID, "--db", "runs.db")
	if err != nil || !strings.Contains(logs, `from_run="flaky-1" from_node="after"`) || strings.Contains(logs, "NodeStarted        check") {
		t.Errorf("the fork's log: %v\n%s", err, logs)
	}
}
