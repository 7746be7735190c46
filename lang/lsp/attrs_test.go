package lsp

import (
	"strings"
	"testing"

	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/stdlib"
)

// hosts places an attribute line (ATTR) in a container of each kind.
var hosts = map[string]string{
	"workflow": "workflow w {\n  ATTR\n  step a { value = 1 }\n}\n",
	"step":     "workflow w {\n  step a {\n    value = 1\n    ATTR\n  }\n}\n",
	"retry":    "workflow w {\n  step a {\n    value = 1\n    retry {\n      ATTR\n    }\n  }\n}\n",
	"cache":    "workflow w {\n  step a {\n    value = 1\n    cache {\n      key = 1\n      ATTR\n    }\n  }\n}\n",
	"approval": "workflow w {\n  approval a {\n    title = \"t\"\n    ATTR\n  }\n}\n",
	"event":    "workflow w {\n  event a {\n    name = \"n\"\n    ATTR\n  }\n}\n",
	"timer":    "workflow w {\n  timer a {\n    ATTR\n  }\n}\n",
	"sequence": "workflow w {\n  sequence {\n    ATTR\n    step a { value = 1 }\n  }\n}\n",
	"parallel": "workflow w {\n  parallel {\n    ATTR\n    step a { value = 1 }\n  }\n}\n",
	"for":      "workflow w {\n  for x in [1] {\n    ATTR\n    step a { value = x }\n  }\n}\n",
	"worktree": "workflow w {\n  worktree t {\n    path = \"p\"\n    ATTR\n    step a { value = 1 }\n  }\n}\n",
	"loop":     "workflow w {\n  loop l {\n    max_iterations = 2\n    ATTR\n    step a { value = 1 }\n  }\n}\n",
	"agent":    "agent g {\n  cli = \"claude\"\n  ATTR\n}\nworkflow w { step a { value = 1 } }\n",
	"openai":   "agent g {\n  openai {\n    model = \"m\"\n    ATTR\n  }\n}\nworkflow w { step a { value = 1 } }\n",
}

func unknownAttr(t *testing.T, kind, name string) bool {
	t.Helper()
	src := strings.Replace(hosts[kind], "ATTR", name+" = 1", 1)
	cfg := &checker.Config{Actions: stdlib.Specs(), ReadFile: func(string) ([]byte, error) { return []byte(src), nil }}
	_, ds := checker.CheckFile("in.smw", cfg)
	for _, d := range ds {
		if d.Code == "unknown-attribute" && strings.Contains(d.Summary, `"`+name+`"`) {
			return true
		}
	}
	return false
}

// TestAttrTableMatchesChecker: every attribute the server proposes for a
// kind of container is one the checker accepts there, and a made-up name
// is one it rejects (so the test can tell).
func TestAttrTableMatchesChecker(t *testing.T) {
	for kind, attrs := range structural {
		if hosts[kind] == "" {
			t.Errorf("no host program for %s", kind)
			continue
		}
		if !unknownAttr(t, kind, "zz_not_an_attribute") {
			t.Errorf("%s: the checker accepts a made-up attribute; the host program is wrong", kind)
		}
		for _, a := range attrs {
			if unknownAttr(t, kind, a.name) {
				t.Errorf("%s: the server proposes %q, which the checker calls unknown", kind, a.name)
			}
		}
	}
}
