package smithc_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/smithc/smithc/compiler"
	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/stdlib"
)

// docsKnownFailures lists smw blocks of the docs that do not check clean
// today, keyed by "path:line" of the opening fence, with the reason. Each
// one is skipped, not failed; remove an entry when its doc is fixed.
var docsKnownFailures = map[string]string{}

// docBlock is one fenced code block of a Markdown file.
type docBlock struct {
	file string // the Markdown file, slash-separated, relative to the module root
	line int    // the line of the opening fence
	lang string // the first word of the info string: smw, smw-error, ...
	args map[string]string
	text string
}

// fenceInfo matches an opening fence and its info string.
var fenceInfo = regexp.MustCompile("^(\\s*)(```+|~~~+)\\s*([^`\\s]*)(.*)$")

// docBlocks returns the fenced code blocks of a Markdown file. The info
// string is a language word followed by key=value words (file=NAME).
func docBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		out    []docBlock
		cur    *docBlock
		fence  string
		indent int
		body   []string
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if cur == nil {
			m := fenceInfo.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			cur = &docBlock{file: filepath.ToSlash(path), line: n, lang: m[3], args: map[string]string{}}
			for _, w := range strings.Fields(m[4]) {
				if k, v, ok := strings.Cut(w, "="); ok {
					cur.args[k] = v
				}
			}
			fence, indent, body = m[2], len(m[1]), nil
			continue
		}
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]) == "" {
			cur.text = strings.Join(body, "\n") + "\n"
			out = append(out, *cur)
			cur = nil
			continue
		}
		// Remove the fence's own indentation (a block inside a list item).
		for i := 0; i < indent && strings.HasPrefix(line, " "); i++ {
			line = line[1:]
		}
		body = append(body, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Errorf("%s:%d: code block is not closed", path, cur.line)
	}
	return out
}

