package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/smithc/smithc/runtime/store"
)

// Options tunes Open. The zero value is the default.
type Options struct {
	// Synchronous is SQLite's synchronous pragma in WAL mode: "NORMAL"
	// (default: a committed transaction survives a crash of the process;
	// an OS crash or power loss may roll back the last commits, never
	// corrupting the database) or "FULL" (every commit is fsynced and
	// survives power loss, at the cost of one fsync per commit).
	Synchronous string
	// NoMigrate skips applying migrations at open (for migration tests).
	NoMigrate bool
}

// Store is a store.Store on one SQLite file.
type Store struct {
	w    *sql.DB // the writer: one connection, IMMEDIATE transactions
	r    *sql.DB // readers
	path string

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared on the writer, by SQL text
}

// stmt returns the hot statement query in tx. Hot statements are
// prepared once on the writer's single connection when the store opens
// (preparing later would wait for the connection the tx holds).
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	st := s.stmts[query]
	s.stmtMu.Unlock()
	if st == nil {
		st, err := tx.PrepareContext(ctx, query)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: prepare: %w", err)
		}
		return st, nil
	}
	return tx.StmtContext(ctx, st), nil
}

// prepareHot prepares the statements every batch uses.
func (s *Store) prepareHot(ctx context.Context) error {
	for _, q := range []string{nodeUpsertSQL, eventInsertSQL, attemptStartSQL, attemptFinishSQL} {
		st, err := s.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("sqlitestore: prepare: %w", err)
		}
		s.stmts[q] = st
	}
	return nil
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and applies
// pending migrations.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	sync := opts.Synchronous
	if sync == "" {
		sync = "NORMAL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return nil, fmt.Errorf("sqlitestore: open %s: synchronous must be FULL or NORMAL, not %q", path, sync)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+sync+")")
	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	w, err := sql.Open("sqlite", base+"?"+q.Encode()+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", base+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	s := &Store{w: w, r: r, path: path, stmts: map[string]*sql.Stmt{}}
	// Several processes creating one new file at once can find it locked
	// while one of them switches it to WAL (SQLite does not always wait
	// for that lock): retry the opening steps a few times.
	err = retryBusy(ctx, func() error {
		if err := w.PingContext(ctx); err != nil {
			return fmt.Errorf("sqlitestore: open %s: %w", path, err)
		}
		if opts.NoMigrate {
			return nil
		}
		_, err := s.Migrate(ctx, Up, 0)
		return err
	})
	if err == nil && !opts.NoMigrate {
		err = s.prepareHot(ctx)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// retryBusy runs fn until it succeeds, fails with something other than
// SQLITE_BUSY, or has been busy for about five seconds.
func retryBusy(ctx context.Context, fn func() error) error {
	delay := 10 * time.Millisecond
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := fn()
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		if delay < 200*time.Millisecond {
			delay *= 2
		}
	}
}

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes both pools.
func (s *Store) Close() error {
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = nil
	s.stmtMu.Unlock()
	err1 := s.r.Close()
	err2 := s.w.Close()
	if err2 != nil {
		return fmt.Errorf("sqlitestore: close: %w", err2)
	}
	if err1 != nil {
		return fmt.Errorf("sqlitestore: close: %w", err1)
	}
	return nil
}

// tx runs fn in one write transaction.
func (s *Store) tx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: begin: %w", what, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback() //nolint:errcheck // the error that matters is fn's
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitestore: %s: commit: %w", what, err)
	}
	return nil
}

const timeLayout = "2006-01-02T15:04:05.000000000Z"

// ts formats a time for storage: fixed width UTC, so that text comparison
// orders times; the zero time is "".
func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// pt parses a stored time.
func pt(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// js returns stored JSON text for a raw message ("null" when empty).
func js(m []byte) string {
	if len(m) == 0 {
		return "null"
	}
	return string(m)
}

// rj returns a raw message for stored JSON text (nil for "null").
func rj(s string) []byte {
	if s == "" || s == "null" {
		return nil
	}
	return []byte(s)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// DB returns the read pool, for ad-hoc queries (type views, tools). Do not
// write through it.
func (s *Store) DB() *sql.DB { return s.r }
