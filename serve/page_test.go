package serve_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// loopFlow runs n iterations of two steps: 2n+1 node instances.
const loopFlow = `workflow loopy {
  input {
    n: int = 300
  }
  loop L {
    until = iteration + 1 >= input.n
    max_iterations = 100000
    step a {
      value = iteration
    }
    step b {
      value = a * 2
    }
  }
  output = b
}
`

// TestAPIRunDetailIsPaged: GET /runs/{id} returns the first and the last
// 100 node instances (?nodes=N others, ?nodes=all every one), says how
// many there are and how many it left out, counts every node's instances
// by state, and ?node= keeps one node's instances.
func TestAPIRunDetailIsPaged(t *testing.T) {
	c, dir := serveDir(t, map[string]string{"loop.smw": loopFlow})
	if out, err := smithc(t, dir, "run", "loop.smw", "--db", "runs.db", "--run-id", "big-1"); err != nil {
		t.Fatalf("smithc run: %v\n%s", err, out)
	}
	const total = 2*300 + 1
	get := func(query string) map[string]any {
		t.Helper()
		code, m, raw := c.do("GET", "/api/v1/runs/big-1"+query, "", nil)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", query, code, raw)
		}
		return m
	}
	count := func(m map[string]any) (shown, all, omitted int) {
		return len(m["nodes"].([]any)), int(m["node_count"].(float64)), int(m["nodes_omitted"].(float64))
	}
	for _, c := range []struct {
		query               string
		shown, all, omitted int
	}{
		{"", 200, total, total - 200},
		{"?nodes=5", 10, total, total - 10},
		{"?nodes=all", total, total, 0},
		{"?node=b&nodes=3", 6, 300, 294},
		{"?node=L", 1, 1, 0},
	} {
		m := get(c.query)
		if shown, all, omitted := count(m); shown != c.shown || all != c.all || omitted != c.omitted {
			t.Errorf("GET %q: %d nodes shown, node_count %d, nodes_omitted %d; want %d, %d, %d", c.query, shown, all, omitted, c.shown, c.all, c.omitted)
		}
		states := m["node_states"].(map[string]any)
		for node, want := range map[string]float64{"L": 1, "a": 300, "b": 300} {
			if got := states[node].(map[string]any)["finished"]; got != want {
				t.Errorf("GET %q: node_states[%s] = %v, want %v finished", c.query, node, states[node], want)
			}
		}
	}
	m := get("?node=b&nodes=3")
	var scopes []string
	for _, n := range m["nodes"].([]any) {
		n := n.(map[string]any)
		if n["id"] != "b" {
			t.Errorf("?node=b returned an instance of %v", n["id"])
		}
		scopes = append(scopes, n["scope"].(string))
	}
	if want := "L#0 L#1 L#2 L#297 L#298 L#299"; strings.Join(scopes, " ") != want {
		t.Errorf("?node=b&nodes=3: instances %v, want %s", scopes, want)
	}
	if code, _, raw := c.do("GET", "/api/v1/runs/big-1?nodes=0", "", nil); code != http.StatusBadRequest || !strings.Contains(raw, "nodes") {
		t.Errorf("?nodes=0: %d %s, want 400 naming nodes", code, raw)
	}
}

// TestBrowserBigRunPanel: the page of a run of 600 step instances colours
// its graph from the counted states and shows a selected node's first and
// last instances with what it left out.
func TestBrowserBigRunPanel(t *testing.T) {
	ctx := browser(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "loop.smw"), []byte(loopFlow), 0o644); err != nil {
		t.Fatal(err)
	}
	_, login := startServe(t, dir)
	if out, err := smithc(t, dir, "run", "loop.smw", "--db", "runs.db", "--run-id", "big-1"); err != nil {
		t.Fatalf("smithc run: %v\n%s", err, out)
	}
	login = strings.Replace(login, "/login?", "/login?next=/%23/runs/big-1&", 1)
	var note string
	var sections int
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(sctx,
		chromedp.Navigate(login),
		chromedp.WaitVisible(`.graph svg g[data-node="b"].state-finished`, chromedp.ByQuery),
		chromedp.Click(`.graph svg g[data-node="b"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.node-panel p.omitted`, chromedp.ByQuery),
		chromedp.Text(`.node-panel p.omitted`, &note, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll(".node-panel section.instance").length`, &sections),
	); err != nil {
		t.Fatalf("the big run's page: %v\n%s", err, pageText(ctx))
	}
	if want := "The first and last 100 of 300 instances; 100 between them are not shown."; note != want {
		t.Errorf("panel note %q, want %q", note, want)
	}
	if sections != 200 {
		t.Errorf("the panel shows %d instances, want 200", sections)
	}
}
