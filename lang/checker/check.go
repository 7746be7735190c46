package checker

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"

	exprparser "github.com/expr-lang/expr/parser"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/lang/parser"
	"github.com/smithc/smithc/schema"
)

// CheckFile reads and parses the file called filename, resolves its
// imports (relative to the importing file), and checks the program. The
// Info is never nil; it is complete when the diagnostics have no errors.
func CheckFile(filename string, cfg *Config) (*Info, diag.Diagnostics) {
	if cfg == nil {
		cfg = &Config{}
	}
	c := newChecker(cfg)
	src, err := cfg.readFile(filename)
	if err != nil {
		c.errorf(diag.Range{File: filename}, "read-file", "cannot read %s: %v", filename, osProblem(err))
		return c.info, c.diags.Sort()
	}
	var (
		f       *ast.File
		ds      diag.Diagnostics
		skipped []parser.Skipped
	)
	if cfg.ParseFunc == nil {
		// The default parser recovers: a declaration that does not parse
		// is left out and the others are checked, with the errors the
		// missing declarations would cause dropped.
		f, skipped, ds = parser.ParseRecovered(filename, src)
	} else {
		f, ds = c.parse(filename, src)
	}
	c.diags = append(c.diags, ds...)
	partial := ds.HasErrors()
	if f == nil || partial && cfg.ParseFunc != nil {
		return c.info, c.diags.Sort() // never check a partial tree we cannot account for
	}
	files := c.loadImports(f)
	if c.syntaxErrors {
		c.info.Files = files
		return c.info, c.diags.Sort()
	}
	c.run(files)
	if partial {
		c.diags = dropCascades(c.diags, skipped)
	}
	return c.info, c.diags.Sort()
}

// Check checks already-parsed files; the first is the main file, the
// others are imports whose declarations are in scope. Import declarations
// of the given files are resolved with cfg.ReadFile unless the imported
// file is among files (matched by name).
func Check(files []*ast.File, cfg *Config) (*Info, diag.Diagnostics) {
	if cfg == nil {
		cfg = &Config{}
	}
	c := newChecker(cfg)
	if len(files) == 0 {
		return c.info, nil
	}
	for _, f := range files[1:] {
		if f != nil {
			c.loaded[clean(f.Name)] = f
		}
	}
	loaded := c.loadImports(files[0])
	if c.syntaxErrors {
		c.info.Files = loaded
		return c.info, c.diags.Sort()
	}
	c.run(loaded)
	return c.info, c.diags.Sort()
}

// checker holds the state of one check.
type checker struct {
	cfg   *Config
	info  *Info
	diags diag.Diagnostics

	actions   []*schema.ActionSpec
	selectors map[string]*schema.ActionSpec // selector name -> action

	loaded       map[string]*ast.File // files by name
	syntaxErrors bool                 // an imported file did not parse

	types     map[string]*typeDecl
	typeEntry []diag.Range // where each type being resolved was referenced
	workflows map[string]*ast.WorkflowDecl
	wfOrder   []*ast.WorkflowDecl

	wfState   map[*ast.WorkflowDecl]*wfCheck
	fragGraph map[*ast.FragmentDecl]*graph
	exprs     map[*ast.Expr]exprResult
	home      map[ast.Stmt]*gnode // each statement's node in its own graph
	outputs   map[ast.Stmt]vt
	declared  map[ast.Stmt]*schema.Type
	stepRules map[*schema.ActionSpec]*actionRules

	// noSecret, when set, refuses secret() in the expressions being
	// checked and says why (a call's input is stored with the child run).
	noSecret    string
	secretNames map[string]bool           // every secret("NAME") seen
	fragSizes   map[*ast.FragmentDecl]int // see fragSize
	nodes       int                       // graph nodes made so far, all graphs

	nodeOwners map[string][]*ast.WorkflowDecl // node id -> workflows declaring it (messages)

	freeECs []*ec // expression checkers to reuse (newEC)
}