// docFiles returns README.md and every Markdown file under docs/.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md"}
	err := filepath.WalkDir("docs", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var (
	hasWorkflow = regexp.MustCompile(`(?m)^\s*workflow\s+[A-Za-z_]`)
	importLine  = regexp.MustCompile(`(?m)^\s*import\s+"([^"]*)"`)
)

// TestDocsExamples checks every ```smw block of README.md and docs/**/*.md
// that declares a workflow with the real front end (parser, checker with
// the standard library's actions, compiler): it must check clean. A block
// tagged ```smw-error must produce at least one error. A block tagged
// ```smw file=NAME is also written as NAME next to the other blocks of its
// Markdown file, so that they can import it; a block that imports a file
// nobody supplies is skipped. ```smw blocks without a workflow (pieces of a
// file) are not checked; ```smw-error blocks always are.
func TestDocsExamples(t *testing.T) {
	cfg := &compiler.Config{Checker: checker.Config{Actions: stdlib.Specs()}}
	checked := 0
	for _, md := range docFiles(t) {
		blocks := docBlocks(t, md)
		dir := t.TempDir()
		supplied := map[string]bool{}
		for _, b := range blocks {
			if name := b.args["file"]; name != "" && strings.HasPrefix(b.lang, "smw") {
				p := filepath.Join(dir, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(b.text), 0o644); err != nil {
					t.Fatal(err)
				}
				supplied[filepath.ToSlash(filepath.Clean(name))] = true
			}
		}
		for _, b := range blocks {
			wantErr := false
			switch {
			case b.lang == "smw":
			case strings.HasPrefix(b.lang, "smw-err"):
				wantErr = true
			default:
				continue
			}
			if !wantErr && !hasWorkflow.MatchString(b.text) {
				continue // a piece of a file
			}
			key := fmt.Sprintf("%s:%d", b.file, b.line)
			t.Run(key, func(t *testing.T) {
				if why, ok := docsKnownFailures[key]; ok {
					t.Skip("known failure: " + why)
				}
				for _, m := range importLine.FindAllStringSubmatch(b.text, -1) {
					if !supplied[filepath.ToSlash(filepath.Clean(m[1]))] {
						t.Skipf("imports %q, which no block of %s supplies (```smw file=%s)", m[1], b.file, m[1])
					}
				}
				name := b.args["file"]
				if name == "" {
					name = fmt.Sprintf("block%d.smw", b.line)
				}
				path := filepath.Join(dir, filepath.FromSlash(name))
				if err := os.WriteFile(path, []byte(b.text), 0o644); err != nil {
					t.Fatal(err)
				}
				res := compiler.Build(path, cfg)
				var buf bytes.Buffer
				diag.Fprint(&buf, res.Sources, res.Diagnostics)
				switch {
				case wantErr && !res.Diagnostics.HasErrors():
					t.Errorf("%s: the block is tagged %s but checks clean", key, b.lang)
				case !wantErr && res.Diagnostics.HasErrors():
					t.Errorf("%s: the block does not check (tag it smw-error if that is its point):\n%s", key, buf.String())
				case !wantErr && res.Program == nil:
					t.Errorf("%s: no program was compiled", key)
				}
			})
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no smw block with a workflow was found in the docs")
	}
	t.Logf("checked %d blocks", checked)
}

// TestDocBlocks pins how code blocks are found: the language word, the
// file= argument, fences inside list items, and longer fences.
func TestDocBlocks(t *testing.T) {
	md := filepath.Join(t.TempDir(), "x.md")
	text := "# x\n\n```smw file=lib/a.smw\ntype A { n: int }\n```\n\n" +
		"- item\n\n  ```smw-error\n  workflow w {\n    step s { value = nope }\n  }\n  ```\n\n" +
		"````\n```smw\nnot a block\n```\n````\n"
	if err := os.WriteFile(md, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	got := docBlocks(t, md)
	if len(got) != 3 {
		t.Fatalf("got %d blocks, want 3: %+v", len(got), got)
	}
	if got[0].lang != "smw" || got[0].args["file"] != "lib/a.smw" || got[0].line != 3 || got[0].text != "type A { n: int }\n" {
		t.Errorf("block 0: %+v", got[0])
	}
	if got[1].lang != "smw-error" || got[1].text != "workflow w {\n  step s { value = nope }\n}\n" {
		t.Errorf("block 1: %+v", got[1])
	}
	if got[2].lang != "" || !strings.Contains(got[2].text, "not a block") {
		t.Errorf("block 2: %+v", got[2])
	}
}

// docsKnownBadLinks lists links of the docs that do not resolve today,
// keyed by "path: target", with the reason.
var docsKnownBadLinks = map[string]string{}

var (
	mdLink     = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeading  = regexp.MustCompile(`^#{1,6}\s+(.*)$`)
	mdCodeSpan = regexp.MustCompile("`[^`]*`")
)

// slug is GitHub's anchor for a heading: lower case, punctuation other
// than - and _ dropped, spaces as -.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors returns the heading anchors of a Markdown file, outside code
// blocks.
func anchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	inCode := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inCode = !inCode
			continue
		}
		if m := mdHeading.FindStringSubmatch(line); m != nil && !inCode {
			out[slug(m[1])] = true
		}
	}
	return out
}

// TestDocsLinks checks that every relative link of README.md and
// docs/**/*.md names a file of the repository and, for a Markdown file,
// an existing heading.
func TestDocsLinks(t *testing.T) {
	for _, md := range docFiles(t) {
		data, err := os.ReadFile(md)
		if err != nil {
			t.Fatal(err)
		}
		// Links inside code blocks and code spans are not links.
		var text []string
		inCode := false
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "```") {
				inCode = !inCode
				continue
			}
			if !inCode {
				text = append(text, mdCodeSpan.ReplaceAllString(line, ""))
			}
		}
		for _, m := range mdLink.FindAllStringSubmatch(strings.Join(text, "\n"), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			key := filepath.ToSlash(md) + ": " + target
			if why, ok := docsKnownBadLinks[key]; ok {
				t.Logf("known bad link %s: %s", key, why)
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			path := md
			if file != "" {
				path = filepath.Join(filepath.Dir(md), filepath.FromSlash(file))
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: link to %s: %v", md, target, err)
				continue
			}
			if anchor != "" && strings.HasSuffix(path, ".md") && !anchors(t, path)[anchor] {
				t.Errorf("%s: link to %s: no heading with anchor #%s in %s", md, target, anchor, path)
			}
		}
	}
}
