package smithc_test

import (
	"os/exec"
	"strings"
	"testing"
)

// allowed is the import policy of the module: for each package (matched by
// the longest prefix of its path below the module), the module packages
// and third-party modules it may import. It is a statement of policy
// (STYLE.md §3.1): data flows source → AST → checked program → IR → run,
// and imports point one way. Do not change this table to fix a build.
var allowed = map[string][]string{
	"lang/diag":                 {},
	"schema":                    {},
	"lang/ast":                  {"lang/diag"},
	"lang/grammar":              {"github.com/alecthomas/participle/v2"},
	"lang/parser":               {"lang/grammar", "lang/ast", "lang/diag", "github.com/alecthomas/participle/v2"},
	"lang/checker":              {"lang/parser", "lang/ast", "lang/diag", "schema", "github.com/expr-lang/expr"},
	"lang/format":               {"lang/parser", "lang/grammar", "lang/ast", "lang/diag"}, // grammar: the token stream, for comments
	"lang/lsp":                  {"lang/format", "lang/checker", "lang/parser", "lang/ast", "lang/diag", "schema", "github.com/expr-lang/expr"},
	"compiler/ir":               {"lang/diag", "schema", "github.com/expr-lang/expr"},
	"compiler":                  {"compiler/ir", "lang/checker", "lang/parser", "lang/ast", "lang/diag", "schema", "github.com/expr-lang/expr"},
	"runtime":                   {"runtime", "compiler/ir", "lang/diag", "schema", "github.com/expr-lang/expr"},
	"runtime/store/sqlitestore": {"runtime/store", "schema", "modernc.org/sqlite"},
	"runtime/store/pgstore":     {"runtime/store", "schema", "github.com/jackc/pgx/v5"},
	"runtime/store/storetest":   {"runtime/store", "schema", "github.com/google/go-cmp"}, // a conformance suite for tests
	"runtime/worker":            {"runtime", "github.com/prometheus/client_golang"},
	"stdlib":                    {"stdlib", "runtime", "compiler/ir", "lang/diag", "schema", "github.com/expr-lang/expr", "mvdan.cc/sh/v3", "golang.org/x/sys/unix"}, // x/sys: close_range(2)
	"serve":                     {"runtime", "compiler/ir", "schema", "github.com/prometheus/client_golang"},                                                         // runtime/store for its types and errors only
	"stdlib/agentreal":          {},                                                                                                                                  // tests only: they drive cmd/smithc/cli and the real agent CLIs
	"internal":                  {"*"},
	"cmd":                       {"*"},
	"":                          {}, // the module root holds only tests
}

const module = "github.com/smithc/smithc"

func policyFor(pkg string) (string, []string) {
	best := ""
	found := false
	for prefix := range allowed {
		if prefix == "" || pkg == prefix || strings.HasPrefix(pkg, prefix+"/") {
			if !found || len(prefix) > len(best) {
				best, found = prefix, true
			}
		}
	}
	return best, allowed[best]
}

func permitted(imp string, allow []string) bool {
	for _, a := range allow {
		if a == "*" {
			return true
		}
		target := a
		if !strings.Contains(a, ".") { // a module package
			target = module + "/" + a
		}
		if imp == target || strings.HasPrefix(imp, target+"/") {
			return true
		}
	}
	return false
}

func TestDependencyPolicy(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \",\"}}", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, imports, _ := strings.Cut(line, "|")
		pkg := strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
		prefix, allow := policyFor(pkg)
		checked++
		for _, imp := range strings.Split(imports, ",") {
			if imp == "" {
				continue
			}
			isModule := strings.HasPrefix(imp, module+"/") || imp == module
			isThirdParty := !isModule && strings.Contains(strings.SplitN(imp, "/", 2)[0], ".")
			if !isModule && !isThirdParty {
				continue // standard library
			}
			if isModule && (imp == path || strings.HasPrefix(imp, path+"/internal")) {
				continue
			}
			if isModule && strings.HasPrefix(imp, module+"/internal/") && prefix != "" && !strings.HasPrefix(pkg, "internal") {
				// internal helpers are for tests and tools only
				t.Errorf("%s imports %s: internal/ packages are for tests and tools", path, imp)
				continue
			}
			if !permitted(imp, allow) {
				t.Errorf("%s imports %s, which the policy for %q does not allow (see deps_test.go)", path, imp, prefix)
			}
		}
	}
	if checked == 0 {
		t.Fatal("go list returned no packages")
	}
}

func TestDependencyPolicyRejectsUpwardEdges(t *testing.T) {
	cases := []struct {
		pkg, imp string
		ok       bool
	}{
		{"runtime", module + "/compiler/ir", true},
		{"runtime", module + "/lang/parser", false},
		{"runtime", module + "/lang/checker", false},
		{"runtime/store/sqlitestore", "modernc.org/sqlite", true},
		{"runtime", "modernc.org/sqlite", false},
		{"stdlib/gitwt", module + "/runtime", true},
		{"stdlib", module + "/lang/ast", false},
		{"lang/checker", module + "/compiler", false},
		{"lang/checker", module + "/runtime", false},
		{"lang/ast", "github.com/alecthomas/participle/v2", false},
		{"lang/parser", "github.com/alecthomas/participle/v2/lexer", true},
		{"compiler/ir", module + "/lang/ast", false},
		{"cmd/smithc/cli", module + "/stdlib", true},
	}
	for _, c := range cases {
		_, allow := policyFor(c.pkg)
		if got := permitted(c.imp, allow); got != c.ok {
			t.Errorf("%s → %s: permitted = %v, want %v", c.pkg, c.imp, got, c.ok)
		}
	}
}
