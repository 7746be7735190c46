package sqlitestore_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"modernc.org/sqlite"

	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
)

// statements records, per database path, each connection opened to it
// ("connection") and what SQLite compiles on it: SQLite calls the authorizer of a connection
// once per action of each statement it prepares (a PRAGMA, a table read,
// a BEGIN, an INSERT, ...). The connection's own setup (the pragmas of
// its DSN) runs before the hook and is not recorded.
var statements = struct {
	sync.Mutex
	byPath map[string]*[]string
}{byPath: map[string]*[]string{}}

func init() {
	sqlite.RegisterConnectionHook(func(conn sqlite.ExecQuerierContext, dsn string) error {
		statements.Lock()
		defer statements.Unlock()
		for path, log := range statements.byPath {
			if !strings.HasPrefix(dsn, "file:"+(&url.URL{Path: path}).EscapedPath()+"?") {
				continue
			}
			*log = append(*log, "connection")
			return conn.(sqlite.AuthorizerRegisterer).RegisterAuthorizer(func(action sqlite.AuthorizerActionCode, arg1, arg2, _, _ string) sqlite.AuthorizerReturnCode {
				statements.Lock()
				*log = append(*log, authAction(action, arg1, arg2))
				statements.Unlock()
				return sqlite.AuthorizerOK
			})
		}
		return nil
	})
}

func authAction(a sqlite.AuthorizerActionCode, arg1, arg2 string) string {
	switch a {
	case sqlite.AuthPragma:
		return "PRAGMA " + arg1
	case sqlite.AuthRead:
		return "read " + arg1
	case sqlite.AuthSelect:
		return "SELECT"
	case sqlite.AuthTransaction:
		return arg1 // BEGIN, COMMIT, ROLLBACK
	case sqlite.AuthInsert:
		return "INSERT " + arg1
	case sqlite.AuthUpdate:
		return "UPDATE " + arg1
	case sqlite.AuthDelete:
		return "DELETE " + arg1
	case sqlite.AuthCreateTable:
		return "CREATE TABLE " + arg1
	case sqlite.AuthCreateIndex:
		return "CREATE INDEX " + arg1
	case sqlite.AuthDropTable:
		return "DROP TABLE " + arg1
	case sqlite.AuthDropIndex:
		return "DROP INDEX " + arg1
	case sqlite.AuthAlterTable:
		return "ALTER TABLE " + arg2
	case sqlite.AuthFunction:
		return "function " + arg2
	}
	return "action " + arg1
}

// recordStatements starts recording the statements of connections to
// path opened from now on; the returned function returns them.
func recordStatements(t *testing.T, path string) func() []string {
	t.Helper()
	log := &[]string{}
	statements.Lock()
	statements.byPath[path] = log
	statements.Unlock()
	t.Cleanup(func() {
		statements.Lock()
		delete(statements.byPath, path)
		statements.Unlock()
	})
	return func() []string {
		statements.Lock()
		defer statements.Unlock()
		return append([]string(nil), *log...)
	}
}