func newChecker(cfg *Config) *checker {
	c := &checker{
		cfg: cfg,
		info: &Info{
			Fragments:       map[string]*ast.FragmentDecl{},
			Agents:          map[string]*ast.AgentDecl{},
			Types:           map[string]*schema.Type{},
			Inputs:          map[*ast.WorkflowDecl]*schema.Type{},
			WorkflowOutputs: map[*ast.WorkflowDecl]*schema.Type{},
			Params:          map[*ast.FragmentDecl][]*schema.Field{},
			Outputs:         map[ast.Stmt]*schema.Type{},
			Actions:         map[*ast.StepStmt]string{},
			Calls:           map[*ast.StepStmt]*ast.WorkflowDecl{},
			StepAgents:      map[*ast.StepStmt]*ast.AgentDecl{},
			StepFallbacks:   map[*ast.StepStmt][]*ast.AgentDecl{},
			Needs:           map[ast.Stmt][]ast.Stmt{},
			Uses:            map[*ast.UseStmt]*ast.FragmentDecl{},
			ExprTypes:       map[*ast.Expr]*schema.Type{},
			Refs:            map[*ast.Expr][]Ref{},
			Consts:          map[*ast.Attr]any{},
			trees:           map[*ast.Expr]*exprparser.Tree{},
		},
		selectors:   map[string]*schema.ActionSpec{},
		loaded:      map[string]*ast.File{},
		types:       map[string]*typeDecl{},
		workflows:   map[string]*ast.WorkflowDecl{},
		wfState:     map[*ast.WorkflowDecl]*wfCheck{},
		fragGraph:   map[*ast.FragmentDecl]*graph{},
		exprs:       map[*ast.Expr]exprResult{},
		home:        map[ast.Stmt]*gnode{},
		outputs:     map[ast.Stmt]vt{},
		declared:    map[ast.Stmt]*schema.Type{},
		stepRules:   map[*schema.ActionSpec]*actionRules{},
		fragSizes:   map[*ast.FragmentDecl]int{},
		secretNames: map[string]bool{},
	}
	for i := range cfg.Actions {
		a := &cfg.Actions[i]
		c.actions = append(c.actions, a)
		for _, s := range a.Selectors {
			if _, dup := c.selectors[s]; !dup {
				c.selectors[s] = a
			}
		}
	}
	return c
}

// run checks the loaded files, main file first.
func (c *checker) run(files []*ast.File) {
	c.info.Files = files
	c.presize(files)
	c.collectDecls(files)
	c.resolveTypes()
	c.checkInputs()
	c.checkAgents()
	c.checkFragments()
	for _, w := range c.wfOrder {
		c.checkWorkflow(w)
	}
	c.checkCallCycles()
	for name := range c.secretNames {
		c.info.Secrets = append(c.info.Secrets, name)
	}
	sort.Strings(c.info.Secrets)
}

// presize makes the maps that get an entry per expression or per node
// with room for as many as the files hold (counted on their trees, which
// costs little next to a check): growing a map of 10⁵ entries step by
// step costs more than checking them.
func (c *checker) presize(files []*ast.File) {
	var k treeSize
	for _, f := range files {
		if f != nil {
			k.file(f)
		}
	}
	if k.stmts+k.exprs < 64 {
		return
	}
	exprs, all := k.exprs, k.exprs+k.parts // whole expressions; with template parts
	if len(c.exprs) == 0 {
		c.exprs = make(map[*ast.Expr]exprResult, exprs)
	}
	if len(c.info.ExprTypes) == 0 {
		c.info.ExprTypes = make(map[*ast.Expr]*schema.Type, all)
	}
	if len(c.info.Refs) == 0 {
		c.info.Refs = make(map[*ast.Expr][]Ref, all)
	}
	if c.cfg.KeepTrees && len(c.info.trees) == 0 {
		c.info.trees = make(map[*ast.Expr]*exprparser.Tree, all)
	}
	if len(c.home) == 0 {
		c.home = make(map[ast.Stmt]*gnode, k.stmts)
	}
	if len(c.outputs) == 0 {
		c.outputs = make(map[ast.Stmt]vt, k.outputs)
	}
	if len(c.declared) == 0 {
		c.declared = make(map[ast.Stmt]*schema.Type, k.outputs)
	}
	if len(c.info.Outputs) == 0 {
		c.info.Outputs = make(map[ast.Stmt]*schema.Type, k.outputs)
	}
	if len(c.info.Actions) == 0 {
		c.info.Actions = make(map[*ast.StepStmt]string, k.steps)
	}
}

