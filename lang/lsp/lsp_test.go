package lsp_test

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/tools/txtar"

	"github.com/smithc/smithc/compiler"
	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/lang/format"
	"github.com/smithc/smithc/lang/lsp"
	"github.com/smithc/smithc/stdlib"
)

// posOf is the protocol position of the first occurrence of marker in
// text, moved by delta bytes.
func posOf(t *testing.T, text, marker string, delta int) (int, int) {
	t.Helper()
	i := strings.Index(text, marker)
	if i < 0 {
		t.Fatalf("marker %q not in the text", marker)
	}
	off := i + delta
	line := strings.Count(text[:off], "\n")
	start := strings.LastIndexByte(text[:off], '\n') + 1
	return line, len(utf16.Encode([]rune(text[start:off])))
}

func readExample(t testing.TB, name string) (string, string) {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("../../examples", name))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, string(b)
}

// TestDiagnosticsAreCheck opens every example and every check golden (its
// files written to a directory) and compares the published diagnostics
// with what `smithc check` reports (compiler.Build with the standard
// library): the same messages at the same ranges.
func TestDiagnosticsAreCheck(t *testing.T) {
	c, _ := startServer(t)
	var mains []string
	ex, _ := filepath.Glob("../../examples/*.smw")
	for _, p := range ex {
		abs, _ := filepath.Abs(p)
		mains = append(mains, abs)
	}
	archives, _ := filepath.Glob("../../testdata/golden/check/*.txtar")
	for _, p := range archives {
		a, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(p), ".txtar"))
		for _, f := range a.Files {
			if strings.HasPrefix(f.Name, "out/") {
				continue
			}
			fp := filepath.Join(dir, f.Name)
			if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(fp, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "in.smw")); err == nil {
			mains = append(mains, filepath.Join(dir, "in.smw"))
		}
	}
	withErrors := 0
	for _, main := range mains {
		src, err := os.ReadFile(main)
		if err != nil {
			t.Fatal(err)
		}
		res := compiler.Build(main, &compiler.Config{Checker: checker.Config{Actions: stdlib.Specs()}})
		uri := c.open(main, string(src))
		got := c.waitDiags(uri, 1)
		var want []string
		for _, d := range res.Diagnostics {
			if d.Subject.File != main {
				continue // published on the imported file's URI
			}
			want = append(want, diagKey(string(src), d))
		}
		var have []string
		for _, d := range got {
			have = append(have, lspKey(d))
		}
		sort.Strings(want)
		sort.Strings(have)
		if strings.Join(want, "\n") != strings.Join(have, "\n") {
			t.Errorf("%s: the server published\n%s\ncheck reports\n%s", main, strings.Join(have, "\n"), strings.Join(want, "\n"))
		}
		if len(want) > 0 {
			withErrors++
		}
		c.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": uri}})
	}
	if withErrors < 50 {
		t.Errorf("only %d of %d programs have diagnostics; the corpus should have many", withErrors, len(mains))
	}
	t.Logf("%d programs, %d with diagnostics", len(mains), withErrors)
}

// diagKey renders a checker diagnostic as "line:char-line:char severity
// summary", with protocol (zero-based, UTF-16) positions.
func diagKey(src string, d diag.Diagnostic) string {
	p := func(pos diag.Pos) string {
		line := pos.Line - 1
		start := 0
		if line >= 0 {
			start = nthLine(src, line)
		}
		end := min(pos.Offset, len(src))
		return itoa(line) + ":" + itoa(len(utf16.Encode([]rune(src[start:end]))))
	}
	sev := "1"
	if d.Severity == diag.Warning {
		sev = "2"
	}
	return p(d.Subject.Start) + "-" + p(d.Subject.End) + " " + sev + " " + d.Summary
}

func lspKey(d lsp.Diagnostic) string {
	msg, _, _ := strings.Cut(d.Message, "\n")
	return itoa(d.Range.Start.Line) + ":" + itoa(d.Range.Start.Character) + "-" + itoa(d.Range.End.Line) + ":" + itoa(d.Range.End.Character) + " " + itoa(d.Severity) + " " + msg
}

