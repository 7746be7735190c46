package checker_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/schema"
)

// ExampleCheckFile checks a file whose step reads a field that does not
// exist; the diagnostic points at the field and suggests the right one.
func ExampleCheckFile() {
	dir, _ := os.MkdirTemp("", "smw")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "review.smw")
	_ = os.WriteFile(path, []byte(`workflow review {
  step analyze { value = { summary: "ok" } }
  step report { value = analyze.sumary }
}
`), 0o644)
	compute := schema.ActionSpec{Name: "compute", Selectors: []string{"value"},
		Attrs: []schema.AttrSpec{{Name: "value", Type: schema.AnyType, Required: true}}}
	_, ds := checker.CheckFile(path, &checker.Config{Actions: []schema.ActionSpec{compute}})
	for _, d := range ds {
		d.Subject.File = filepath.Base(d.Subject.File)
		fmt.Println(d)
	}
	// Output:
	// review.smw:3:33-39: error[unknown-field]: unknown field "sumary" in { summary: string } (did you mean "summary"?)
}
