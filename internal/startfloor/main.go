// Command startfloor is the start-up floor of a one-step smithc run: a Go
// program linked with the same SQLite (modernc.org/sqlite, no cgo) that
// does the store work such a run needs and nothing else. It opens the
// database file with the pragmas sqlitestore uses, reads its schema
// version, commits a run row in one transaction and a step's node,
// attempt and three events with the run's end in a second, and closes it
// (which checkpoints the log, as smithc's close does). The targets table
// (runtime/targets_bench_test.go) and internal/startbench report a
// one-step `smithc run` as a ratio to this program, measured in the same
// run: what the process costs above it is smithc's own.
//
//	startfloor FILE
package main

import (
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: startfloor FILE")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "startfloor:", err)
		os.Exit(1)
	}
}

const schema = `
CREATE TABLE IF NOT EXISTS run (id TEXT PRIMARY KEY, workflow TEXT NOT NULL, status TEXT NOT NULL, input TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS node (run TEXT NOT NULL REFERENCES run (id), id TEXT NOT NULL, state TEXT NOT NULL, output TEXT, updated_at TEXT NOT NULL, PRIMARY KEY (run, id));
CREATE TABLE IF NOT EXISTS attempt (run TEXT NOT NULL REFERENCES run (id), id TEXT NOT NULL, number INTEGER NOT NULL, state TEXT NOT NULL, started_at TEXT NOT NULL, PRIMARY KEY (run, id, number));
CREATE TABLE IF NOT EXISTS event (seq INTEGER PRIMARY KEY, run TEXT NOT NULL REFERENCES run (id), node TEXT NOT NULL, kind TEXT NOT NULL, time TEXT NOT NULL, data TEXT);
PRAGMA user_version = 1;`

func run(path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(1000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)"+
		"&_pragma=synchronous(NORMAL)&_pragma=journal_size_limit(67108864)&_txlock=immediate")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	if v == 0 {
		if _, err := db.Exec(schema); err != nil {
			return err
		}
	}
	now := func() string { return time.Now().UTC().Format(time.RFC3339Nano) }
	id := strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.Itoa(os.Getpid())
	if err := tx(db, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO run (id, workflow, status, input, created_at, updated_at) VALUES (?, 'one', 'running', '{}', ?, ?)`, id, now(), now())
		return err
	}); err != nil {
		return err
	}
	return tx(db, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO node (run, id, state, output, updated_at) VALUES (?, 's0', 'finished', '0', ?)`, id, now()); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO attempt (run, id, number, state, started_at) VALUES (?, 's0', 1, 'finished', ?)`, id, now()); err != nil {
			return err
		}
		for _, kind := range []string{"RunStarted", "NodeFinished", "RunFinished"} {
			if _, err := tx.Exec(`INSERT INTO event (run, node, kind, time, data) VALUES (?, 's0', ?, ?, '{}')`, id, kind, now()); err != nil {
				return err
			}
		}
		_, err := tx.Exec(`UPDATE run SET status = 'finished', updated_at = ? WHERE id = ?`, now(), id)
		return err
	})
}

func tx(db *sql.DB, f func(*sql.Tx) error) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback() //nolint:errcheck // f's error is the one to report
		return err
	}
	return tx.Commit()
}
