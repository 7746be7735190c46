package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smithc/smithc/compiler"
	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
	"github.com/smithc/smithc/stdlib"
	"github.com/smithc/smithc/stdlib/gitwt"
)

// dbFlags are the flags of every command that opens the store.
type dbFlags struct {
	db string
}

func (f *dbFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.db, "db", "", "the store: a SQLite file (default $SMITHC_DB or ./smithers.db)")
}

// path returns the database path: the flag, $SMITHC_DB, or smithers.db
// in the working directory.
func (f *dbFlags) path() string {
	if f.db != "" {
		return f.db
	}
	if env := os.Getenv("SMITHC_DB"); env != "" {
		return env
	}
	return "smithers.db"
}

// openStore opens the SQLite store. A PostgreSQL URL is refused with a
// clear message until that store exists.
func (a *app) openStore(ctx context.Context, f *dbFlags) (store.Store, error) {
	p := f.path()
	if strings.HasPrefix(p, "postgres://") || strings.HasPrefix(p, "postgresql://") {
		return nil, exitf(ExitUsage, "--db %s: the PostgreSQL store is not available in this build; use a SQLite file path", p)
	}
	st, err := sqlitestore.Open(ctx, p, sqlitestore.Options{})
	if err != nil {
		return nil, exitf(ExitFailed, "open the store %s: %v", p, err)
	}
	return st, nil
}

// engineOptions are the knobs of the runtime that commands expose.
type engineOptions struct {
	maxConcurrency int
	observe        func(store.Event)
}

// newEngine builds a runtime engine over st with the standard library's
// actions, git worktrees, and the compiler for runs' stored sources.
func (a *app) newEngine(st store.Store, opts engineOptions) (*runtime.Engine, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	eng, err := runtime.New(runtime.Config{
		Store:              st,
		Actions:            stdlib.Actions(stdlib.Config{}),
		MaxConcurrency:     opts.maxConcurrency,
		Dir:                wd,
		ObserveFunc:        opts.observe,
		CompileFunc:        compileSources,
		WorktreeAddFunc:    gitwt.Add,
		WorktreeRemoveFunc: gitwt.Remove,
	})
	if err != nil {
		return nil, exitf(ExitFailed, "%v", err)
	}
	return eng, nil
}

// compileSources is the engine's CompileFunc: it checks and compiles a
// run's stored sources (main file first), reading imports from that set
// only, never from the disk.
func compileSources(_ context.Context, srcs []runtime.Source) (*ir.Program, error) {
	if len(srcs) == 0 {
		return nil, errors.New("it was stored without its source files (started by an older smithc); adopt the file with `smithc resume RUN_ID --source FILE`")
	}
	files := map[string][]byte{}
	for _, s := range srcs {
		files[filepath.ToSlash(filepath.Clean(s.Path))] = s.Content
	}
	read := func(name string) ([]byte, error) {
		if b, ok := files[filepath.ToSlash(filepath.Clean(name))]; ok {
			return b, nil
		}
		return nil, fmt.Errorf("%s is not among the run's stored sources", name)
	}
	res := compiler.Build(srcs[0].Path, &compiler.Config{Checker: checker.Config{Actions: stdlib.Specs(), ReadFile: read}})
	if res.Program == nil {
		var b strings.Builder
		diag.Fprint(&b, res.Sources, res.Diagnostics)
		return nil, fmt.Errorf("the stored source no longer checks with this smithc:\n%s", strings.TrimRight(b.String(), "\n"))
	}
	return res.Program, nil
}

// sourcesOf returns the files a build read, main file first, as a run
// stores them.
func sourcesOf(res *compiler.Result) []runtime.Source {
	if res.Info == nil {
		return nil
	}
	out := make([]runtime.Source, 0, len(res.Info.Files))
	for _, f := range res.Info.Files {
		out = append(out, runtime.Source{Path: f.Name, Content: f.Src})
	}
	return out
}

// absPath returns p made absolute, for recording a run's source.
func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
