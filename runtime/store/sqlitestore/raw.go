package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
)

// execer is what a write transaction's statements run on: a *sql.Tx, or
// the writer's *sql.Conn in a BatchCommit transaction (wtx).
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// wtx is a BatchCommit transaction: BEGIN IMMEDIATE ... COMMIT on the
// writer's connection (s.w has one), held for the whole batch. Its
// frequent statements (the multi-row inserts of nodes, attempts and
// events, an attempt's finish, the fence and seq reads) run on the
// driver's connection itself (sql.Conn.Raw), prepared once per
// connection, with their arguments built in one reused
// []driver.NamedValue: database/sql copies and converts the arguments of
// every call (a []driver.NamedValue of 64 rows × 16 columns for each
// multi-row insert), which was a fifth of a batch's allocations. Other
// statements go through conn.
type wtx struct {
	s    *Store
	ctx  context.Context
	conn *sql.Conn
	args []driver.NamedValue
}

// rawStmts are the statements prepared on the writer's driver connection
// dc. They are used, prepared and closed only while the writer's
// connection is held (a wtx, or Close).
type rawStmts struct {
	dc    any
	stmts map[string]driver.Stmt
}

// batchTx runs fn in one write transaction on the writer's connection.
// Like tx1 it begins IMMEDIATE (a busy database fails at BEGIN, and
// retry runs the whole again) and counts the write in s.writes.
func (s *Store) batchTx(ctx context.Context, what string, fn func(t *wtx) error) error {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", what, err)
	}
	defer conn.Close()
	t := &wtx{s: s, ctx: ctx, conn: conn, args: s.args[:0]}
	if _, err = conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		// (a BEGIN that took effect may still be reported as interrupted
		// by ctx: the ROLLBACK below ends it)
		err = fmt.Errorf("sqlitestore: %s: begin: %w", what, err)
	} else {
		s.writes.Add(1) // inside the transaction: the writer runs one at a time
		err = fn(t)
	}
	if err == nil {
		// Not interrupted by ctx: the driver reports a statement it
		// interrupted as ctx's error, which must not happen to a COMMIT
		// that took effect (as the driver's Tx.Commit ensures). It waits
		// for nothing: this connection holds the write lock.
		if _, err = conn.ExecContext(context.Background(), `COMMIT`); err != nil {
			err = fmt.Errorf("sqlitestore: %s: commit: %w", what, err)
		} else if s.ckpt != nil {
			conn.Raw(func(dc any) error { s.ckpt.wrote(dc); return nil }) //nolint:errcheck // f returns nil
			s.ckpt.committed(conn)
		}
	}
	if err != nil {
		// A failed COMMIT may have ended the transaction already; a
		// connection left in an unknown state is not given back to the
		// pool (database/sql closes it on driver.ErrBadConn), its
		// statements closed first.
		if _, rerr := conn.ExecContext(context.Background(), `ROLLBACK`); rerr != nil && !isNoTransaction(rerr) {
			conn.Raw(func(dc any) error { //nolint:errcheck // ErrBadConn is the point
				s.closeRaw(dc)
				return driver.ErrBadConn
			})
		}
	}
	clear(t.args)
	s.args = t.args[:0]
	return err
}

// isNoTransaction reports the ROLLBACK of a transaction that a failed
// statement (or COMMIT) has ended already.
func isNoTransaction(err error) bool {
	return strings.Contains(driverMessage(err), "no transaction is active")
}

// arg appends one argument of the next statement.
func (t *wtx) arg(v driver.Value) {
	t.args = append(t.args, driver.NamedValue{Ordinal: len(t.args) + 1, Value: v})
}

// exec runs query with the arguments appended since the last statement
// and returns the rows it changed.
func (t *wtx) exec(query string) (int64, error) {
	var n int64
	err := t.conn.Raw(func(dc any) error {
		st, err := t.s.rawStmt(t.ctx, dc, query)
		if err != nil {
			return err
		}
		ex, ok := st.(driver.StmtExecContext)
		if !ok {
			return fmt.Errorf("sqlitestore: the driver's statements cannot execute with a context")
		}
		res, err := ex.ExecContext(t.ctx, t.args)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	clear(t.args)
	t.args = t.args[:0]
	return n, err
}

// queryRow runs query with the arguments appended since the last
// statement and reads its first row into dest; it returns
// sql.ErrNoRows when there is none.
func (t *wtx) queryRow(query string, dest ...any) error {
	err := t.conn.Raw(func(dc any) error {
		st, err := t.s.rawStmt(t.ctx, dc, query)
		if err != nil {
			return err
		}
		q, ok := st.(driver.StmtQueryContext)
		if !ok {
			return fmt.Errorf("sqlitestore: the driver's statements cannot query with a context")
		}
		rows, err := q.QueryContext(t.ctx, t.args)
		if err != nil {
			return err
		}
		vals := make([]driver.Value, len(rows.Columns()))
		err = rows.Next(vals)
		if cerr := rows.Close(); cerr != nil && (err == nil || errors.Is(err, io.EOF)) {
			return cerr
		}
		if errors.Is(err, io.EOF) {
			return sql.ErrNoRows
		}
		if err != nil {
			return err
		}
		if len(vals) != len(dest) {
			return fmt.Errorf("sqlitestore: %d columns read into %d values", len(vals), len(dest))
		}
		for i, v := range vals {
			if err := assign(dest[i], v); err != nil {
				return fmt.Errorf("sqlitestore: column %d: %w", i+1, err)
			}
		}
		return nil
	})
	clear(t.args)
	t.args = t.args[:0]
	return err
}

// assign stores a column's value (as the driver returns it: int64,
// string, []byte or nil) in *string or *int64.
func assign(dest any, v driver.Value) error {
	switch d := dest.(type) {
	case *int64:
		switch x := v.(type) {
		case int64:
			*d = x
			return nil
		case nil:
			*d = 0
			return nil
		}
	case *string:
		switch x := v.(type) {
		case string:
			*d = x
			return nil
		case []byte:
			*d = string(x)
			return nil
		case nil:
			*d = ""
			return nil
		}
	}
	return fmt.Errorf("cannot read %T into %T", v, dest)
}

// rawStmt returns query prepared on the driver connection dc.
func (s *Store) rawStmt(ctx context.Context, dc any, query string) (driver.Stmt, error) {
	if s.raw.dc != dc {
		// database/sql replaced the writer's connection: the statements of
		// the one before were closed with it (closeRaw).
		s.raw = rawStmts{dc: dc, stmts: map[string]driver.Stmt{}}
	}
	if st := s.raw.stmts[query]; st != nil {
		return st, nil
	}
	pc, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, fmt.Errorf("sqlitestore: prepare: the driver's connection cannot prepare with a context")
	}
	st, err := pc.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: prepare: %w", err)
	}
	s.raw.stmts[query] = st
	return st, nil
}

// closeRaw closes the statements prepared on dc.
func (s *Store) closeRaw(dc any) {
	if s.raw.dc == dc {
		for _, st := range s.raw.stmts {
			st.Close()
		}
	}
	s.raw = rawStmts{}
}
