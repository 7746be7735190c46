// Package lsp is a Language Server Protocol server for .smw files: it
// reports the checker's diagnostics as a document is opened and edited,
// and answers hover, go to definition, completion, document symbols and
// formatting (lang/format) from the checker's syntax tree and Info.
//
// The server speaks JSON-RPC 2.0 over a byte stream (stdio for
// `smithc lsp`) and keeps every open document in memory: a file that
// imports an open document sees its unsaved text.
package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/lang/parser"
	"github.com/smithc/smithc/schema"
)

// Config configures a server.
type Config struct {
	// Actions are the step actions programs may use (stdlib.Specs()).
	Actions []schema.ActionSpec
	// ReadFile reads a file that is not open in the editor; nil means
	// os.ReadFile.
	ReadFile func(name string) ([]byte, error)
}

// Server is one language server session.
type Server struct {
	cfg  Config
	conn *conn

	mu          sync.Mutex
	docs        map[string]*document // by path
	published   map[string][]string  // main path → the paths it published diagnostics for
	initialized bool
	shutdown    bool
}

// document is an open document and what the last check learned.
type document struct {
	uri     string
	path    string
	version int
	text    *text
	file    *ast.File     // the parse of text (recovering)
	info    *checker.Info // the check of text (complete when it has no errors)
	diags   diag.Diagnostics
}

// NewServer returns a server.
func NewServer(cfg Config) *Server {
	return &Server{cfg: cfg, docs: map[string]*document{}, published: map[string][]string{}}
}

// errExit is returned by Serve after an exit notification.
var errExit = errors.New("exit")

// Serve reads requests from r and writes responses and notifications to
// w until the client sends exit or closes r. It returns nil after a
// shutdown request and an exit notification, and an error otherwise.
func (s *Server) Serve(ctx context.Context, r io.Reader, w io.Writer) error {
	s.conn = newConn(r, w)
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		body, err := s.conn.read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("the client closed the connection without exit")
			}
			return err
		}
		var m message
		if err := json.Unmarshal(body, &m); err != nil {
			_ = s.conn.write(errorResponse{JSONRPC: "2.0", ID: rawNull(), Error: &rpcError{Code: codeParseError, Message: "the message is not JSON: " + err.Error()}})
			continue
		}
		err = s.handle(&m)
		if err == errExit {
			s.mu.Lock()
			clean := s.shutdown
			s.mu.Unlock()
			if clean {
				return nil
			}
			return errors.New("exit without shutdown")
		}
		if err != nil {
			return err
		}
	}
}

func rawNull() *json.RawMessage {
	r := json.RawMessage("null")
	return &r
}

// handle dispatches one message; a request gets exactly one response.
func (s *Server) handle(m *message) error {
	if m.Method == "exit" {
		return errExit
	}
	result, rerr := s.dispatch(m)
	if m.ID == nil { // a notification: no response
		return nil
	}
	if rerr != nil {
		return s.conn.write(errorResponse{JSONRPC: "2.0", ID: m.ID, Error: rerr})
	}
	return s.conn.write(response{JSONRPC: "2.0", ID: m.ID, Result: result})
}

