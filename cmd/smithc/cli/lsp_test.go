package cli_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLSPProcess starts `smithc lsp` as a process and talks to it over
// its stdin and stdout as an editor does: initialize, open an example
// and a broken file, read the diagnostics, hover, shut down, exit 0.
func TestLSPProcess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cmd := e.cmd("lsp", "--stdio")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	r := bufio.NewReader(stdout)
	send := func(v map[string]any) {
		v["jsonrpc"] = "2.0"
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(stdin, "Content-Length: %d\r\n\r\n%s", len(b), b); err != nil {
			t.Fatalf("write to smithc lsp: %v (stderr: %s)", err, stderr.String())
		}
	}
	type msg struct {
		ID     *int            `json:"id"`
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
		Result json.RawMessage `json:"result"`
	}
	recv := func() msg {
		h, err := textproto.NewReader(r).ReadMIMEHeader()
		if err != nil {
			t.Fatalf("read from smithc lsp: %v (stderr: %s)", err, stderr.String())
		}
		n, _ := strconv.Atoi(h.Get("Content-Length"))
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatal(err)
		}
		var m msg
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("not JSON: %s", b)
		}
		return m
	}
	// waitFor reads until the response with id, or the diagnostics of uri.
	waitFor := func(id int, uri string) msg {
		for {
			m := recv()
			if id > 0 && m.ID != nil && *m.ID == id {
				return m
			}
			if uri != "" && m.Method == "textDocument/publishDiagnostics" && strings.Contains(string(m.Params), `"uri":"`+uri+`"`) {
				return m
			}
		}
	}
	send(map[string]any{"id": 1, "method": "initialize", "params": map[string]any{"capabilities": map[string]any{}}})
	if m := waitFor(1, ""); !strings.Contains(string(m.Result), "hoverProvider") {
		t.Fatalf("initialize: %s", m.Result)
	}
	send(map[string]any{"method": "initialized", "params": map[string]any{}})

	example, err := filepath.Abs(filepath.Join(examplesDir(t), "review.smw"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	uri := (&url.URL{Scheme: "file", Path: filepath.ToSlash(example)}).String()
	send(map[string]any{"method": "textDocument/didOpen", "params": map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "smw", "version": 1, "text": string(src)}}})
	var pd struct {
		Diagnostics []struct {
			Message string `json:"message"`
			Range   struct {
				Start struct{ Line, Character int } `json:"start"`
			} `json:"range"`
		} `json:"diagnostics"`
	}
	if err := json.Unmarshal(waitFor(0, uri).Params, &pd); err != nil || len(pd.Diagnostics) != 0 {
		t.Fatalf("review.smw diagnostics: %+v %v", pd, err)
	}

	broken := e.write("broken.smw", threeErrors)
	buri := (&url.URL{Scheme: "file", Path: filepath.ToSlash(broken)}).String()
	send(map[string]any{"method": "textDocument/didOpen", "params": map[string]any{"textDocument": map[string]any{"uri": buri, "languageId": "smw", "version": 1, "text": threeErrors}}})
	if err := json.Unmarshal(waitFor(0, buri).Params, &pd); err != nil {
		t.Fatal(err)
	}
	if len(pd.Diagnostics) != 3 {
		t.Fatalf("broken.smw: want the 3 errors check reports, got %+v", pd.Diagnostics)
	}
	// check reports the field typo at 13:21 (one-based)
	found := false
	for _, d := range pd.Diagnostics {
		found = found || d.Range.Start.Line == 12 && d.Range.Start.Character == 20 && strings.Contains(d.Message, "sumary")
	}
	if !found {
		t.Errorf("no diagnostic for analyze.sumary at 12:20: %+v", pd.Diagnostics)
	}

	line := strings.Count(string(src[:strings.Index(string(src), "step analyze")]), "\n")
	send(map[string]any{"id": 2, "method": "textDocument/hover", "params": map[string]any{"textDocument": map[string]any{"uri": uri}, "position": map[string]any{"line": line, "character": 8}}})
	if m := waitFor(2, ""); !strings.Contains(string(m.Result), "action `agent`") {
		t.Errorf("hover on step analyze: %s", m.Result)
	}

	send(map[string]any{"id": 3, "method": "shutdown"})
	waitFor(3, "")
	send(map[string]any{"method": "exit"})
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("smithc lsp after shutdown and exit: %v (stderr: %s)", err, stderr.String())
	}
}
