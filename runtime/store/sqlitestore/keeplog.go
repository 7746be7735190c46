package sqlitestore

import (
	"os"
	"reflect"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// closeCheckpointBytes is the length of the -wal file from which Close
// checkpoints it into the database file (and truncates it). A shorter
// log is left for the next process to append to: a checkpoint at every
// exit cost a short command (smithc run of one step, smithc approve) two
// fsyncs, the copy and a truncation at its close, and the next one's
// first commit a rewritten, fsynced log header and an fsync of the
// directory: a one-step smithc run went from 11.85 to 10.77 ms with this
// (interleaved medians of 41). What the next process pays for it is
// reading the log once at open to rebuild its index, at most this
// length (512 KiB is about 127 frames of 4 KiB): an open with a log of
// 0 to 400 KB measured 1.4 to 1.8 ms, with no trend above that noise
// (medians of 21 each). A one-step run adds about 14 frames, so Close
// checkpoints at one exit in eight or nine.
//
// It changes what survives power loss only in a way synchronous=NORMAL
// already allows: a commit in the WAL is fsynced at the next checkpoint,
// not when it is made, so an OS crash or power loss can roll back the
// last commits, now including those of the last commands that exited
// (never corrupting the database). With synchronous=FULL every commit is
// fsynced as it is made, and the log left at exit is as durable as the
// database file. The database file alone no longer holds every commit
// after a close: the store is the file with its -wal (docs/runtime.md).
const closeCheckpointBytes = 512 << 10

// keepLog reports whether the writer's close should leave the log to the
// next process: the -wal file is shorter than closeCheckpointBytes. The
// file's length bounds the frames in it from above (a log restarted
// from its start keeps its length), so a long file is checkpointed even
// if most of it is stale.
func (s *Store) keepLog() bool {
	fi, err := os.Stat(s.path + "-wal")
	return err == nil && fi.Size() < closeCheckpointBytes
}

// noCheckpointOnClose sets SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE on dc, a
// modernc.org/sqlite driver connection, and reports whether it could:
// closing the connection then leaves the WAL as it is, even when it is
// the database's last connection. modernc.org/sqlite calls
// sqlite3_db_config only for the options its DSN names (_dqs,
// _defensive), so this does what its own conn.dbConfigBool does, with
// the connection's handle and thread state read by reflection. A driver
// whose connection no longer has them (another version) gets false, and
// its close checkpoints as it always did (TestShortLogOutlivesClose
// fails, so that the loss is seen).
func noCheckpointOnClose(dc any) bool {
	v := reflect.ValueOf(dc)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return false
	}
	db, tls := v.Elem().FieldByName("db"), v.Elem().FieldByName("tls")
	if !db.IsValid() || db.Kind() != reflect.Uintptr || db.Uint() == 0 ||
		!tls.IsValid() || tls.Type() != reflect.TypeFor[*libc.TLS]() || tls.IsNil() {
		return false
	}
	t := (*libc.TLS)(tls.UnsafePointer())
	const vaSlot = 8 // libc.VaList's stride per argument
	bp := libc.Xmalloc(t, 2*vaSlot)
	if bp == 0 {
		return false
	}
	defer libc.Xfree(t, bp)
	rc := sqlite3.Xsqlite3_db_config(t, uintptr(db.Uint()), sqlite3.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, libc.VaList(bp, int32(1), uintptr(0)))
	return rc == sqlite3.SQLITE_OK
}
