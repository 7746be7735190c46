package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/smithc/smithc/compiler"
	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/lang/checker"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/pgstore"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
	"github.com/smithc/smithc/stdlib"
	"github.com/smithc/smithc/stdlib/gitwt"
)

// dbFlags are the flags of every command that opens the store.
type dbFlags struct {
	db         string
	durability string // --durability, on the commands that execute runs
}

// durabilityMode returns the run durability: --durability, else
// $SMITHC_DURABILITY, else normal.
func (f *dbFlags) durabilityMode() (runtime.Durability, error) {
	v, from := f.durability, "--durability"
	if v == "" {
		v, from = os.Getenv("SMITHC_DURABILITY"), "$SMITHC_DURABILITY"
	}
	d, err := runtime.ParseDurability(v)
	if err != nil {
		return 0, exitf(ExitUsage, "%s=%q: want normal (a commit survives a crash of the process) or full (every step survives power loss; see docs/runtime.md)", from, v)
	}
	return d, nil
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

// openStore opens the store for a command that writes: a PostgreSQL
// database for a postgres:// or postgresql:// URL, else a SQLite file
// (created if needed).
func (a *app) openStore(ctx context.Context, f *dbFlags) (store.Store, error) {
	return a.openStoreMode(ctx, f, false)
}

// openStoreReadOnly opens an existing store for a command that only
// reads (ps, inspect, logs, why): it never creates the file nor migrates
// it, and works on a read-only file or mount and while another process
// holds the write lock.
func (a *app) openStoreReadOnly(ctx context.Context, f *dbFlags) (store.Store, error) {
	return a.openStoreMode(ctx, f, true)
}

func (a *app) openStoreMode(ctx context.Context, f *dbFlags, readOnly bool) (store.Store, error) {
	p := f.path()
	if !readOnly {
		d, err := f.durabilityMode()
		if err != nil {
			return nil, err
		}
		a.durability = d
	}
	a.storePath = p
	if isPostgresURL(p) {
		a.storePath = pgstore.Redact(p)
		st, err := pgstore.Open(ctx, p, pgstore.Options{})
		if err != nil {
			return nil, exitf(ExitFailed, "open the store %s: %v\n(is PostgreSQL running and the database created? see docs/scaling.md)", pgstore.Redact(p), err)
		}
		return st, nil
	}
	lock, err := lockTimeout()
	if err != nil {
		return nil, err
	}
	opts := sqlitestore.Options{ReadOnly: readOnly, LockTimeout: lock}
	if a.durability == runtime.DurabilityFull {
		opts.Synchronous = "FULL"
	}
	st, err := sqlitestore.Open(ctx, p, opts)
	switch {
	case err == nil && !readOnly:
		return warnedStore{Store: st, stderr: a.stderr}, nil
	case err == nil:
		return st, nil
	case errors.Is(err, store.ErrNotFound):
		return nil, exitf(ExitFailed, "no store at %s: no run was recorded there (give --db FILE or set $SMITHC_DB)", p)
	case errors.Is(err, store.ErrUnavailable):
		return nil, exitf(ExitStore, "%v", storeCause(err)) // it names the file
	}
	var ce *sqlitestore.CreateError
	if errors.As(err, &ce) {
		return nil, createFailure(ce)
	}
	return nil, exitf(ExitFailed, "open the store %s: %v", p, err)
}

// createFailure says why a new store's file could not be created, and
// what to do: the path comes from --db, $SMITHC_DB or the default.
func createFailure(ce *sqlitestore.CreateError) error {
	dir := filepath.Dir(ce.Path)
	const elsewhere = "point --db or $SMITHC_DB at a file in a directory you can write"
	switch {
	case errors.Is(ce.Err, fs.ErrNotExist):
		return exitf(ExitFailed, "cannot create the store %s: the directory %s does not exist (create it, or %s)", ce.Path, dir, elsewhere)
	case errors.Is(ce.Err, fs.ErrPermission):
		return exitf(ExitFailed, "cannot create the store %s: no permission to create files in %s (%s)", ce.Path, dir, elsewhere)
	case errors.Is(ce.Err, syscall.ENOSPC):
		return exitf(ExitStore, "cannot create the store %s: the file system is full (free some space, or %s)", ce.Path, elsewhere)
	}
	return exitf(ExitFailed, "cannot create the store %s: %v", ce.Path, ce.Err)
}

// lockTimeout reads $SMITHC_LOCK_TIMEOUT: how long a store operation
// waits for a database locked by other processes (default one minute).
func lockTimeout() (time.Duration, error) {
	v := os.Getenv("SMITHC_LOCK_TIMEOUT")
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, exitf(ExitUsage, "$SMITHC_LOCK_TIMEOUT=%q: want a positive duration such as 30s or 2m", v)
	}
	return d, nil
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
	distribute     bool          // hand steps to any worker as tasks (smithc worker)
}

