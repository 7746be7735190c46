package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

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
	// ReadOnly opens an existing database for reading only: no file is
	// created, no migration runs, every write fails. It works on a
	// read-only file or mount and while another process holds the write
	// lock. A database whose schema is not the one this binary knows is
	// refused.
	ReadOnly bool
	// LockTimeout bounds how long one operation waits, in all, for a
	// database locked by other processes (SQLITE_BUSY) before it fails
	// with store.ErrUnavailable. Default DefaultLockTimeout.
	LockTimeout time.Duration
	// CheckpointFrames is how many WAL frames (database pages) the
	// writer commits before a background checkpointer, on a connection
	// of its own, copies them into the database file (besides once the
	// writer has been idle for a moment, or after a commit of 64 frames
	// or more), so that commits and Close do not pay for it. Default
	// DefaultCheckpointFrames, and none with Synchronous FULL (see
	// DefaultCheckpointFrames); a negative value turns the background
	// checkpointer off (SQLite then checkpoints on the writer every
	// 1,000 frames, and Close copies what is left), as for a read-only
	// store, which has none.
	CheckpointFrames int
}

// DefaultLockTimeout is how long an operation waits for a locked
// database unless Options.LockTimeout says otherwise.
const DefaultLockTimeout = 60 * time.Second

// Store is a store.Store on one SQLite file.
type Store struct {
	w    *sql.DB // the writer: one connection, IMMEDIATE transactions; nil when read-only
	r    *sql.DB // readers
	path string

	lockTimeout time.Duration
	busyRetries atomic.Int64

	// raw and args are BatchCommit's, used only while it holds the
	// writer's connection (see wtx)
	raw  rawStmts
	args []driver.NamedValue

	// writes counts the write transactions begun on the writer (tx1);
	// fence is what the last committed fenced batch checked and left
	// (see fenceKnown).
	writes  atomic.Uint64
	fenceMu sync.Mutex
	fence   fenceState

	ckpt *checkpointer // nil when read-only or turned off
}

var _ store.Store = (*Store)(nil)

// writerBusyTimeout is SQLite's own wait for a lock on the writer, per
// attempt; past it the store backs off and tries again (retry), so that
// many processes sharing the file take turns instead of starving one.
const writerBusyTimeout = time.Second

