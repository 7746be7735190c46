package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/smithc/smithc/runtime/store"
)

const runCols = `id, workflow, parent_run_id, parent_node, source_path, source_hash, input,
	status, output, error, owner, owner_start, lease_expires_at, cancel_requested,
	created_at, updated_at, finished_at, pause_requested, fence`

// runSelect reads runCols, a long input from run_input (see inputApart).
var runSelect = "SELECT " + strings.Replace(runCols, " input,",
	" CASE WHEN input = '' THEN coalesce((SELECT run_input.input FROM run_input WHERE run_input.run_id = run.id), 'null') ELSE input END,", 1) + " FROM run"

// runSelectNoInput reads runCols with no input (Input is nil): the
// light read of a run's state (RunGetByIDParams.NoInput, RunHeartbeat).
var runSelectNoInput = "SELECT " + strings.Replace(runCols, " input,", " 'null',", 1) + " FROM run"

// inputApart is the length of stored input past which a run's input is
// kept in run_input, not in its row (migration 0008): SQLite rewrites a
// whole row at every update, and a run's row is updated at each session's
// start and end and at every lease renewal. A one-step run with a 10 MB
// input went from 467 to 399 ms (interleaved medians of 7) and from 128
// to 118 MB of peak RSS; the database file a three-second run of it
// leaves from 20 to 10 MB (the row's old copies were pages freed, not
// given back).
const inputApart = 1 << 10

type scanner interface{ Scan(dest ...any) error }

func scanRun(sc scanner) (*store.Run, error) {
	var r store.Run
	var input, output, lease, created, updated, finished string
	var cancel, pause int
	if err := sc.Scan(&r.ID, &r.Workflow, &r.ParentRunID, &r.ParentNode, &r.SourcePath, &r.SourceHash,
		&input, &r.Status, &output, &r.Error, &r.Owner, &r.OwnerStart, &lease, &cancel,
		&created, &updated, &finished, &pause, &r.Fence); err != nil {
		return nil, err
	}
	r.PauseRequested = pause != 0
	r.Input, r.Output = rj(input), rj(output)
	r.LeaseExpiresAt, r.CreatedAt, r.UpdatedAt, r.FinishedAt = pt(lease), pt(created), pt(updated), pt(finished)
	r.CancelRequested = cancel != 0
	return &r, nil
}

