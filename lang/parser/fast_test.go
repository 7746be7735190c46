package parser

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/smithc/smithc/internal/testgen"
	"github.com/smithc/smithc/lang/grammar"
)

// fastSources returns every .smw text of the repository that a test can
// find: the examples, the golden archives, the docs' smw blocks, the
// fuzz corpus and generated programs.
func fastSources(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	add := func(name string, src []byte) { out[name] = src }
	for _, pattern := range []string{"../../examples/*.smw", "../../examples/*/*.smw", "../../examples/*/*/*.smw"} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			if src, err := os.ReadFile(p); err == nil {
				add(p, src)
			}
		}
	}
	archives, _ := filepath.Glob("../../testdata/golden/*/*.txtar")
	more, _ := filepath.Glob("../*/testdata/*/*.txtar")
	for _, p := range append(archives, more...) {
		a, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range a.Files {
			if strings.HasSuffix(f.Name, ".smw") {
				add(p+":"+f.Name, f.Data)
			}
		}
	}
	block := regexp.MustCompile("(?s)```smw[^\n]*\n(.*?)```")
	docs, _ := filepath.Glob("../../docs/*.md")
	docs = append(docs, "../../README.md")
	for _, p := range docs {
		src, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for i, m := range block.FindAllSubmatch(src, -1) {
			add(p+":"+strings.Repeat("#", i+1), m[1])
		}
	}
	corpus, _ := filepath.Glob("testdata/fuzz/*/*")
	for _, p := range corpus {
		src, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// A corpus file is "go test fuzz v1" then []byte("...") lines.
		for _, line := range bytes.Split(src, []byte("\n"))[1:] {
			if s, ok := bytes.CutPrefix(line, []byte("[]byte(")); ok {
				if q, err := strconv.Unquote(string(bytes.TrimSuffix(s, []byte(")")))); err == nil {
					add(p, []byte(q))
				}
			}
		}
	}
	add("testgen.Program", testgen.Program(600))
	add("testgen.Sequential", testgen.Sequential(50))
	add("testgen.Interpolations", testgen.Interpolations(50))
	return out
}

// sameAsParticiple fails t unless the fast path accepts toks exactly
// when participle does, with the same tree. It reports whether they
// accepted.
func sameAsParticiple(t *testing.T, name string, toks []lexer.Token) bool {
	t.Helper()
	want, err := participleTokens(toks)
	got, ok := fastParse(toks)
	if ok != (err == nil) {
		t.Errorf("%s: fast path ok=%v, participle error %v", name, ok, err)
		return false
	}
	if ok {
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: fast path tree differs from participle's (-participle +fast):\n%s", name, diff)
		}
	}
	return ok
}

// TestFastParseIsParticiple: on every .smw text of the repository, on
// every prefix of its tokens, and with each token removed in turn, the
// fast path accepts what participle accepts and builds the same tree
// (and gives up where participle reports an error).
func TestFastParseIsParticiple(t *testing.T) {
	t.Parallel()
	accepted := 0
	for name, src := range fastSources(t) {
		toks, lexErr := grammar.Tokenize("in.smw", string(src))
		if lexErr != nil {
			continue
		}
		if sameAsParticiple(t, name, toks.List) {
			accepted++
		}
		list := toks.List[:len(toks.List)-1]
		eof := toks.List[len(toks.List)-1]
		if len(list) > 3000 {
			continue
		}
		step := max(1, len(list)/50)
		for k := 0; k < len(list); k += step {
			sameAsParticiple(t, name+" prefix", withEOF(list[:k], eof.Pos))
			cut := append(append([]lexer.Token{}, list[:k]...), list[k+1:]...)
			sameAsParticiple(t, name+" cut", withEOF(cut, eof.Pos))
		}
	}
	t.Logf("%d sources parsed clean", accepted)
	if accepted < 100 {
		t.Errorf("only %d sources parsed clean: the test finds too few", accepted)
	}
}

// FuzzFastParse: for any text that lexes, the fast path accepts it
// exactly when participle does, with the same tree.
func FuzzFastParse(f *testing.F) {
	for _, src := range fastSources(f) {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		toks, lexErr := grammar.Tokenize("in.smw", string(src))
		if lexErr != nil {
			return
		}
		sameAsParticiple(t, "input", toks.List)
	})
}