// Open opens the database file at path and applies pending migrations.
// A missing file is created with mode 0600 (SQLite gives its -wal and
// -shm files the mode of the database file). With Options.ReadOnly the
// file must exist and nothing is written.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	sync := opts.Synchronous
	if sync == "" {
		sync = "NORMAL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return nil, fmt.Errorf("sqlitestore: open %s: synchronous must be FULL or NORMAL, not %q", path, sync)
	}
	lock := opts.LockTimeout
	if lock <= 0 {
		lock = DefaultLockTimeout
	}
	if opts.ReadOnly {
		return openReadOnly(ctx, path, lock)
	}
	if err := createFile(path, !opts.NoMigrate); err != nil {
		return nil, err
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	pragmas := func(busy time.Duration) string {
		q := url.Values{}
		q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous("+sync+")")
		q.Add("_pragma", "journal_size_limit(67108864)")
		return q.Encode()
	}
	w, err := openPersistWAL(base + "?" + pragmas(min(lock/10, writerBusyTimeout)) + "&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := openPersistWAL(base + "?" + pragmas(lock))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	// database/sql connects a pool on its first use: everything at open
	// goes through the writer's connection, so that a command that only
	// writes (smithc run of a new run) opens one connection, not two.
	s := &Store{w: w, r: r, path: path, lockTimeout: lock}
	if opts.CheckpointFrames > 0 || (opts.CheckpointFrames == 0 && sync != "FULL") {
		frames := opts.CheckpointFrames
		if frames == 0 {
			frames = DefaultCheckpointFrames
		}
		// The same synchronous as the writer: a checkpoint fsyncs the WAL
		// before it copies, and the database file after.
		dsn := base + "?" + pragmas(lock)
		s.ckpt = newCheckpointer(frames, func() (*sql.DB, error) {
			db, err := openPersistWAL(dsn)
			if err != nil {
				return nil, err
			}
			db.SetMaxOpenConns(1)
			db.SetConnMaxIdleTime(0)
			return db, nil
		})
	}
	// Several processes creating one new file at once can find it locked
	// while one of them switches it to WAL (SQLite does not always wait
	// for that lock): the opening steps are retried like any busy write.
	if opts.NoMigrate {
		err = s.retry(ctx, "open", func() error {
			if err := w.PingContext(ctx); err != nil {
				return fmt.Errorf("sqlitestore: open %s: %w", path, err)
			}
			return nil
		})
	} else {
		// A store that is up to date is not written at open, and its
		// version costs one read of the file's header (PRAGMA
		// user_version): many processes opening it at once, or a command
		// run while another process holds the write lock, do not queue
		// for a migration transaction that has nothing to do.
		var v version
		err = s.retry(ctx, "open", func() error {
			var err error
			v, err = readVersion(ctx, w)
			return err
		})
		if err == nil {
			err = checkVersion(path, v.n, false)
		}
		if err == nil && (v.n < latestVersion() || !v.stamped) {
			_, err = s.Migrate(ctx, Up, 0)
		}
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// persistWAL opens connections that keep the -wal and -shm files when
// the last connection closes (SQLITE_FCNTL_PERSIST_WAL, with a
// journal_size_limit so that SQLite truncates the checkpointed log to
// zero bytes instead). The close still checkpoints every commit into the
// database file; the next process opens the two files instead of
// creating them, and no process unlinks them at its exit.
type persistWAL struct{ driver.Connector }

func (p persistWAL) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := p.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if fc, ok := c.(sqlite.FileControl); ok {
		if _, err := fc.FileControlPersistWAL("main", 1); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

func openPersistWAL(dsn string) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(persistWAL{c}), nil
}

// createFile creates the database file with mode 0600 unless it exists,
// so that neither it nor the -wal and -shm files SQLite creates beside it
// (with the same mode) are readable by other users. With image it is
// created as an empty store of the latest schema (createFromImage);
// without, or where that cannot be done, as an empty file that Migrate
// gives the schema.
func createFile(path string, image bool) error {
	if _, err := os.Lstat(path); err == nil {
		return nil
	}
	if image {
		if done, err := createFromImage(path); done || err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		return f.Close()
	case errors.Is(err, fs.ErrExist):
		return nil
	default:
		return &CreateError{Path: path, Err: unwrapPathError(err)}
	}
}

// CreateError is a failure to create a new store's file at Path (a
// missing directory, no permission to write in it, a full disk): Err
// says which, with errors.Is(err, fs.ErrNotExist), fs.ErrPermission and
// the like. Nothing was created.
type CreateError struct {
	Path string
	Err  error
}

func (e *CreateError) Error() string { return fmt.Sprintf("sqlitestore: create %s: %v", e.Path, e.Err) }
func (e *CreateError) Unwrap() error { return e.Err }

// unwrapPathError drops the *fs.PathError's own copy of the path (the
// messages name it already).
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// openReadOnly opens an existing database for reading only.
func openReadOnly(ctx context.Context, path string, lock time.Duration) (*Store, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("sqlitestore: %s: %w: there is no database file at this path (check --db or $SMITHC_DB)", path, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, unwrapPathError(err))
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("sqlitestore: open %s: it is a directory, not a database file", path)
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	q := url.Values{}
	q.Add("mode", "ro")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", lock.Milliseconds()))
	q.Add("_pragma", "query_only(1)")
	s, err := openReader(ctx, path, base+"?"+q.Encode(), lock)
	if err != nil && isCode(err, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY) {
		// A WAL database on a read-only mount (or in a directory this
		// user cannot write) whose -wal file is gone or empty (the last
		// writer checkpointed it at close): nothing can be writing it,
		// and the database file holds every commit, so it is read as
		// immutable.
		if fi, werr := os.Stat(path + "-wal"); errors.Is(werr, fs.ErrNotExist) || (werr == nil && fi.Size() == 0) {
			q.Add("immutable", "1")
			s, err = openReader(ctx, path, base+"?"+q.Encode(), lock)
		} else if f := unreadable(path+"-wal", path+"-shm"); f != "" {
			// The log holds commits (a writer is running, or one was
			// killed) that this user cannot read: the database file
			// alone would be stale.
			return nil, &unavailableError{err: err, msg: fmt.Sprintf("the store %s cannot be read: its log (%s-wal) holds commits that are not in the database file yet, and this user cannot read %s; "+
				"a user who reads a store needs read access to the database file and its -wal and -shm files (chmod them together, or run as the store's owner)", path, path, f)}
		}
	}
	return s, err
}

// unreadable returns the first of files that exists and that this
// process may not open for reading ("" if none).
func unreadable(files ...string) string {
	for _, name := range files {
		f, err := os.Open(name)
		if err == nil {
			f.Close()
			continue
		}
		if errors.Is(err, fs.ErrPermission) {
			return name
		}
	}
	return ""
}

func openReader(ctx context.Context, path, dsn string, lock time.Duration) (*Store, error) {
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	s := &Store{r: r, path: path, lockTimeout: lock}
	var v version
	err = s.retry(ctx, "open", func() error {
		var err error
		v, err = readVersion(ctx, r)
		return err
	})
	if err == nil {
		err = checkVersion(path, v.n, true)
	}
	if err != nil {
		r.Close()
		return nil, s.classify("open", err)
	}
	return s, nil
}

// version is a database's schema version: the highest migration
// applied (0: none).
type version struct {
	n int
	// stamped: the file's user_version holds n (Migrate sets it); a
	// store migrated by an older smithc has its version only in
	// schema_migration until it is migrated once more.
	stamped bool
}

// readVersion reads the schema version without creating anything: one
// PRAGMA user_version (the file's header, no table read) when a
// migration stamped it, else the highest version in schema_migration.
func readVersion(ctx context.Context, db *sql.DB) (version, error) {
	var uv int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&uv); err != nil {
		return version{}, fmt.Errorf("sqlitestore: read schema version: %w", err)
	}
	if uv > 0 {
		return version{n: uv, stamped: true}, nil
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migration'`).Scan(&n); err != nil {
		return version{}, fmt.Errorf("sqlitestore: read schema version: %w", err)
	}
	if n == 0 {
		return version{}, nil
	}
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migration`).Scan(&v); err != nil {
		return version{}, fmt.Errorf("sqlitestore: read schema version: %w", err)
	}
	return version{n: int(v.Int64), stamped: v.Int64 == 0}, nil
}

// checkVersion refuses a database written by a newer smithc (a schema
// version above the migrations this binary has) and, for a read-only
// open, one that is not migrated to this binary's version.
func checkVersion(path string, v int, readOnly bool) error {
	latest := latestVersion()
	switch {
	case v > latest:
		return &unavailableError{msg: fmt.Sprintf("the store %s was written by a newer smithc (schema version %d; this smithc knows versions up to %d): use that smithc, or upgrade this one", path, v, latest)}
	case readOnly && v == 0:
		return fmt.Errorf("sqlitestore: %s is not a smithc store (it has no schema_migration table)", path)
	case readOnly && v < latest:
		return fmt.Errorf("sqlitestore: the store %s has schema version %d, this smithc needs %d: a command that writes (smithc run, resume) migrates it", path, v, latest)
	}
	return nil
}

// retry runs fn until it succeeds, fails with something other than a
// busy or locked database, or the lock timeout has passed; waits between
// tries grow (with jitter) from 5 ms to 250 ms. Errors come back
// classified (see classify).
func (s *Store) retry(ctx context.Context, what string, fn func() error) error {
	delay := 5 * time.Millisecond
	start := time.Now()
	for {
		err := fn()
		if err == nil || !isBusy(err) {
			return s.classify(what, err)
		}
		if waited := time.Since(start); waited >= s.lockTimeout {
			return &unavailableError{err: err, msg: fmt.Sprintf("the store %s stayed locked by another process for %s (%s; $SMITHC_LOCK_TIMEOUT sets how long to wait)", s.path, waited.Round(100*time.Millisecond), what)}
		}
		s.busyRetries.Add(1)
		sleep := delay/2 + rand.N(delay)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(sleep):
		}
		if delay < 250*time.Millisecond {
			delay *= 2
		}
	}
}

// BusyRetries returns how many times an operation of this store found
// the database locked and tried again.
func (s *Store) BusyRetries() int64 { return s.busyRetries.Load() }

// sqliteCode returns the SQLite result code of err (primary code in the
// low byte, extended code above it), 0 when err is not SQLite's.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// driverMessage returns the driver's own message of err (without the
// store's context around it).
func driverMessage(err error) string {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Error()
	}
	return err.Error()
}

// isCode reports whether err's primary SQLite result code is one of codes.
func isCode(err error, codes ...int) bool {
	c := sqliteCode(err) & 0xff
	for _, want := range codes {
		if c == want {
			return true
		}
	}
	return false
}

// isBusy reports whether err is SQLite's "database is locked" or "table
// is locked" (SQLITE_BUSY, SQLITE_LOCKED and their extended codes).
func isBusy(err error) bool {
	return isCode(err, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
}

// unavailableError is a failure of the store itself (disk, locks, a newer
// schema): it wraps store.ErrUnavailable and the driver's error.
type unavailableError struct {
	msg string
	err error
}

func (e *unavailableError) Error() string { return e.msg }

func (e *unavailableError) Unwrap() []error {
	if e.err == nil {
		return []error{store.ErrUnavailable}
	}
	return []error{store.ErrUnavailable, e.err}
}

// classify marks errors that come from the store's medium rather than
// from the operation (a full disk, a file size limit, an I/O error, a
// file that cannot be opened or written) as store.ErrUnavailable, with a
// message that says what happened.
func (s *Store) classify(what string, err error) error {
	if err == nil {
		return nil
	}
	var ue *unavailableError
	if errors.As(err, &ue) {
		return err
	}
	var why string
	switch {
	case isCode(err, sqlite3.SQLITE_FULL):
		why = "the disk is full"
	case isCode(err, sqlite3.SQLITE_IOERR):
		why = "a read or write of the file failed (a full disk, a file size limit or an I/O error)"
	case isCode(err, sqlite3.SQLITE_READONLY):
		why = "the file cannot be written (read-only file or mount)"
	case isCode(err, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM):
		why = "the file cannot be opened (missing directory or no permission)"
	case isCode(err, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
		why = "the file is damaged or not a SQLite database"
	case isBusy(err):
		why = "the database is locked by another process"
	default:
		return err
	}
	return &unavailableError{err: err, msg: fmt.Sprintf("the store %s failed (%s): %s: %s", s.path, what, why, driverMessage(err))}
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close stops the background checkpointer (waiting for a checkpoint it
// is running) and closes its connection, then both pools; the writer's
// close is the last, which checkpoints what is left in the WAL (so that
// the database file alone holds every commit once no process uses it).
func (s *Store) Close() error {
	var err0 error
	if s.ckpt != nil {
		err0 = s.ckpt.close()
	}
	if s.w != nil {
		// BatchCommit's statements, before their connection closes
		if conn, err := s.w.Conn(context.Background()); err == nil {
			conn.Raw(func(dc any) error { s.closeRaw(dc); return nil }) //nolint:errcheck // f returns nil
			conn.Close()
		}
	}
	err1 := s.r.Close()
	var err2 error
	if s.w != nil {
		err2 = s.w.Close()
	}
	if err2 != nil {
		return fmt.Errorf("sqlitestore: close: %w", err2)
	}
	if err1 != nil {
		return fmt.Errorf("sqlitestore: close: %w", err1)
	}
	return err0
}

// tx runs fn in one write transaction, retried as a whole while the
// database is busy (fn may run more than once: it must only set what it
// returns).
func (s *Store) tx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	if s.w == nil {
		return fmt.Errorf("sqlitestore: %s: the store %s is open read-only", what, s.path)
	}
	return s.retry(ctx, what, func() error { return s.tx1(ctx, what, fn) })
}

func (s *Store) tx1(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: begin: %w", what, err)
	}
	s.writes.Add(1) // inside the transaction: the writer runs one at a time
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

// pt parses a stored time.
func pt(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	if t, ok := parseTS(s); ok {
		return t
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// js returns stored JSON text for a raw message ("null" when empty).
//
// The string shares m's bytes instead of copying them (a 10 MB output was
// copied once more for every write of it): the driver copies a bound
// string into SQLite's memory while the statement runs, and no caller
// changes a value's encoding after handing it to the store.
func js(m []byte) string {
	if len(m) == 0 {
		return "null"
	}
	return unsafe.String(unsafe.SliceData(m), len(m))
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