func (s *Server) dispatch(m *message) (result any, rerr *rpcError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		// A bug must cost one answer, not the editor's session.
		if p := recover(); p != nil {
			result, rerr = nil, &rpcError{Code: codeInternalError, Message: fmt.Sprintf("internal error in %s: %v; please report this with the file", m.Method, p)}
		}
	}()
	if m.Method == "initialize" {
		s.initialized = true
		return initializeResult(), nil
	}
	if !s.initialized {
		if m.ID == nil {
			return nil, nil
		}
		return nil, &rpcError{Code: codeNotInitialized, Message: "the server is not initialized"}
	}
	decode := func(v any) *rpcError {
		if err := json.Unmarshal(m.Params, v); err != nil {
			return &rpcError{Code: codeInvalidParams, Message: fmt.Sprintf("bad params of %s: %v", m.Method, err)}
		}
		return nil
	}
	switch m.Method {
	case "initialized", "$/cancelRequest", "$/setTrace", "workspace/didChangeConfiguration":
		return nil, nil
	case "textDocument/didSave", "workspace/didChangeWatchedFiles":
		// a file on disk changed: an open document may import it
		s.recheckAll()
		return nil, nil
	case "shutdown":
		s.shutdown = true
		return nil, nil
	case "textDocument/didOpen":
		var p didOpenParams
		if e := decode(&p); e != nil {
			return nil, e
		}
		path := uriToPath(p.TextDocument.URI)
		s.docs[path] = &document{uri: p.TextDocument.URI, path: path, version: p.TextDocument.Version, text: newText(p.TextDocument.Text)}
		s.recheck(path)
		return nil, nil
	case "textDocument/didChange":
		var p didChangeParams
		if e := decode(&p); e != nil {
			return nil, e
		}
		d := s.docs[uriToPath(p.TextDocument.URI)]
		if d == nil {
			return nil, nil
		}
		for _, ch := range p.ContentChanges {
			if ch.Range == nil {
				d.text = newText(ch.Text)
				continue
			}
			a, b := d.text.offset(ch.Range.Start), d.text.offset(ch.Range.End)
			if b < a {
				a, b = b, a
			}
			d.text = newText(d.text.s[:a] + ch.Text + d.text.s[b:])
		}
		d.version = p.TextDocument.Version
		s.recheck(d.path)
		return nil, nil
	case "textDocument/didClose":
		var p didCloseParams
		if e := decode(&p); e != nil {
			return nil, e
		}
		path := uriToPath(p.TextDocument.URI)
		delete(s.docs, path)
		s.notify("textDocument/publishDiagnostics", publishDiagnosticsParams{URI: p.TextDocument.URI, Diagnostics: []Diagnostic{}})
		for _, other := range s.published[path] {
			s.notify("textDocument/publishDiagnostics", publishDiagnosticsParams{URI: pathToURI(other), Diagnostics: []Diagnostic{}})
		}
		delete(s.published, path)
		s.recheckAll()
		return nil, nil
	case "textDocument/hover":
		var p textDocumentPositionParams
		if e := decode(&p); e != nil {
			return nil, e
		}
		d := s.docs[uriToPath(p.TextDocument.URI)]
		if d == nil {
			return nil, nil
		}
		return s.hover(d, d.text.offset(p.Position)), nil
	case "textDocument/definition":
		var p textDocumentPositionParams
		if e := decode(&p); e != nil {
			return nil, e
		}
		d := s.docs[uriToPath(p.TextDocument.URI)]
		if d == nil {
			return nil, nil
		}
		return s.definition(d, d.text.offset(p.Position)), nil
	case "textDocument/completion":
		var p textDocumentPositionParams
		if e := decode(&p); e != nil {
			return nil, e
		}
		d := s.docs[uriToPath(p.TextDocument.URI)]
		if d == nil {
			return []CompletionItem{}, nil
		}
		return s.complete(d, d.text.offset(p.Position)), nil
	case "textDocument/documentSymbol":
		var p documentParams
		if e := decode(&p); e != nil {
			return nil, e
		}
		d := s.docs[uriToPath(p.TextDocument.URI)]
		if d == nil {
			return []DocumentSymbol{}, nil
		}
		return symbols(d), nil
	case "textDocument/formatting":
		var p documentParams
		if e := decode(&p); e != nil {
			return nil, e
		}
		d := s.docs[uriToPath(p.TextDocument.URI)]
		if d == nil {
			return nil, nil
		}
		return formatEdits(d)
	}
	if m.ID == nil {
		return nil, nil // unknown notifications are ignored
	}
	return nil, &rpcError{Code: codeMethodNotFound, Message: fmt.Sprintf("%s is not supported", m.Method)}
}

func initializeResult() any {
	return map[string]any{
		"capabilities": map[string]any{
			"positionEncoding":           "utf-16",
			"textDocumentSync":           map[string]any{"openClose": true, "change": 1}, // full text on change
			"hoverProvider":              true,
			"definitionProvider":         true,
			"documentSymbolProvider":     true,
			"documentFormattingProvider": true,
			"completionProvider":         map[string]any{"triggerCharacters": []string{".", "\""}},
		},
		"serverInfo": map[string]any{"name": "smithc"},
	}
}

func (s *Server) notify(method string, params any) {
	_ = s.conn.write(struct {
		JSONRPC string `json:"jsonrpc"`
		Method  string `json:"method"`
		Params  any    `json:"params"`
	}{"2.0", method, params})
}