// ownerFromEnv reads $SMITHC_OWNER ("pid@host": the identity this
// process claims runs under, for workers that name themselves) and
// $SMITHC_LEASE (the lease of the runs it executes, default
// runtime.DefaultLeaseDuration). Unset: the defaults.
func ownerFromEnv() (runtime.Owner, time.Duration, error) {
	var o runtime.Owner
	if v := os.Getenv("SMITHC_OWNER"); v != "" {
		pid, host, ok := strings.Cut(v, "@")
		n, err := strconv.Atoi(pid)
		if !ok || err != nil || n <= 0 || host == "" {
			return o, 0, exitf(ExitUsage, "$SMITHC_OWNER=%q: want pid@host, such as 4242@worker-3", v)
		}
		o = runtime.Owner{PID: n, Host: host}
	}
	var lease time.Duration
	if v := os.Getenv("SMITHC_LEASE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return o, 0, exitf(ExitUsage, "$SMITHC_LEASE=%q: want a positive duration, such as 10s", v)
		}
		lease = d
	}
	return o, lease, nil
}

// withEngine opens the store (read-only for a command that only reads),
// builds an engine over it, calls fn with it, and closes the store.
func (a *app) withEngine(ctx context.Context, f *dbFlags, readOnly bool, fn func(*runtime.Engine) error) error {
	open := a.openStore
	if readOnly {
		open = a.openStoreReadOnly
	}
	st, err := open(ctx, f)
	if err != nil {
		return err
	}
	defer st.Close()
	eng, err := a.newEngine(st, engineOptions{})
	if err != nil {
		return err
	}
	return fn(eng)
}

// newEngine builds a runtime engine over st with the standard library's
// actions, git worktrees, and the compiler for runs' stored sources.
func (a *app) newEngine(st store.Store, opts engineOptions) (*runtime.Engine, error) {
	if a.signalsReady != nil {
		<-a.signalsReady // a signal from now on stops the run cleanly
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	owner, lease, err := ownerFromEnv()
	if err != nil {
		return nil, err
	}
	// A caller that names itself (smithc worker) wins over the
	// environment.
	if opts.owner != (runtime.Owner{}) {
		owner = opts.owner
	}
	if opts.lease > 0 {
		lease = opts.lease
	}
	eng, err := runtime.New(runtime.Config{
		Owner:              owner,
		LeaseDuration:      lease,
		Store:              st,
		Actions:            stdlib.Actions(stdlib.Config{}),
		MaxConcurrency:     opts.maxConcurrency,
		Durability:         a.durability,
		Dir:                wd,
		ObserveFunc:        opts.observe,
		CompileFunc:        compileSources,
		WorktreeAddFunc:    gitwt.Add,
		WorktreeRemoveFunc: gitwt.Remove,
		SecretFormsFunc:    stdlib.SecretForms,
		Distribute:         opts.distribute,
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