// treeSize counts what the checker keeps an entry for: statements,
// those with an output (steps, approvals, events), steps, expressions
// and the interpolations of templates.
type treeSize struct{ stmts, outputs, steps, exprs, parts int }

func (k *treeSize) file(f *ast.File) {
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.WorkflowDecl:
			if d.Input != nil {
				k.fields(d.Input.Fields)
			}
			if d.Budget != nil {
				k.blocks([]*ast.Block{d.Budget})
			}
			k.body(d.Body)
		case *ast.FragmentDecl:
			k.fields(d.Params)
			k.body(d.Body)
		case *ast.AgentDecl:
			k.attrs(d.Attrs)
			k.blocks(d.Blocks)
		case *ast.TypeDecl:
			k.fields(d.Fields)
		}
	}
}

func (k *treeSize) expr(e *ast.Expr) {
	if e == nil {
		return
	}
	k.exprs++
	if e.Template != nil {
		for _, p := range e.Template.Parts {
			if p.Expr != nil {
				k.parts++
			}
		}
	}
}

func (k *treeSize) fields(fs []*ast.Field) {
	for _, f := range fs {
		if f != nil {
			k.expr(f.Default)
		}
	}
}

func (k *treeSize) attrs(as []*ast.Attr) {
	for _, a := range as {
		if a != nil {
			k.expr(a.Value)
		}
	}
}

func (k *treeSize) blocks(bs []*ast.Block) {
	for _, b := range bs {
		if b != nil {
			k.attrs(b.Attrs)
			k.blocks(b.Blocks)
		}
	}
}

func (k *treeSize) body(b *ast.Body) {
	if b == nil {
		return
	}
	k.attrs(b.Attrs)
	for _, s := range b.Nodes {
		k.stmt(s)
	}
}

func (k *treeSize) stmt(s ast.Stmt) {
	k.stmts++
	switch s := s.(type) {
	case *ast.StepStmt:
		k.outputs++
		k.steps++
		k.attrs(s.Attrs)
		k.blocks(s.Blocks)
	case *ast.ApprovalStmt:
		k.outputs++
		k.attrs(s.Attrs)
		k.blocks(s.Blocks)
	case *ast.EventStmt:
		k.outputs++
		k.attrs(s.Attrs)
	case *ast.TimerStmt:
		k.attrs(s.Attrs)
	case *ast.SequenceStmt:
		k.body(s.Body)
	case *ast.ParallelStmt:
		k.body(s.Body)
	case *ast.LoopStmt:
		k.body(s.Body)
	case *ast.WorktreeStmt:
		k.body(s.Body)
	case *ast.ForStmt:
		k.expr(s.List)
		k.body(s.Body)
	case *ast.UseStmt:
		for _, e := range s.Args {
			k.expr(e)
		}
	case *ast.BranchStmt:
		k.expr(s.Pred)
		k.body(s.Then)
		if s.Else != nil {
			k.body(s.Else.Body)
		}
	case *ast.MatchStmt:
		for _, a := range s.Arms {
			if a != nil {
				k.expr(a.Pred)
				k.body(a.Body)
			}
		}
		if s.Else != nil {
			k.body(s.Else.Body)
		}
	case *ast.TryStmt:
		k.body(s.Try)
		k.body(s.Catch)
		k.body(s.Finally)
	}
}

// errorf reports an error at r.
func (c *checker) errorf(r diag.Range, code, format string, args ...any) *diag.Diagnostic {
	c.diags = append(c.diags, diag.Diagnostic{
		Severity: diag.Error,
		Code:     code,
		Summary:  fmt.Sprintf(format, args...),
		Subject:  r,
	})
	return &c.diags[len(c.diags)-1]
}

// report appends a prepared diagnostic.
func (c *checker) report(d diag.Diagnostic) {
	if d.Severity == diag.Invalid {
		d.Severity = diag.Error
	}
	c.diags = append(c.diags, d)
}

// osProblem is the operating system's own words of a file error ("no such
// file or directory", "is a directory"), without the operation and path
// that the message around it already gives.
func osProblem(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