// readFile reads name from the open documents, else from disk.
func (s *Server) readFile(name string) ([]byte, error) {
	if d, ok := s.docs[filepath.Clean(name)]; ok {
		return []byte(d.text.s), nil
	}
	if d, ok := s.docs[name]; ok {
		return []byte(d.text.s), nil
	}
	if s.cfg.ReadFile != nil {
		return s.cfg.ReadFile(name)
	}
	return os.ReadFile(name)
}

// check parses and checks the document as it is now.
func (s *Server) check(d *document) {
	cfg := &checker.Config{Actions: s.cfg.Actions, ReadFile: s.readFile}
	d.info, d.diags = checker.CheckFile(d.path, cfg)
	d.file = nil
	if d.info != nil && len(d.info.Files) > 0 && d.info.Files[0].Name == d.path {
		d.file = d.info.Files[0]
	} else {
		d.file, _ = parser.Parse(d.path, []byte(d.text.s))
	}
}

// recheck checks the document at path and publishes its diagnostics;
// the other open documents are checked again too, as they may import it.
func (s *Server) recheck(path string) {
	if d := s.docs[path]; d != nil {
		s.check(d)
		s.publish(d)
	}
	for p, d := range s.docs {
		if p != path {
			s.check(d)
			s.publish(d)
		}
	}
}

func (s *Server) recheckAll() {
	for _, d := range s.docs {
		s.check(d)
		s.publish(d)
	}
}

// publish sends the document's diagnostics, grouped by file: those in an
// imported file go to that file (and those the previous check sent to a
// file are cleared when this one has none there).
func (s *Server) publish(d *document) {
	byFile := map[string][]Diagnostic{d.path: {}}
	texts := map[string]*text{d.path: d.text}
	textOf := func(file string) *text {
		if file == "" {
			file = d.path
		}
		t := texts[file]
		if t == nil {
			b, err := s.readFile(file)
			if err != nil {
				b = nil
			}
			t = newText(string(b))
			texts[file] = t
		}
		return t
	}
	for _, dg := range d.diags {
		file := dg.Subject.File
		if file == "" {
			file = d.path
		}
		ld := toDiagnostic(textOf(file), dg)
		for _, rel := range dg.Related {
			uri := pathToURI(rel.Range.File)
			if rel.Range.File == d.path || rel.Range.File == "" {
				uri = d.uri
			}
			ld.RelatedInformation = append(ld.RelatedInformation, RelatedInformation{
				Location: Location{URI: uri, Range: textOf(rel.Range.File).rangeOf(rel.Range)}, Message: rel.Message})
		}
		byFile[file] = append(byFile[file], ld)
	}
	for _, old := range s.published[d.path] {
		if _, ok := byFile[old]; !ok {
			byFile[old] = []Diagnostic{}
		}
	}
	files := make([]string, 0, len(byFile))
	for f := range byFile {
		files = append(files, f)
	}
	sort.Strings(files)
	var sent []string
	for _, f := range files {
		p := publishDiagnosticsParams{URI: pathToURI(f), Diagnostics: byFile[f]}
		if f == d.path {
			p.URI = d.uri
			v := d.version
			p.Version = &v
		} else if od := s.docs[f]; od != nil && od != d {
			continue // an open document publishes its own diagnostics
		}
		s.notify("textDocument/publishDiagnostics", p)
		if len(byFile[f]) > 0 && f != d.path {
			sent = append(sent, f)
		}
	}
	s.published[d.path] = sent
}

func toDiagnostic(t *text, d diag.Diagnostic) Diagnostic {
	sev := 1
	switch d.Severity {
	case diag.Warning:
		sev = 2
	case diag.Error:
		sev = 1
	default:
		sev = 3
	}
	msg := d.Summary
	if d.Detail != "" {
		msg += "\n" + d.Detail
	}
	if d.Hint != "" {
		msg += "\nhint: " + d.Hint
	}
	r := Range{}
	if d.Subject.IsValid() {
		r = t.rangeOf(d.Subject)
	}
	return Diagnostic{Range: r, Severity: sev, Code: d.Code, Source: "smithc", Message: msg}
}