func nthLine(s string, n int) int {
	off := 0
	for i := 0; i < n; i++ {
		j := strings.IndexByte(s[off:], '\n')
		if j < 0 {
			return len(s)
		}
		off += j + 1
	}
	return off
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestDiagnosticsFollowEdits: a clean document has none, an edit that
// breaks it gets the error at its place, fixing it clears them.
func TestDiagnosticsFollowEdits(t *testing.T) {
	c, _ := startServer(t)
	path := filepath.Join(t.TempDir(), "w.smw")
	good := "workflow w {\n  step a { value = 1 }\n  step b { value = a + 1 }\n}\n"
	uri := c.open(path, good)
	if d := c.waitDiags(uri, 1); len(d) != 0 {
		t.Fatalf("clean file has diagnostics: %+v", d)
	}
	bad := strings.Replace(good, "a + 1", "aa + 1", 1)
	c.change(uri, 2, bad)
	d := c.waitDiags(uri, 2)
	if len(d) != 1 {
		t.Fatalf("want one diagnostic, got %+v", d)
	}
	if r := d[0].Range; r.Start.Line != 2 || r.Start.Character != 19 || r.End.Character != 21 {
		t.Errorf("the diagnostic is at %+v, want line 2, characters 19-21 (aa)", r)
	}
	if !strings.Contains(d[0].Message, `"aa"`) || d[0].Source != "smithc" || d[0].Severity != 1 {
		t.Errorf("diagnostic: %+v", d[0])
	}
	c.change(uri, 3, "workflow w {\n  step a { value = (1 }\n}\n")
	if d := c.waitDiags(uri, 3); len(d) == 0 || d[0].Range.Start.Line != 1 {
		t.Errorf("syntax error: %+v", d)
	}
	c.change(uri, 4, good)
	if d := c.waitDiags(uri, 4); len(d) != 0 {
		t.Errorf("fixed file has diagnostics: %+v", d)
	}
	c.change(uri, 5, bad)
	if d := c.waitDiags(uri, 5); len(d) != 1 {
		t.Fatalf("want one diagnostic again, got %+v", d)
	}
	// closing the document clears its diagnostics
	c.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": uri}})
	c.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": uri}}, nil) // a round trip: the clearing was sent before the answer
	c.mu.Lock()
	last := c.diags[uri][len(c.diags[uri])-1]
	c.mu.Unlock()
	if last.Version != nil || len(last.Diagnostics) != 0 {
		t.Errorf("after didClose the last diagnostics are %+v", last)
	}
}

// TestRelatedInformation: a duplicate points at the first declaration.
func TestRelatedInformation(t *testing.T) {
	c, _ := startServer(t)
	path := filepath.Join(t.TempDir(), "dup.smw")
	src := "workflow w {\n  step a { value = 1 }\n  step a { value = 2 }\n}\n"
	uri := c.open(path, src)
	d := c.waitDiags(uri, 1)
	if len(d) == 0 {
		t.Fatal("no diagnostic for a duplicate id")
	}
	var rel []lsp.RelatedInformation
	for _, x := range d {
		rel = append(rel, x.RelatedInformation...)
	}
	if len(rel) != 1 || rel[0].Location.URI != uri || rel[0].Location.Range.Start.Line != 1 || rel[0].Message == "" {
		t.Errorf("related information: %+v (diagnostics %+v)", rel, d)
	}
}

// TestImportSeesUnsavedText: a file that imports an open document is
// checked against the document's text in the editor, not on disk.
func TestImportSeesUnsavedText(t *testing.T) {
	c, _ := startServer(t)
	dir := t.TempDir()
	lib := filepath.Join(dir, "lib.smw")
	if err := os.WriteFile(lib, []byte("type T { a: int }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "main.smw")
	src := "import \"lib.smw\"\nworkflow w {\n  step s {\n    output: T\n    value = { b: 1 }\n  }\n}\n"
	if err := os.WriteFile(main, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	muri := c.open(main, src)
	if d := c.waitDiags(muri, 1); len(d) == 0 {
		t.Fatal("value { b: 1 } for T { a: int } should be an error")
	}
	// the import changes on disk (another program wrote it): a save
	// notification rechecks the open documents
	if err := os.WriteFile(lib, []byte("type T { b: int }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.notify("workspace/didChangeWatchedFiles", map[string]any{"changes": []map[string]any{{"uri": fileURI(lib), "type": 2}}})
	c.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": muri}}, nil) // a round trip: the diagnostics were sent before the answer
	c.mu.Lock()
	last := c.diags[muri][len(c.diags[muri])-1]
	c.mu.Unlock()
	if len(last.Diagnostics) != 0 {
		t.Errorf("after the import changed on disk: %+v", last.Diagnostics)
	}
	if err := os.WriteFile(lib, []byte("type T { a: int }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	luri := c.open(lib, "type T { b: int }\n")
	c.waitDiags(luri, 1)
	c.change(muri, 2, src) // the edit of lib was seen: main is clean now
	if d := c.waitDiags(muri, 2); len(d) != 0 {
		t.Errorf("main still has diagnostics with the unsaved lib: %+v", d)
	}
}

type hover struct {
	Contents struct {
		Value string `json:"value"`
	} `json:"contents"`
}

func TestHover(t *testing.T) {
	c, _ := startServer(t)
	path, src := readExample(t, "review.smw")
	uri := c.open(path, src)
	c.waitDiags(uri, 1)
	cases := []struct {
		marker string
		delta  int
		want   []string
	}{
		{"summary = analyze.summary", 12, []string{"`analyze`", "Analysis", "summary: string", "step `analyze`"}},
		{"summary = analyze.summary", 20, []string{"`analyze.summary`: `string`"}},
		{"${input.repo} at", 8, []string{"`input.repo`: `string`"}},
		{"timeout = \"2m\"", 2, []string{"**timeout**", "duration"}},
		{"backoff = \"exponential\"", 1, []string{"**backoff**", `"fixed" | "linear" | "exponential"`}},
		{"agent   = reviewer", 1, []string{"**agent**", "the agent declaration to ask"}},
		{"step analyze", 6, []string{"step `analyze`", "action `agent`", "output: `Analysis"}},
		{"step analyze", 1, []string{"one unit of work"}},
		{"output: Analysis", 10, []string{"type `Analysis = { summary: string"}},
		{"match analyze", 8, []string{"`analyze`: `Analysis"}},
		{"max_files: int = 20", 2, []string{"input `max_files`: `int`", "input.max_files"}},
		{"analyze.risk == \"high\"", 14, []string{"expression: `bool`"}},
		{"repo_review", 3, []string{"workflow `repo_review`", "output: `{ markdown: string }`"}},
	}
	for _, tc := range cases {
		line, ch := posOf(t, src, tc.marker, tc.delta)
		var h *hover
		c.call("textDocument/hover", at(uri, line, ch), &h)
		if h == nil {
			t.Errorf("hover at %q+%d: nothing", tc.marker, tc.delta)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(h.Contents.Value, w) {
				t.Errorf("hover at %q+%d = %q, want it to contain %q", tc.marker, tc.delta, h.Contents.Value, w)
			}
		}
	}
}

func TestDefinition(t *testing.T) {
	c, _ := startServer(t)
	path, src := readExample(t, "review.smw")
	uri := c.open(path, src)
	c.waitDiags(uri, 1)
	cases := []struct {
		marker string
		delta  int
		target string // marker of the definition in the same file
		tdelta int
	}{
		{"summary = analyze.summary", 12, "step analyze", 5},
		{"output: Analysis", 10, "type Analysis", 5},
		{"agent   = reviewer", 12, "agent reviewer", 6},
		{"${input.repo} at", 8, "repo: string", 0},
		{"match analyze", 8, "step analyze", 5},
		{"output = report", 10, "step report", 5},
		{"analyze.risk == \"high\"", 9, "risk: \"low\"", 0},
		{"+ analyze.summary", 12, "summary: string", 0},
	}
	for _, tc := range cases {
		line, ch := posOf(t, src, tc.marker, tc.delta)
		var locs []lsp.Location
		var one *lsp.Location
		m := c.call("textDocument/definition", at(uri, line, ch), &one)
		if one != nil {
			locs = append(locs, *one)
		}
		if len(locs) != 1 || m.Error != nil {
			t.Errorf("definition at %q+%d: %+v", tc.marker, tc.delta, locs)
			continue
		}
		wl, wc := posOf(t, src, tc.target, tc.tdelta)
		if locs[0].URI != uri || locs[0].Range.Start.Line != wl || locs[0].Range.Start.Character != wc {
			t.Errorf("definition at %q+%d = %+v, want %d:%d (%q)", tc.marker, tc.delta, locs[0], wl, wc, tc.target)
		}
	}

	// across files: a fragment and a type of an import, and the import
	path, src = readExample(t, "review_all.smw")
	uri = c.open(path, src)
	c.waitDiags(uri, 1)
	lib := filepath.Join(filepath.Dir(path), "lib", "shards.smw")
	libSrc, err := os.ReadFile(lib)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		marker     string
		delta      int
		target     string
		tl, tdelta int
	}{
		{"use review_shard(\"lang\")", 6, "fragment review_shard", 0, 9},
		{"import \"lib/shards.smw\"", 9, "", 0, 0},
	} {
		line, ch := posOf(t, src, tc.marker, tc.delta)
		var loc *lsp.Location
		c.call("textDocument/definition", at(uri, line, ch), &loc)
		if loc == nil || loc.URI != fileURI(lib) {
			t.Errorf("definition at %q: %+v, want %s", tc.marker, loc, fileURI(lib))
			continue
		}
		if tc.target != "" {
			wl, wc := posOf(t, string(libSrc), tc.target, tc.tdelta)
			if loc.Range.Start.Line != wl || loc.Range.Start.Character != wc {
				t.Errorf("definition at %q = %+v, want %d:%d", tc.marker, loc.Range, wl, wc)
			}
		}
	}
}

func TestDefinitionOfNeeds(t *testing.T) {
	c, _ := startServer(t)
	path := filepath.Join(t.TempDir(), "n.smw")
	src := "workflow w {\n  step first { run = \"true\" }\n  step second {\n    needs = [first]\n    run   = \"true\"\n  }\n}\n"
	uri := c.open(path, src)
	if d := c.waitDiags(uri, 1); len(d) != 0 {
		t.Fatalf("diagnostics: %+v", d)
	}
	line, ch := posOf(t, src, "[first]", 2)
	var loc *lsp.Location
	c.call("textDocument/definition", at(uri, line, ch), &loc)
	wl, wc := posOf(t, src, "first {", 0)
	if loc == nil || loc.Range.Start.Line != wl || loc.Range.Start.Character != wc {
		t.Errorf("definition of needs entry: %+v, want %d:%d", loc, wl, wc)
	}
	var h *hover
	c.call("textDocument/hover", at(uri, line, ch), &h)
	if h == nil || !strings.Contains(h.Contents.Value, "step `first`, action `shell`") {
		t.Errorf("hover on a needs entry: %+v", h)
	}
}

type completionItem struct {
	Label      string `json:"label"`
	InsertText string `json:"insertText"`
	Detail     string `json:"detail"`
}

func labels(items []completionItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Label
	}
	sort.Strings(out)
	return out
}

func hasAll(got []string, want ...string) bool {
	set := map[string]bool{}
	for _, g := range got {
		set[g] = true
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}

// TestCompletion edits review.smw as a person would, one keystroke into
// a construct, and asks for completions there.
func TestCompletion(t *testing.T) {
	path, src := readExample(t, "review.smw")
	cases := []struct {
		name    string
		edit    func(string) (string, string) // the new text and a marker; the cursor is at the end of the marker
		want    []string
		wantNot []string
	}{
		{"fields after a dot", func(s string) (string, string) {
			return strings.Replace(s, "summary = analyze.summary", "summary = analyze.", 1), "summary = analyze."
		}, []string{"summary", "risk", "files", "score"}, []string{"markdown"}},
		{"fields of an input after a dot in a template", func(s string) (string, string) {
			return strings.Replace(s, "Review ${input.repo}", "Review ${input.}", 1), "${input."
		}, []string{"repo", "sha", "max_files"}, nil},
		{"step attributes at the start of a line", func(s string) (string, string) {
			return strings.Replace(s, "    timeout = \"2m\"\n", "    ti\n", 1), "    ti"
		}, []string{"timeout", "retry", "cache", "needs", "skip_if", "prompt", "agent"}, []string{"max_iterations", "on_deny"}},
		{"retry attributes", func(s string) (string, string) {
			return strings.Replace(s, "retry { attempts = 3,", "retry { ", 1), "retry { "
		}, []string{"attempts", "backoff", "delay", "max_delay"}, []string{"timeout"}},
		{"node ids in an expression", func(s string) (string, string) {
			return strings.Replace(s, "summary = analyze.summary", "summary = an", 1), "summary = an"
		}, []string{"analyze", "input", "report"}, nil},
		{"enum values of an attribute", func(s string) (string, string) {
			return strings.Replace(s, "on_deny = \"fail\"", "on_deny = \"", 1), "on_deny = \""
		}, []string{`"fail"`, `"skip"`, `"continue"`}, nil},
		{"enum values of a comparison", func(s string) (string, string) {
			return strings.Replace(s, "analyze.risk == \"high\"", "analyze.risk == \"", 1), "analyze.risk == \""
		}, []string{`"low"`, `"medium"`, `"high"`}, nil},
		{"node keywords in a body", func(s string) (string, string) {
			return strings.Replace(s, "  output = report", "  par\n  output = report", 1), "  par"
		}, []string{"parallel", "step", "match", "description", "timeout"}, []string{"attempts"}},
	}
	c, _ := startServer(t)
	uri := c.open(path, src)
	c.waitDiags(uri, 1)
	version := 1
	for _, tc := range cases {
		text, marker := tc.edit(src)
		version++
		c.change(uri, version, text)
		c.waitDiags(uri, version)
		line, ch := posOf(t, text, marker, len(marker))
		var items []completionItem
		c.call("textDocument/completion", at(uri, line, ch), &items)
		got := labels(items)
		if !hasAll(got, tc.want...) {
			t.Errorf("%s: completions %v, want all of %v", tc.name, got, tc.want)
		}
		for _, no := range tc.wantNot {
			if hasAll(got, no) {
				t.Errorf("%s: completions %v should not have %q", tc.name, got, no)
			}
		}
	}
}

type symbol struct {
	Name     string   `json:"name"`
	Detail   string   `json:"detail"`
	Kind     int      `json:"kind"`
	Children []symbol `json:"children"`
}

func outline(ss []symbol, depth int, b *strings.Builder) {
	for _, s := range ss {
		b.WriteString(strings.Repeat("  ", depth) + s.Detail + " " + s.Name + "\n")
		outline(s.Children, depth+1, b)
	}
}

func TestDocumentSymbols(t *testing.T) {
	c, _ := startServer(t)
	path, src := readExample(t, "review.smw")
	uri := c.open(path, src)
	c.waitDiags(uri, 1)
	var syms []symbol
	c.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": uri}}, &syms)
	var b strings.Builder
	outline(syms, 0, &b)
	want := `type Analysis
  field summary
  field risk
  field files
  field score
agent reviewer
workflow repo_review
  input input
    input field repo
    input field sha
    input field max_files
  step analyze
  node match analyze
    arm when analyze.risk == "high"
      approval approve_high_risk
  step report
`
	if b.String() != want {
		t.Errorf("outline:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestFormatting(t *testing.T) {
	c, _ := startServer(t)
	path := filepath.Join(t.TempDir(), "f.smw")
	src := "workflow w {\n  step a {\n      value = 1\n      description = \"one\"\n  }\n  step b { value = a }\n}\n"
	uri := c.open(path, src)
	c.waitDiags(uri, 1)
	var edits []lsp.TextEdit
	c.call("textDocument/formatting", map[string]any{"textDocument": map[string]any{"uri": uri}, "options": map[string]any{"tabSize": 2, "insertSpaces": true}}, &edits)
	want, ds := format.Source(path, []byte(src))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if len(edits) != 1 || edits[0].NewText != string(want) || edits[0].Range.Start != (lsp.Position{}) || edits[0].Range.End.Line != 7 {
		t.Fatalf("edits: %+v", edits)
	}
	c.change(uri, 2, string(want))
	c.waitDiags(uri, 2)
	edits = nil
	c.call("textDocument/formatting", map[string]any{"textDocument": map[string]any{"uri": uri}}, &edits)
	if len(edits) != 0 {
		t.Errorf("a formatted file gets edits: %+v", edits)
	}
	c.change(uri, 3, "workflow w {")
	c.waitDiags(uri, 3)
	if m := c.call("textDocument/formatting", map[string]any{"textDocument": map[string]any{"uri": uri}}, nil); m.Error == nil {
		t.Error("formatting a file with syntax errors should fail")
	}
}

// TestProtocol: requests before initialize fail, unknown methods are
// reported, shutdown then exit ends Serve cleanly.
func TestProtocol(t *testing.T) {
	c, errc := startServer(t)
	if m := c.call("workspace/symbol", map[string]any{"query": ""}, nil); m.Error == nil || m.Error.Code != -32601 {
		t.Errorf("unknown method: %+v", m)
	}
	c.shutdown()
	if err := <-errc; err != nil {
		t.Errorf("Serve after shutdown and exit: %v", err)
	}
}

// TestMissingImport: a document whose import is missing gets check's
// error at the import line.
func TestMissingImport(t *testing.T) {
	c, _ := startServer(t)
	path := filepath.Join(t.TempDir(), "m.smw")
	src := "import \"nope.smw\"\nworkflow w { step a { value = 1 } }\n"
	uri := c.open(path, src)
	d := c.waitDiags(uri, 1)
	if len(d) == 0 || d[0].Range.Start.Line != 0 {
		t.Errorf("diagnostics: %+v", d)
	}
}

// TestEveryPosition asks hover, definition and completion at every
// position of every example and of edited copies cut short at many
// places: no request may fail (the server turns a panic into an
// internal error, which this test reports).
func TestEveryPosition(t *testing.T) {
	c, _ := startServer(t)
	paths, _ := filepath.Glob("../../examples/*.smw")
	requests := 0
	for _, p := range paths {
		abs, _ := filepath.Abs(p)
		b, err := os.ReadFile(abs)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		uri := c.open(abs, src)
		c.waitDiags(uri, 1)
		version := 1
		texts := []string{src}
		for cut := len(src) / 7; cut < len(src); cut += len(src) / 7 {
			texts = append(texts, src[:cut]) // an unfinished file
		}
		for ti, text := range texts {
			if ti > 0 {
				version++
				c.change(uri, version, text)
				c.waitDiags(uri, version)
			}
			lines := strings.Split(text, "\n")
			step := 5
			if ti > 0 {
				step = 17
			}
			for l, line := range lines {
				for ch := 0; ch <= len(line); ch += step {
					for _, m := range []string{"textDocument/hover", "textDocument/definition", "textDocument/completion"} {
						requests++
						if r := c.call(m, at(uri, l, ch), nil); r == nil || r.Error != nil {
							t.Fatalf("%s at %s:%d:%d (text %d): %+v", m, p, l, ch, ti, r.Error)
						}
					}
				}
			}
		}
		c.notify("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": uri}})
	}
	t.Logf("%d requests", requests)
}
