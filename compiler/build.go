package compiler

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/lang/diag"
)

// Config configures a build. The zero value checks with no step actions
// declared; the CLI passes the standard library's specs.
type Config struct {
	Checker checker.Config
}

// Result is the outcome of a build: the program (nil when checking found
// errors), every diagnostic, and the text of every file read, for
// rendering the diagnostics.
type Result struct {
	Program     *ir.Program
	Info        *checker.Info
	Diagnostics diag.Diagnostics
	Sources     diag.Sources
}

// Build parses, checks and compiles the file at filename and its imports.
func Build(filename string, cfg *Config) *Result {
	if cfg == nil {
		cfg = &Config{}
	}
	ccfg := cfg.Checker
	ccfg.KeepTrees = true // Compile takes them
	info, diags := checker.CheckFile(filename, &ccfg)
	res := &Result{Info: info, Diagnostics: diags, Sources: diag.Sources{}}
	if info != nil {
		for _, f := range info.Files {
			res.Sources[f.Name] = f.Src
		}
	}
	// A file that did not parse may be missing from Info.Files: read it
	// again so that its diagnostics show their source line.
	for _, d := range diags {
		name := d.Subject.File
		if _, ok := res.Sources[name]; ok || name == "" {
			continue
		}
		read := os.ReadFile
		if cfg.Checker.ReadFile != nil {
			read = cfg.Checker.ReadFile
		}
		if src, err := read(name); err == nil {
			res.Sources[name] = src
		}
	}
	if diags.HasErrors() || info == nil {
		return res
	}
	prog, more := Compile(info)
	res.Diagnostics = append(res.Diagnostics, more...).Sort()
	if !res.Diagnostics.HasErrors() {
		res.Program = prog
	}
	return res
}

// Compile lowers a program that checked clean. The diagnostics it may
// return are for limits the checker does not know about (none today).
func Compile(info *checker.Info) (*ir.Program, diag.Diagnostics) {
	c := &compiler{info: info}
	p := &ir.Program{SourceHash: SourceHash(info), Secrets: info.Secrets}
	for _, f := range info.Files {
		p.Files = append(p.Files, f.Name)
	}
	for _, name := range sortedKeys(info.Types) {
		p.Types = append(p.Types, info.Types[name])
	}
	for _, name := range sortedKeys(info.Agents) {
		p.Agents = append(p.Agents, c.agent(info.Agents[name]))
	}
	for _, w := range info.Workflows {
		wf := c.workflow(w)
		wf.SourceHash = p.SourceHash
		p.Workflows = append(p.Workflows, wf)
	}
	if err := p.CompileAll(); err != nil {
		// The checker accepted every expression, so this is a bug; say so
		// at the workflow rather than fail later at run time.
		c.diags = append(c.diags, diag.Diagnostic{Severity: diag.Error, Code: "internal",
			Summary: fmt.Sprintf("internal error: an expression the checker accepted does not compile: %v", err),
			Detail:  "Please report this with the file."})
	}
	return p, c.diags
}

// SourceHash is the hex SHA-256 over the text of every file of the
// program, main file first, each with its name relative to the main
// file's directory (so the same program has the same hash whether it is
// named by a relative or an absolute path); a resume compares it with
// the run's.
func SourceHash(info *checker.Info) string {
	h := sha256.New()
	base := ""
	if len(info.Files) > 0 {
		base = filepath.Dir(info.Files[0].Name)
	}
	for _, f := range info.Files {
		name := f.Name
		if rel, err := filepath.Rel(base, f.Name); err == nil {
			name = rel
		}
		h.Write([]byte(filepath.ToSlash(name)))
		h.Write([]byte{0})
		h.Write(f.Src)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