// openRecorded opens a new store, closed at the test's end, recording
// its statements from the start. With empty, the file exists empty
// before the open (a store no image is written for: Migrate creates the
// schema in it).
func openRecorded(t *testing.T, empty bool) (*sqlitestore.Store, func() []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "smithers.db")
	if empty {
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got := recordStatements(t, path)
	s, err := sqlitestore.Open(context.Background(), path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, got
}

// TestOpenOfAnUpToDateStoreReadsOneHeaderField: opening a store whose
// schema is current opens one connection (the writer's; the readers'
// pool connects on the first read), and its migration step is one PRAGMA
// user_version (a field of the file's header): no table is read, no
// transaction begins.
func TestOpenOfAnUpToDateStoreReadsOneHeaderField(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "smithers.db")
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	got := recordStatements(t, path)
	s, err = sqlitestore.Open(ctx, path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if diff := cmp.Diff([]string{"connection", "PRAGMA user_version"}, got()); diff != "" {
		t.Errorf("connections and statements of an open of an up-to-date store (-want +got):\n%s", diff)
	}
}

// TestOpenOfANewStoreRunsNoStatement: a new store is written from the
// image of an empty store of the latest schema (createFromImage): its
// open then runs what the open of an up-to-date store runs, one
// connection and one header read, and no CREATE.
func TestOpenOfANewStoreRunsNoStatement(t *testing.T) {
	t.Parallel()
	_, got := openRecorded(t, false)
	if diff := cmp.Diff([]string{"connection", "PRAGMA user_version"}, got()); diff != "" {
		t.Errorf("connections and statements of the open of a new store (-want +got):\n%s", diff)
	}
}

// TestOpenOfANewStoreCreatesTheSchemaAtOnce: a store in an empty file
// (one created before the open, or where no image can be linked) gets
// the latest schema in one step: its tables and indexes are created as
// they are in the latest version, none is altered, renamed or dropped (as
// replaying the migrations would: 0005 rebuilds event and
// node_type_idx), and every migration is recorded.
func TestOpenOfANewStoreCreatesTheSchemaAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, got := openRecorded(t, true)
	created := map[string]int{}
	var recorded int
	for _, a := range got() {
		switch {
		case strings.HasPrefix(a, "CREATE "):
			created[a]++
		case strings.HasPrefix(a, "ALTER ") || strings.HasPrefix(a, "DROP "):
			t.Errorf("a new store's creation did %q", a)
		case a == "INSERT schema_migration":
			recorded++
		}
	}
	for _, want := range []string{"CREATE TABLE run", "CREATE TABLE event", "CREATE INDEX event_run_idx", "CREATE INDEX node_type_idx"} {
		if created[want] == 0 {
			t.Errorf("a new store's creation did not %q: %v", want, created)
		}
	}
	if v, err := s.Version(ctx); err != nil || recorded != v {
		t.Errorf("a new store recorded %d migrations, its version is %d (%v)", recorded, v, err)
	}
}

// TestOpenStampsAStoreOfAnOlderSmithcOnce: a store migrated by a smithc
// that kept its version only in schema_migration (user_version 0) is
// read and stamped by the first open, in one transaction that applies no
// migration; every later open reads the header only.
func TestOpenStampsAStoreOfAnOlderSmithcOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "smithers.db")
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	latest, err := s.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA user_version = 0`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	got := recordStatements(t, path)
	s, err = sqlitestore.Open(ctx, path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	first := got()
	s.Close()
	for _, want := range []string{"read schema_migration", "BEGIN", "PRAGMA user_version", "COMMIT"} {
		if !contains(first, want) {
			t.Errorf("the first open of an unstamped store did not %q: %q", want, first)
		}
	}
	if contains(first, "INSERT schema_migration") {
		t.Errorf("the first open of an unstamped, current store applied a migration: %q", first)
	}

	n := len(first)
	s, err = sqlitestore.Open(ctx, path, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if diff := cmp.Diff([]string{"connection", "PRAGMA user_version"}, got()[n:]); diff != "" {
		t.Errorf("statements of the second open (-want +got):\n%s", diff)
	}
	if v, err := s.Version(ctx); err != nil || v != latest {
		t.Errorf("version after the stamp: %d, %v; want %d", v, err, latest)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestRunCreateWritesItsSourcesOnly: creating a run inserts its row and
// its sources and deletes nothing (a new run has no sources to replace);
// replacing the sources of an existing run deletes its old list first.
func TestRunCreateWritesItsSourcesOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, got := openRecorded(t, false)
	n0 := len(got())
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	src := []*store.SourceFile{{Path: "a.smw", Content: []byte("workflow a {}\n")}}
	if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: "r", Workflow: "a", Status: store.RunRunning}, Sources: src, Now: now}); err != nil {
		t.Fatal(err)
	}
	for _, a := range got()[n0:] {
		if strings.HasPrefix(a, "DELETE ") {
			t.Errorf("RunCreate of a new run compiled %q", a)
		}
	}
	list, err := s.RunSourceList(ctx, &store.RunSourceListParams{RunID: "r"})
	if err != nil || len(list) != 1 || list[0].Path != "a.smw" {
		t.Fatalf("sources of the new run: %+v, %v", list, err)
	}
	edited := []*store.SourceFile{{Path: "b.smw", Content: []byte("workflow b {}\n")}}
	if _, err := s.RunUpdate(ctx, &store.RunUpdateParams{ID: "r", Sources: edited, Now: now}); err != nil {
		t.Fatal(err)
	}
	list, err = s.RunSourceList(ctx, &store.RunSourceListParams{RunID: "r"})
	if err != nil || len(list) != 1 || list[0].Path != "b.smw" {
		t.Fatalf("sources after they were replaced: %+v, %v", list, err)
	}
}
