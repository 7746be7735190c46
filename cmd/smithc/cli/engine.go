package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/pgstore"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
	"github.com/smithc/smithc/stdlib"
	"github.com/smithc/smithc/stdlib/gitwt"
)

// dbFlags are the flags of every command that opens the store.
type dbFlags struct {
	db string
}

func (f *dbFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.db, "db", "", "the store: a SQLite file or a postgres:// URL (default $SMITHC_DB or ./smithers.db)")
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

// openStore opens the store: a PostgreSQL database for a postgres:// or
// postgresql:// URL, else a SQLite file.
func (a *app) openStore(ctx context.Context, f *dbFlags) (store.Store, error) {
	p := f.path()
	if isPostgresURL(p) {
		st, err := pgstore.Open(ctx, p, pgstore.Options{})
		if err != nil {
			return nil, exitf(ExitFailed, "open the store %s: %v\n(is PostgreSQL running and the database created? see docs/scaling.md)", pgstore.Redact(p), err)
		}
		return st, nil
	}
	st, err := sqlitestore.Open(ctx, p, sqlitestore.Options{})
	if err != nil {
		return nil, exitf(ExitFailed, "open the store %s: %v", p, err)
	}
	return st, nil
}

func isPostgresURL(p string) bool {
	return strings.HasPrefix(p, "postgres://") || strings.HasPrefix(p, "postgresql://")
}

// engineOptions are the knobs of the runtime that commands expose.
type engineOptions struct {
	maxConcurrency int
	observe        func(store.Event)
	owner          runtime.Owner // zero: this process (smithc worker names itself)
	lease          time.Duration // zero: runtime.DefaultLeaseDuration
}

// newEngine builds a runtime engine over st with the standard library's
// actions, git worktrees, and a program loader that recompiles a run's
// source file.
func (a *app) newEngine(st store.Store, opts engineOptions) (*runtime.Engine, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	eng, err := runtime.New(runtime.Config{
		Store:              st,
		Actions:            stdlib.Actions(stdlib.Config{}),
		MaxConcurrency:     opts.maxConcurrency,
		Owner:              opts.owner,
		LeaseDuration:      opts.lease,
		Dir:                wd,
		ObserveFunc:        opts.observe,
		LoadProgramFunc:    loadProgram,
		WorktreeAddFunc:    gitwt.Add,
		WorktreeRemoveFunc: gitwt.Remove,
	})
	if err != nil {
		return nil, exitf(ExitFailed, "%v", err)
	}
	return eng, nil
}

// loadProgram recompiles the source of a run being continued.
func loadProgram(_ context.Context, run *store.Run) (*ir.Program, error) {
	if run.SourcePath == "" {
		return nil, fmt.Errorf("run %s has no recorded source file", run.ID)
	}
	res := build(run.SourcePath)
	if res.Program == nil {
		return nil, fmt.Errorf("%s no longer checks:\n%s", run.SourcePath, res.Diagnostics.Error())
	}
	return res.Program, nil
}

// absPath returns p made absolute, for recording a run's source.
func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
