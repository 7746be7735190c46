package checker

import (
	"path/filepath"
	"strings"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
)

// loadImports resolves the imports of main transitively and returns the
// files of the program: main first, then each imported file once, in the
// order they were first reached. Cycles are reported with their chain.
func (c *checker) loadImports(main *ast.File) []*ast.File {
	files := []*ast.File{main}
	seen := map[string]bool{clean(main.Name): true}
	c.loaded[clean(main.Name)] = main
	var top *ast.ImportDecl // the import of main being followed
	topReported := map[*ast.ImportDecl]bool{}
	var visit func(f *ast.File, chain []string)
	visit = func(f *ast.File, chain []string) {
		for _, d := range f.Decls {
			imp, ok := d.(*ast.ImportDecl)
			if !ok {
				continue
			}
			if f == main {
				top = imp
			}
			name := importPath(f.Name, imp.Path)
			if i := indexOf(chain, name); i >= 0 {
				cyc := append(append([]string(nil), chain[i:]...), name)
				detail := "Files may not import each other in a cycle; move the shared declarations to a file that both import."
				c.report(diag.Diagnostic{
					Code:    "import-cycle",
					Summary: "import cycle: " + strings.Join(cyc, " -> "),
					Detail:  detail,
					Subject: imp.PathRange,
				})
				// Also at the import of the file being checked that leads
				// to the cycle, where the user is looking.
				if f != main && top != nil && !topReported[top] {
					topReported[top] = true
					summary := "importing " + quote(top.Path) + " leads to an import cycle: " + strings.Join(cyc, " -> ")
					if i == 0 {
						summary = "import cycle: " + strings.Join(cyc, " -> ")
					}
					c.report(diag.Diagnostic{
						Code:    "import-cycle",
						Summary: summary,
						Detail:  detail,
						Subject: top.PathRange,
						Related: []diag.Related{{Range: imp.PathRange, Message: "the cycle closes here"}},
					})
				}
				continue
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			g := c.loaded[name]
			if g == nil {
				src, err := c.cfg.readFile(name)
				if err != nil {
					c.report(diag.Diagnostic{
						Code:    "import-not-found",
						Summary: "cannot import " + quote(imp.Path) + ": " + osProblem(err).Error(),
						Detail:  "Import paths are relative to the importing file.",
						Subject: imp.PathRange,
					})
					continue
				}
				var ds diag.Diagnostics
				g, ds = c.parse(name, src)
				c.diags = append(c.diags, ds...)
				if g == nil || ds.HasErrors() {
					c.syntaxErrors = true
					continue
				}
				c.loaded[name] = g
			}
			files = append(files, g)
			visit(g, append(chain, name))
		}
	}
	visit(main, []string{clean(main.Name)})
	return files
}

// importPath resolves path relative to the directory of the importing file.
func importPath(importer, path string) string {
	if filepath.IsAbs(path) {
		return clean(path)
	}
	return clean(filepath.Join(filepath.Dir(importer), path))
}

func clean(p string) string { return filepath.ToSlash(filepath.Clean(p)) }

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
