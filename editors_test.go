package smithc_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// grammarRegexps walks a TextMate grammar and returns every match, begin
// and end pattern, and every include, with where it is.
func grammarRegexps(v any, at string, res map[string]string, incs map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			switch s, isStr := x.(string); {
			case isStr && (k == "match" || k == "begin" || k == "end"):
				res[at+"."+k] = s
			case isStr && k == "include":
				incs[at] = s
			default:
				grammarRegexps(x, at+"."+k, res, incs)
			}
		}
	case []any:
		for i, x := range v {
			grammarRegexps(x, at+"["+strconv.Itoa(i)+"]", res, incs)
		}
	}
}

// TestTextMateGrammar: editors/smw.tmLanguage.json is valid JSON, every
// pattern compiles (the grammar keeps to the syntax Go's RE2 and
// Oniguruma share: no lookaround, no backreferences), every include
// names a rule of the repository, and the VS Code extension ships the
// same file.
func TestTextMateGrammar(t *testing.T) {
	raw, err := os.ReadFile("editors/smw.tmLanguage.json")
	if err != nil {
		t.Fatal(err)
	}
	var g map[string]any
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("smw.tmLanguage.json is not JSON: %v", err)
	}
	if g["scopeName"] != "source.smw" {
		t.Errorf("scopeName = %v, want source.smw", g["scopeName"])
	}
	res, incs := map[string]string{}, map[string]string{}
	grammarRegexps(g, "", res, incs)
	if len(res) < 20 {
		t.Errorf("only %d patterns", len(res))
	}
	for at, re := range res {
		if _, err := regexp.Compile(re); err != nil {
			t.Errorf("%s: %q does not compile: %v", at, re, err)
		}
	}
	repo, _ := g["repository"].(map[string]any)
	for at, inc := range incs {
		name, ok := strings.CutPrefix(inc, "#")
		if !ok || repo[name] == nil {
			t.Errorf("%s: include %q names no rule of the repository", at, inc)
		}
	}
	shipped, err := os.ReadFile("editors/vscode/syntaxes/smw.tmLanguage.json")
	if err != nil || !bytes.Equal(shipped, raw) {
		t.Errorf("editors/vscode/syntaxes/smw.tmLanguage.json must be a copy of editors/smw.tmLanguage.json (cp it): %v", err)
	}
}