// RunCreate implements store.Store.
func (s *Store) RunCreate(ctx context.Context, p *store.RunCreateParams) (*store.Run, error) {
	r := *p.Run
	if r.CreatedAt.IsZero() {
		r.CreatedAt = p.Now
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	err := s.tx(ctx, "create run", func(tx *sql.Tx) error {
		// One statement: an existing id inserts nothing (and is refused).
		in := js(r.Input)
		inline := in
		if len(in) > inputApart {
			inline = ""
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO run (`+runCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO NOTHING`,
			r.ID, r.Workflow, r.ParentRunID, r.ParentNode, r.SourcePath, r.SourceHash, inline,
			r.Status, js(r.Output), r.Error, r.Owner, r.OwnerStart, ts(r.LeaseExpiresAt), b2i(r.CancelRequested),
			ts(r.CreatedAt), ts(r.UpdatedAt), ts(r.FinishedAt), b2i(r.PauseRequested), r.Fence)
		if err != nil {
			return fmt.Errorf("sqlitestore: create run %q: %w", r.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("sqlitestore: create run %q: %w", r.ID, err)
		}
		if n == 0 {
			return fmt.Errorf("sqlitestore: create run %q: %w: a run with this id exists", r.ID, store.ErrConflict)
		}
		if inline == "" {
			if _, err := tx.ExecContext(ctx, `INSERT INTO run_input (run_id, input) VALUES (?, ?)`, r.ID, in); err != nil {
				return fmt.Errorf("sqlitestore: create run %q: its input: %w", r.ID, err)
			}
		}
		return sourcesSet(ctx, tx, r.ID, p.Sources, true)
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// RunGetByID implements store.Store.
func (s *Store) RunGetByID(ctx context.Context, p *store.RunGetByIDParams) (*store.Run, error) {
	if p.NoInput {
		return getRunSelect(ctx, s.r, runSelectNoInput, p.ID)
	}
	return getRun(ctx, s.r, p.ID)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getRun(ctx context.Context, q querier, id string) (*store.Run, error) {
	return getRunSelect(ctx, q, runSelect, id)
}

// getRunSelect reads run id with sel (runSelect or runSelectNoInput).
func getRunSelect(ctx context.Context, q querier, sel, id string) (*store.Run, error) {
	r, err := scanRun(q.QueryRowContext(ctx, sel+` WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlitestore: run %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: get run %q: %w", id, err)
	}
	return r, nil
}

// RunList implements store.Store.
func (s *Store) RunList(ctx context.Context, p *store.RunListParams) ([]*store.Run, error) {
	var where []string
	var args []any
	if len(p.Statuses) > 0 {
		where = append(where, "status IN ("+strings.TrimSuffix(strings.Repeat("?,", len(p.Statuses)), ",")+")")
		for _, st := range p.Statuses {
			args = append(args, string(st))
		}
	}
	if p.Workflow != "" {
		where = append(where, "workflow = ?")
		args = append(args, p.Workflow)
	}
	if p.ParentRunID != "" {
		where = append(where, "parent_run_id = ?")
		args = append(args, p.ParentRunID)
	}
	if !p.FreeAt.IsZero() {
		where = append(where, "(owner = '' OR (lease_expires_at <> '' AND lease_expires_at < ?))")
		args = append(args, ts(p.FreeAt))
	}
	q := runSelect
	if p.NoInput {
		q = runSelectNoInput
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if p.Oldest {
		q += " ORDER BY created_at, id"
	} else {
		q += " ORDER BY created_at DESC, id DESC"
	}
	if p.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", p.Limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list runs: %w", err)
	}
	defer rows.Close()
	var out []*store.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list runs: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list runs: %w", err)
	}
	return out, nil
}

// RunUpdate implements store.Store.
func (s *Store) RunUpdate(ctx context.Context, p *store.RunUpdateParams) (*store.Run, error) {
	var r *store.Run
	err := s.tx(ctx, "update run", func(tx *sql.Tx) error {
		if err := runUpdate(ctx, tx, p); err != nil {
			return err
		}
		var err error
		r, err = getRun(ctx, tx, p.ID)
		return err
	})
	return r, err
}

func runUpdate(ctx context.Context, tx execer, p *store.RunUpdateParams) error {
	sets := []string{"updated_at = ?"}
	args := []any{ts(p.Now)}
	add := func(col string, v any) {
		sets = append(sets, col+" = ?")
		args = append(args, v)
	}
	if p.Status != nil {
		add("status", string(*p.Status))
	}
	if p.Output != nil {
		add("output", js(p.Output))
	}
	if p.Error != nil {
		add("error", *p.Error)
	}
	if p.Owner != nil {
		add("owner", *p.Owner)
	}
	if p.OwnerStart != nil {
		add("owner_start", *p.OwnerStart)
	}
	if p.LeaseExpiresAt != nil {
		add("lease_expires_at", ts(*p.LeaseExpiresAt))
	}
	if p.CancelRequested != nil {
		add("cancel_requested", b2i(*p.CancelRequested))
	}
	if p.PauseRequested != nil {
		add("pause_requested", b2i(*p.PauseRequested))
	}
	if p.SourceHash != nil {
		add("source_hash", *p.SourceHash)
	}
	if p.FinishedAt != nil {
		add("finished_at", ts(*p.FinishedAt))
	}
	q := `UPDATE run SET ` + strings.Join(sets, ", ") + ` WHERE id = ?`
	args = append(args, p.ID)
	if p.IfOwner != nil {
		q += ` AND owner = ?`
		args = append(args, *p.IfOwner)
	}
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("sqlitestore: update run %q: %w", p.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := getRun(ctx, tx, p.ID); err != nil {
			return err
		}
		return fmt.Errorf("sqlitestore: update run %q: %w: owned by another process", p.ID, store.ErrConflict)
	}
	if p.Sources != nil {
		return sourcesSet(ctx, tx, p.ID, p.Sources, false)
	}
	return nil
}

// RunClaim implements store.Store.
func (s *Store) RunClaim(ctx context.Context, p *store.RunClaimParams) (*store.Run, error) {
	var r *store.Run
	err := s.tx(ctx, "claim run", func(tx *sql.Tx) error {
		cur, err := getRun(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		free := cur.Owner == "" || cur.Owner == p.Owner && cur.OwnerStart == p.OwnerStart ||
			p.ExpectOwner != "" && cur.Owner == p.ExpectOwner ||
			!cur.LeaseExpiresAt.IsZero() && cur.LeaseExpiresAt.Before(p.Now)
		if !free {
			return fmt.Errorf("sqlitestore: claim run %q: %w: owned by %s until %s", p.ID, store.ErrConflict,
				cur.Owner, cur.LeaseExpiresAt.Format("15:04:05"))
		}
		q := `UPDATE run SET owner = ?, owner_start = ?, lease_expires_at = ?, updated_at = ?, fence = fence + 1`
		if p.ClearCancel {
			q += `, cancel_requested = 0`
		}
		if p.ClearPause {
			q += `, pause_requested = 0`
		}
		if _, err := tx.ExecContext(ctx, q+` WHERE id = ?`, p.Owner, p.OwnerStart, ts(p.LeaseExpiresAt), ts(p.Now), p.ID); err != nil {
			return fmt.Errorf("sqlitestore: claim run %q: %w", p.ID, err)
		}
		r, err = getRun(ctx, tx, p.ID)
		return err
	})
	return r, err
}

// RunHeartbeat implements store.Store.
func (s *Store) RunHeartbeat(ctx context.Context, p *store.RunHeartbeatParams) (*store.Run, error) {
	var r *store.Run
	err := s.tx(ctx, "heartbeat run", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE run SET lease_expires_at = ?, updated_at = ? WHERE id = ? AND owner = ? AND (? = 0 OR fence = ?)`,
			ts(p.LeaseExpiresAt), ts(p.Now), p.ID, p.Owner, p.Fence, p.Fence)
		if err != nil {
			return fmt.Errorf("sqlitestore: heartbeat run %q: %w", p.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := getRun(ctx, tx, p.ID); err != nil {
				return err
			}
			return fmt.Errorf("sqlitestore: heartbeat run %q: %w: no longer owned by %s (fence %d)", p.ID, store.ErrConflict, p.Owner, p.Fence)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE attempt SET lease_expires_at = ?, heartbeat_at = ?
			WHERE run_id = ? AND owner = ? AND state = 'running'`, ts(p.LeaseExpiresAt), ts(p.Now), p.ID, p.Owner); err != nil {
			return fmt.Errorf("sqlitestore: heartbeat attempts of run %q: %w", p.ID, err)
		}
		r, err = getRunSelect(ctx, tx, runSelectNoInput, p.ID)
		return err
	})
	return r, err
}

// RunCancelRequest implements store.Store.
func (s *Store) RunCancelRequest(ctx context.Context, p *store.RunCancelRequestParams) (*store.Run, error) {
	t := true
	return s.RunUpdate(ctx, &store.RunUpdateParams{ID: p.ID, CancelRequested: &t, Now: p.Now})
}

// fenceSQL reads a run's owner and fence, and the highest event seq (a
// batch numbers its events from it: see eventAppendN).
const fenceSQL = `SELECT owner, fence, (SELECT coalesce(max(seq), 0) FROM event) FROM run WHERE id = ?`

// fenceState is a fenced batch's view of the database at its commit:
// the data_version it read, the write transaction it was (Store.writes),
// the fence it checked and the last event seq it wrote.
type fenceState struct {
	ok          bool
	dataVersion int64
	write       uint64
	fence       store.Fence
	seq         int64
}

// dataVersionSQL reads SQLite's data_version: it changes when another
// connection (another process, or this one's readers, which never write)
// commits, and not for this connection's own commits.
const dataVersionSQL = `PRAGMA data_version`

// fenceKnown returns the highest event seq when the fence check of the
// last fenced batch still holds for this one without reading the run row:
// the same fence, this is the next write transaction on the writer after
// that batch's (no other write of this process in between), and
// data_version is unchanged (no other connection committed since). The
// run's owner and fence, and the event table, are then as that batch left
// them. Otherwise it returns ok false and the batch checks the fence.
func (s *Store) fenceKnown(t *wtx, f *store.Fence) (dv int64, seq int64, ok bool, err error) {
	if err := t.queryRow(dataVersionSQL, &dv); err != nil {
		return 0, 0, false, fmt.Errorf("sqlitestore: read data_version: %w", err)
	}
	s.fenceMu.Lock()
	last := s.fence
	s.fenceMu.Unlock()
	if last.ok && last.dataVersion == dv && last.write+1 == s.writes.Load() && last.fence == *f {
		return dv, last.seq, true, nil
	}
	return dv, 0, false, nil
}

// checkFence fails with ErrConflict unless the run is owned by f.Owner
// with token f.Token; it returns the highest event seq.
func checkFence(t *wtx, f *store.Fence) (int64, error) {
	var owner string
	var token, seq int64
	t.arg(f.RunID)
	err := t.queryRow(fenceSQL, &owner, &token, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlitestore: run %q: %w", f.RunID, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: check the fence of run %q: %w", f.RunID, err)
	}
	if owner != f.Owner || token != f.Token {
		return 0, fmt.Errorf("sqlitestore: commit to run %q: %w: it is owned by %q with fence %d, not %q with %d (a newer owner took it over)",
			f.RunID, store.ErrConflict, owner, token, f.Owner, f.Token)
	}
	return seq, nil
}
