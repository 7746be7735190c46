package sqlitestore

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// createdStore returns the bytes of a store created the long way: an
// empty file, the schema's statements (Migrate), applied_at set to
// imageAppliedAt, closed (which checkpoints the log into the file).
func createdStore(t *testing.T) []byte {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "created.db")
	s, err := Open(ctx, path, Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx, Up, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `UPDATE schema_migration SET applied_at = ?`, imageAppliedAt); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFreshImageIsTheCreatedStore: fresh.db is byte for byte the store
// that the schema's statements create in an empty file (so a store
// created from it is that store), of the latest version, with one
// applied_at to fill in per migration. SMITHC_UPDATE=1 rewrites it
// (after a migration, or an update of SQLite that changes what it
// writes).
func TestFreshImageIsTheCreatedStore(t *testing.T) {
	want := createdStore(t)
	if os.Getenv("SMITHC_UPDATE") != "" && !bytes.Equal(want, freshImage) {
		if err := os.WriteFile("fresh.db", want, 0o644); err != nil {
			t.Fatal(err)
		}
		freshImage = want
	}
	if !bytes.Equal(want, freshImage) {
		t.Fatalf("fresh.db (%d bytes) is not the store the schema creates (%d bytes): run SMITHC_UPDATE=1 go test -run TestFreshImageIsTheCreatedStore ./runtime/store/sqlitestore (after TestFreshSchemaIsTheMigratedSchema, when a migration was added)", len(freshImage), len(want))
	}
	if got := imageVersion(freshImage); got != latestVersion() {
		t.Errorf("fresh.db stamps version %d, want %d", got, latestVersion())
	}
	all, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if got := bytes.Count(freshImage, []byte(imageAppliedAt)); got != len(all) {
		t.Errorf("fresh.db holds %d applied_at to fill in, want one per migration (%d)", got, len(all))
	}
	if imageVersion(freshImage[:99]) != 0 || imageVersion([]byte("SQLite format 2\x00"+string(freshImage[16:]))) != 0 {
		t.Error("imageVersion reads a version from what is not a SQLite file")
	}
}

// TestNewStoreFromImage: a store created by Open is whole and usable, in
// WAL mode, of mode 0600, with the time of its creation as applied_at and
// nothing left beside it; several processes' worth of opens of one new
// path at once all open the same store.
func TestNewStoreFromImage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "new.db")
	before := time.Now().UTC().Add(-time.Second).Format("2006-01-02T15:04:05.000Z")
	const n = 8
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(ctx, path, Options{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	s := stores[0]
	var check, mode string
	if err := s.DB().QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q %v", check, err)
	}
	if err := s.DB().QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode: %q %v", mode, err)
	}
	if v, err := s.Version(ctx); err != nil || v != latestVersion() {
		t.Errorf("version %d %v, want %d", v, err, latestVersion())
	}
	rows, err := s.DB().QueryContext(ctx, `SELECT applied_at FROM schema_migration`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var at string
		if err := rows.Scan(&at); err != nil {
			t.Fatal(err)
		}
		if at < before || at > time.Now().UTC().Add(time.Second).Format("2006-01-02T15:04:05.000Z") {
			t.Errorf("applied_at %q, want the time of the creation (after %s)", at, before)
		}
	}
	rows.Close()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v %v, want 0600", fi.Mode(), err)
	}
	// Every open wrote to the one store.
	for i, st := range stores {
		if _, err := st.DB().ExecContext(ctx, `INSERT INTO schema_migration (version, name) VALUES (?, ?)`, 1000+i, fmt.Sprint("probe", i)); err != nil {
			t.Fatalf("write through open %d: %v", i, err)
		}
	}
	var count int
	if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM schema_migration WHERE version >= 1000`).Scan(&count); err != nil || count != n {
		t.Errorf("%d rows written through the %d opens are in the store (%v)", count, n, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		switch e.Name() {
		case "new.db", "new.db-wal", "new.db-shm":
		default:
			t.Errorf("left beside the store: %s", e.Name())
		}
	}
}

// TestNewStoreWithoutImage: with an image of another version (a
// migration added, the image not regenerated: the test above fails
// too), a new store is created by the schema's statements instead, and
// is the same store.
func TestNewStoreWithoutImage(t *testing.T) {
	img := freshImage
	freshImage = append([]byte(nil), img...)
	freshImage[63]++ // user_version + 1
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new.db")
	s, err := Open(ctx, path, Options{})
	freshImage = img
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Written from the altered image, the store would be of a newer
	// version than this binary knows, and refused.
	if v, err := s.Version(ctx); err != nil || v != latestVersion() {
		t.Errorf("version %d %v, want %d", v, err, latestVersion())
	}
	objects, migrations, version := dumpSchema(t, s)
	other, err := Open(ctx, filepath.Join(t.TempDir(), "image.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	wantObjects, wantMigrations, wantVersion := dumpSchema(t, other)
	if fmt.Sprint(objects, migrations, version) != fmt.Sprint(wantObjects, wantMigrations, wantVersion) {
		t.Errorf("a store created without the image is not the one from it:\n%v\n%v", objects, wantObjects)
	}
}