// TestVSCodeExtension: the manifest is valid, names files that exist,
// and the extension starts `smithc lsp`.
func TestVSCodeExtension(t *testing.T) {
	raw, err := os.ReadFile("editors/vscode/package.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Main        string            `json:"main"`
		Activation  []string          `json:"activationEvents"`
		Deps        map[string]string `json:"dependencies"`
		Contributes struct {
			Languages []struct {
				ID            string   `json:"id"`
				Extensions    []string `json:"extensions"`
				Configuration string   `json:"configuration"`
			} `json:"languages"`
			Grammars []struct {
				Language, ScopeName, Path string
			} `json:"grammars"`
		} `json:"contributes"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("package.json: %v", err)
	}
	files := []string{m.Main}
	for _, l := range m.Contributes.Languages {
		if l.ID != "smw" || len(l.Extensions) != 1 || l.Extensions[0] != ".smw" {
			t.Errorf("language: %+v", l)
		}
		files = append(files, l.Configuration)
	}
	for _, g := range m.Contributes.Grammars {
		if g.ScopeName != "source.smw" || g.Language != "smw" {
			t.Errorf("grammar: %+v", g)
		}
		files = append(files, g.Path)
	}
	for _, f := range files {
		p := filepath.Join("editors/vscode", f)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("package.json names %s: %v", f, err)
			continue
		}
		if strings.HasSuffix(p, ".json") && !json.Valid(b) {
			t.Errorf("%s is not JSON", p)
		}
	}
	if m.Deps["vscode-languageclient"] == "" {
		t.Error("the extension needs vscode-languageclient")
	}
	js, err := os.ReadFile("editors/vscode/extension.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte("args: ['lsp']")) {
		t.Error("extension.js does not start smithc lsp")
	}
	if node, err := exec.LookPath("node"); err == nil {
		if out, err := exec.Command(node, "--check", "editors/vscode/extension.js").CombinedOutput(); err != nil {
			t.Errorf("node --check extension.js: %v\n%s", err, out)
		}
		if out, err := exec.Command(node, "--check", "editors/tokenize.js").CombinedOutput(); err != nil {
			t.Errorf("node --check tokenize.js: %v\n%s", err, out)
		}
	}
}

type tmToken struct {
	File   string   `json:"file"`
	Line   int      `json:"line"`
	Text   string   `json:"text"`
	Scopes []string `json:"scopes"`
}

func (t tmToken) has(scope string) bool {
	for _, s := range t.Scopes {
		if s == scope || strings.HasPrefix(s, scope+".") {
			return true
		}
	}
	return false
}

// textmateModules is where vscode-textmate and vscode-oniguruma are
// installed (.ci/run puts them in the cache), or "".
func textmateModules() string {
	dirs := []string{os.Getenv("SMITHC_TEXTMATE_DIR")}
	if home, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "smithc", "textmate"))
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		nm := filepath.Join(d, "node_modules")
		if _, err := os.Stat(filepath.Join(nm, "vscode-textmate")); err == nil {
			if _, err := os.Stat(filepath.Join(nm, "vscode-oniguruma")); err == nil {
				return nm
			}
		}
	}
	return ""
}

// TestTextMateTokenizesExamples runs the grammar in the engine VS Code
// uses (vscode-textmate with vscode-oniguruma) over every example and
// checks the scopes of what matters: comments, strings, interpolations,
// keywords, names of declarations and nodes, attribute names.
func TestTextMateTokenizesExamples(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the grammar was not run in vscode-textmate")
	}
	nm := textmateModules()
	if nm == "" {
		t.Skip("vscode-textmate and vscode-oniguruma are not installed (npm install --prefix ~/.cache/smithc/textmate vscode-textmate@9.4.0 vscode-oniguruma@2.0.1, as .ci/run does)")
	}
	examples, _ := filepath.Glob("examples/*.smw")
	lib, _ := filepath.Glob("examples/lib/*.smw")
	args := append([]string{"editors/tokenize.js", "editors/smw.tmLanguage.json"}, append(examples, lib...)...)
	cmd := exec.Command(node, args...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+nm)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tokenize.js: %v\n%s", err, stderr.String())
	}
	var toks []tmToken
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var tk tmToken
		if err := json.Unmarshal(sc.Bytes(), &tk); err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tk)
	}
	if len(toks) < 500 {
		t.Fatalf("only %d tokens", len(toks))
	}
	// Facts about the examples the grammar must get right.
	srcs := map[string][]string{}
	for _, f := range append(examples, lib...) {
		b, _ := os.ReadFile(f)
		srcs[f] = strings.Split(string(b), "\n")
	}
	lastLine := map[string]int{}
	counts := map[string]int{}
	for i, tk := range toks {
		line := srcs[tk.File][tk.Line-1]
		trimmed := strings.TrimSpace(line)
		first := lastLine[tk.File] != tk.Line // the line's first token
		lastLine[tk.File] = tk.Line
		switch {
		case strings.HasPrefix(trimmed, "//"):
			if !tk.has("comment") {
				t.Errorf("%s:%d: %q in a comment line has scopes %v", tk.File, tk.Line, tk.Text, tk.Scopes)
			}
			counts["comment"]++
		case tk.Text == "${":
			if !tk.has("punctuation.section.interpolation.begin") || !tk.has("string") {
				t.Errorf("%s:%d: ${ has scopes %v", tk.File, tk.Line, tk.Scopes)
			}
			counts["interpolation"]++
		case tk.Text == `"""`:
			if !tk.has("string.quoted.triple") {
				t.Errorf("%s:%d: \"\"\" has scopes %v", tk.File, tk.Line, tk.Scopes)
			}
			counts["triple"]++
		case (tk.Text == "workflow" || tk.Text == "type" || tk.Text == "agent" || tk.Text == "fragment") && strings.HasPrefix(line, tk.Text+" "):
			if !tk.has("storage.type") || i+1 >= len(toks) || !toks[i+1].has("entity.name") {
				t.Errorf("%s:%d: declaration %q: %v, then %+v", tk.File, tk.Line, tk.Text, tk.Scopes, toks[i+1])
			}
			counts["decl"]++
		case (tk.Text == "step" || tk.Text == "approval" || tk.Text == "loop") && strings.HasPrefix(trimmed, tk.Text+" "):
			if !tk.has("keyword.control") || !toks[i+1].has("entity.name.function") {
				t.Errorf("%s:%d: node %q: %v, then %+v", tk.File, tk.Line, tk.Text, tk.Scopes, toks[i+1])
			}
			counts["node"]++
		case first && strings.HasPrefix(trimmed, tk.Text+" = ") && !tk.has("string"):
			if !tk.has("variable.other.property") {
				t.Errorf("%s:%d: attribute %q has scopes %v", tk.File, tk.Line, tk.Text, tk.Scopes)
			}
			counts["attr"]++
		}
	}
	for _, k := range []string{"comment", "interpolation", "triple", "decl", "node", "attr"} {
		if counts[k] == 0 {
			t.Errorf("no %s token checked in the examples", k)
		}
	}
	t.Logf("%d tokens; checked %v", len(toks), counts)
}
