package checker

import (
	"path/filepath"
	"testing"
)

// TestExamplesCheckClean checks that every program under examples/ has no
// diagnostics: they are the language's reference programs (files in
// subdirectories are libraries they import, checked on their own too).
func TestExamplesCheckClean(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.smw")
	if err != nil {
		t.Fatal(err)
	}
	libs, err := filepath.Glob("../../examples/*/*.smw")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, libs...)
	if len(files) == 0 {
		t.Skip("no examples yet")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			info, ds := CheckFile(f, &Config{Actions: testSpecs()})
			if len(ds) > 0 {
				t.Errorf("%s: want no diagnostics, got:\n%s", f, ds.Error())
			}
			if len(info.Workflows) == 0 && filepath.Base(filepath.Dir(f)) == "examples" {
				t.Errorf("%s: no workflow", f)
			}
		})
	}
}
