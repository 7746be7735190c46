package lsp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/smithc/smithc/lang/lsp"
	"github.com/smithc/smithc/stdlib"
)

// client is a test LSP client speaking JSON-RPC over a pair of pipes (or
// a process's stdin and stdout).
type client struct {
	t      testing.TB
	w      io.Writer
	mu     sync.Mutex
	nextID int
	calls  map[int]chan rpcMessage
	diags  map[string][]publish // by URI, in arrival order
	diagCh chan struct{}
	done   chan struct{}
}

type rpcMessage struct {
	ID     *int            `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

type publish struct {
	URI         string           `json:"uri"`
	Version     *int             `json:"version"`
	Diagnostics []lsp.Diagnostic `json:"diagnostics"`
}

// newClient connects to a server reading w and writing r.
func newClient(t testing.TB, r io.Reader, w io.Writer) *client {
	c := &client{t: t, w: w, calls: map[int]chan rpcMessage{}, diags: map[string][]publish{},
		diagCh: make(chan struct{}, 1), done: make(chan struct{})}
	go c.readLoop(bufio.NewReader(r))
	return c
}

// startServer runs an in-process server on pipes.
func startServer(t testing.TB) (*client, chan error) {
	t.Helper()
	cr, sw := io.Pipe()
	sr, cw := io.Pipe()
	srv := lsp.NewServer(lsp.Config{Actions: stdlib.Specs()})
	errc := make(chan error, 1)
	go func() {
		errc <- srv.Serve(context.Background(), sr, sw)
		sw.Close()
	}()
	c := newClient(t, cr, cw)
	t.Cleanup(func() { cw.Close() })
	c.initialize()
	return c, errc
}

func (c *client) readLoop(r *bufio.Reader) {
	defer close(c.done)
	tp := textproto.NewReader(r)
	for {
		h, err := tp.ReadMIMEHeader()
		if err != nil {
			return
		}
		n, err := strconv.Atoi(h.Get("Content-Length"))
		if err != nil {
			c.t.Errorf("bad Content-Length header %q", h.Get("Content-Length"))
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		var m rpcMessage
		if err := json.Unmarshal(body, &m); err != nil {
			c.t.Errorf("the server sent a message that is not JSON: %v: %s", err, body)
			return
		}
		c.mu.Lock()
		switch {
		case m.ID != nil && m.Method == "":
			if ch := c.calls[*m.ID]; ch != nil {
				ch <- m
				delete(c.calls, *m.ID)
			}
		case m.Method == "textDocument/publishDiagnostics":
			var p publish
			if err := json.Unmarshal(m.Params, &p); err != nil {
				c.t.Errorf("bad publishDiagnostics: %v", err)
			}
			c.diags[p.URI] = append(c.diags[p.URI], p)
			select {
			case c.diagCh <- struct{}{}:
			default:
			}
		}
		c.mu.Unlock()
	}
}

func (c *client) send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := fmt.Fprintf(c.w, "Content-Length: %d\r\n\r\n%s", len(b), b); err != nil {
		c.t.Fatalf("writing to the server: %v", err)
	}
}

// call sends a request and waits for its response; result is decoded
// into out (unless nil).
func (c *client) call(method string, params, out any) *rpcMessage {
	c.t.Helper()
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan rpcMessage, 1)
	c.calls[id] = ch
	c.mu.Unlock()
	c.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	select {
	case m := <-ch:
		if m.Error != nil {
			return &m
		}
		if out != nil {
			if err := json.Unmarshal(m.Result, out); err != nil {
				c.t.Fatalf("%s: bad result %s: %v", method, m.Result, err)
			}
		}
		return &m
	case <-c.done:
		c.t.Fatalf("%s: the server closed the connection", method)
	case <-time.After(60 * time.Second): // a hang guard, not a speed assertion
		c.t.Fatalf("%s: no response", method)
	}
	return nil
}

func (c *client) notify(method string, params any) {
	c.send(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

func (c *client) initialize() {
	c.t.Helper()
	var res struct {
		Capabilities map[string]any `json:"capabilities"`
	}
	c.call("initialize", map[string]any{"processId": os.Getpid(), "rootUri": nil, "capabilities": map[string]any{}}, &res)
	for _, k := range []string{"hoverProvider", "definitionProvider", "completionProvider", "documentSymbolProvider", "documentFormattingProvider", "textDocumentSync"} {
		if res.Capabilities[k] == nil {
			c.t.Errorf("initialize: capability %s missing", k)
		}
	}
	c.notify("initialized", map[string]any{})
}

// waitDiags waits for diagnostics of uri for the given version.
func (c *client) waitDiags(uri string, version int) []lsp.Diagnostic {
	c.t.Helper()
	deadline := time.After(60 * time.Second) // a hang guard
	for {
		c.mu.Lock()
		for _, p := range c.diags[uri] {
			if p.Version != nil && *p.Version == version {
				c.mu.Unlock()
				return p.Diagnostics
			}
		}
		c.mu.Unlock()
		select {
		case <-c.diagCh:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			c.t.Fatalf("no diagnostics for %s version %d", uri, version)
		}
	}
}

func (c *client) open(path, text string) string {
	uri := fileURI(path)
	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "smw", "version": 1, "text": text}})
	return uri
}

func (c *client) change(uri string, version int, text string) {
	c.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": uri, "version": version},
		"contentChanges": []map[string]any{{"text": text}},
	})
}

func (c *client) shutdown() {
	c.t.Helper()
	if m := c.call("shutdown", nil, nil); m == nil || m.Error != nil {
		c.t.Fatalf("shutdown failed: %+v", m)
	}
	c.notify("exit", nil)
}

func fileURI(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		panic(err)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}

func pos(line, char int) map[string]any {
	return map[string]any{"line": line, "character": char}
}

func at(uri string, line, char int) map[string]any {
	return map[string]any{"textDocument": map[string]any{"uri": uri}, "position": pos(line, char)}
}
