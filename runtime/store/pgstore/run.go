package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/smithc/smithc/runtime/store"
)

const runCols = `id, workflow, parent_run_id, parent_node, source_path, source_hash, input,
	status, output, error, owner, owner_start, lease_expires_at, cancel_requested,
	created_at, updated_at, finished_at, pause_requested, fence`

// runColsNoInput is runCols with no input (Input is nil): the light read
// of a run's state (RunGetByIDParams.NoInput, RunHeartbeat).
var runColsNoInput = strings.Replace(runCols, " input,", " 'null'::jsonb,", 1)

func scanRun(row pgx.Row) (*store.Run, error) {
	var r store.Run
	var input, output []byte
	var lease, created, updated, finished pgtype.Timestamptz
	if err := row.Scan(&r.ID, &r.Workflow, &r.ParentRunID, &r.ParentNode, &r.SourcePath, &r.SourceHash,
		&input, &r.Status, &output, &r.Error, &r.Owner, &r.OwnerStart, &lease, &r.CancelRequested,
		&created, &updated, &finished, &r.PauseRequested, &r.Fence); err != nil {
		return nil, err
	}
	r.Input, r.Output = rj(input), rj(output)
	r.LeaseExpiresAt, r.CreatedAt, r.UpdatedAt, r.FinishedAt = pt(lease), pt(created), pt(updated), pt(finished)
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
	err := s.tx(ctx, "create run", []string{r.ID}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO run (`+runCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19)
			ON CONFLICT (id) DO NOTHING`,
			r.ID, r.Workflow, r.ParentRunID, r.ParentNode, r.SourcePath, r.SourceHash, js(r.Input),
			string(r.Status), js(r.Output), r.Error, r.Owner, r.OwnerStart, ts(r.LeaseExpiresAt), r.CancelRequested,
			ts(r.CreatedAt), ts(r.UpdatedAt), ts(r.FinishedAt), r.PauseRequested, r.Fence)
		if err != nil {
			return fmt.Errorf("pgstore: create run %q: %w", r.ID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("pgstore: create run %q: %w: a run with this id exists", r.ID, store.ErrConflict)
		}
		if p.Sources != nil {
			if err := putSources(ctx, tx, r.ID, p.Sources); err != nil {
				return err
			}
		}
		return notify(ctx, tx, r.ID)
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// RunGetByID implements store.Store.
func (s *Store) RunGetByID(ctx context.Context, p *store.RunGetByIDParams) (*store.Run, error) {
	if p.NoInput {
		return getRunCols(ctx, s.pool, runColsNoInput, p.ID, false)
	}
	return getRun(ctx, s.pool, p.ID, false)
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func getRun(ctx context.Context, q querier, id string, forUpdate bool) (*store.Run, error) {
	return getRunCols(ctx, q, runCols, id, forUpdate)
}

// getRunCols reads run id's cols (runCols or runColsNoInput).
func getRunCols(ctx context.Context, q querier, cols, id string, forUpdate bool) (*store.Run, error) {
	sql := `SELECT ` + cols + ` FROM run WHERE id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	r, err := scanRun(q.QueryRow(ctx, sql, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("pgstore: run %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: get run %q: %w", id, err)
	}
	return r, nil
}

// RunList implements store.Store.
func (s *Store) RunList(ctx context.Context, p *store.RunListParams) ([]*store.Run, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if len(p.Statuses) > 0 {
		sts := make([]string, len(p.Statuses))
		for i, st := range p.Statuses {
			sts[i] = string(st)
		}
		where = append(where, "status = ANY("+arg(sts)+")")
	}
	if p.Workflow != "" {
		where = append(where, "workflow = "+arg(p.Workflow))
	}
	if p.ParentRunID != "" {
		where = append(where, "parent_run_id = "+arg(p.ParentRunID))
	}
	if !p.FreeAt.IsZero() {
		where = append(where, "(owner = '' OR lease_expires_at < "+arg(p.FreeAt.UTC())+")")
	}
	cols := runCols
	if p.NoInput {
		cols = runColsNoInput
	}
	q := `SELECT ` + cols + ` FROM run`
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
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list runs: %w", err)
	}
	defer rows.Close()
	var out []*store.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("pgstore: list runs: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: list runs: %w", err)
	}
	return out, nil
}

// RunUpdate implements store.Store.
func (s *Store) RunUpdate(ctx context.Context, p *store.RunUpdateParams) (*store.Run, error) {
	var r *store.Run
	err := s.tx(ctx, "update run", []string{p.ID}, func(tx pgx.Tx) error {
		if err := runUpdate(ctx, tx, p); err != nil {
			return err
		}
		var err error
		r, err = getRun(ctx, tx, p.ID, false)
		return err
	})
	return r, err
}

// runUpdate applies p; it notifies when the status, the owner or the
// cancel request changes (what pollers and workers wait for).
func runUpdate(ctx context.Context, tx pgx.Tx, p *store.RunUpdateParams) error {
	sets, args := runSets(p)
	args = append(args, p.ID)
	q := fmt.Sprintf(`UPDATE run SET %s WHERE id = $%d`, strings.Join(sets, ", "), len(args))
	if p.IfOwner != nil {
		args = append(args, *p.IfOwner)
		q += fmt.Sprintf(` AND owner = $%d`, len(args))
	}
	tag, err := tx.Exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("pgstore: update run %q: %w", p.ID, err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := getRun(ctx, tx, p.ID, false); err != nil {
			return err
		}
		return fmt.Errorf("pgstore: update run %q: %w: owned by another process", p.ID, store.ErrConflict)
	}
	if p.Sources != nil {
		if err := putSources(ctx, tx, p.ID, p.Sources); err != nil {
			return err
		}
	}
	if p.Status != nil || p.Owner != nil || p.CancelRequested != nil {
		return notify(ctx, tx, p.ID)
	}
	return nil
}

// runSets returns the SET clauses of p and their arguments ($1...).
func runSets(p *store.RunUpdateParams) ([]string, []any) {
	sets := []string{"updated_at = $1"}
	args := []any{ts(p.Now)}
	add := func(col string, v any) {
		args = append(args, v)
		sets = append(sets, fmt.Sprintf("%s = $%d", col, len(args)))
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
		add("cancel_requested", *p.CancelRequested)
	}
	if p.PauseRequested != nil {
		add("pause_requested", *p.PauseRequested)
	}
	if p.SourceHash != nil {
		add("source_hash", *p.SourceHash)
	}
	if p.FinishedAt != nil {
		add("finished_at", ts(*p.FinishedAt))
	}
	return sets, args
}

// queueRunUpdate queues p as one statement that fails the batch (see
// smithc_expect) when it matches no row.
//
// The update notifies workers (NOTIFY smithc) when it changes the run's
// owner, status or requests, unless held: the batch is fenced by the
// run's holder and the update leaves it held (no owner change, no cancel
// or pause request), a change no worker acts on (workers skip held runs;
// the holder's own release notifies).
func queueRunUpdate(b *pgx.Batch, p *store.RunUpdateParams, held bool) {
	sets, args := runSets(p)
	args = append(args, p.ID)
	where := fmt.Sprintf(`id = $%d`, len(args))
	if p.IfOwner != nil {
		args = append(args, *p.IfOwner)
		where += fmt.Sprintf(` AND owner = $%d`, len(args))
	}
	args = append(args, "run:"+p.ID)
	b.Queue(fmt.Sprintf(`WITH u AS (UPDATE run SET %s WHERE %s RETURNING 1) SELECT smithc_expect((SELECT count(*) FROM u), $%d)`,
		strings.Join(sets, ", "), where, len(args)), args...)
	held = held && p.Owner == nil && p.CancelRequested == nil && p.PauseRequested == nil
	if !held && (p.Status != nil || p.Owner != nil || p.CancelRequested != nil || p.PauseRequested != nil) {
		b.Queue(`SELECT pg_notify($1, $2)`, Channel, p.ID)
	}
}

// RunClaim implements store.Store in one round trip: BEGIN, the run's
// lock, an UPDATE that matches only a free run (or this owner's, or
// ExpectOwner's, or one whose lease lapsed) returning the claimed row,
// COMMIT. A claim that matched nothing reads the run to explain why.
func (s *Store) RunClaim(ctx context.Context, p *store.RunClaimParams) (*store.Run, error) {
	q := `UPDATE run SET owner = $1, owner_start = $2, lease_expires_at = $3, updated_at = $4, fence = fence + 1`
	if p.ClearCancel {
		q += `, cancel_requested = false`
	}
	if p.ClearPause {
		q += `, pause_requested = false`
	}
	q += ` WHERE id = $5 AND (owner = '' OR owner = $1 AND owner_start = $2 OR $6 <> '' AND owner = $6 OR lease_expires_at < $4)
		RETURNING ` + runCols
	var r *store.Run
	var pb pgx.Batch
	pb.Queue(`BEGIN`)
	pb.Queue(lockSQL, []string{p.ID})
	pb.Queue(q, p.Owner, p.OwnerStart, ts(p.LeaseExpiresAt), ts(p.Now), p.ID, p.ExpectOwner).QueryRow(func(row pgx.Row) error {
		got, err := scanRun(row)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		r = got
		return err
	})
	pb.Queue(`COMMIT`)
	if err := s.sendBatch(ctx, &pb); err != nil {
		return nil, fmt.Errorf("pgstore: claim run %q: %w", p.ID, err)
	}
	if r != nil {
		return r, nil
	}
	cur, err := getRun(ctx, s.pool, p.ID, false)
	if err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("pgstore: claim run %q: %w: owned by %s until %s", p.ID, store.ErrConflict,
		cur.Owner, cur.LeaseExpiresAt.Format("15:04:05"))
}

// RunHeartbeat implements store.Store.
func (s *Store) RunHeartbeat(ctx context.Context, p *store.RunHeartbeatParams) (*store.Run, error) {
	var r *store.Run
	err := s.tx(ctx, "heartbeat run", nil, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE run SET lease_expires_at = $1, updated_at = $2 WHERE id = $3 AND owner = $4 AND ($5 = 0 OR fence = $5)`,
			ts(p.LeaseExpiresAt), ts(p.Now), p.ID, p.Owner, p.Fence)
		if err != nil {
			return fmt.Errorf("pgstore: heartbeat run %q: %w", p.ID, err)
		}
		if tag.RowsAffected() == 0 {
			if _, err := getRun(ctx, tx, p.ID, false); err != nil {
				return err
			}
			return fmt.Errorf("pgstore: heartbeat run %q: %w: no longer owned by %s", p.ID, store.ErrConflict, p.Owner)
		}
		if _, err := tx.Exec(ctx, `UPDATE attempt SET lease_expires_at = $1, heartbeat_at = $2
			WHERE run_id = $3 AND owner = $4 AND state = 'running'`, ts(p.LeaseExpiresAt), ts(p.Now), p.ID, p.Owner); err != nil {
			return fmt.Errorf("pgstore: heartbeat attempts of run %q: %w", p.ID, err)
		}
		r, err = getRunCols(ctx, tx, runColsNoInput, p.ID, false)
		return err
	})
	return r, err
}

// RunCancelRequest implements store.Store.
func (s *Store) RunCancelRequest(ctx context.Context, p *store.RunCancelRequestParams) (*store.Run, error) {
	t := true
	return s.RunUpdate(ctx, &store.RunUpdateParams{ID: p.ID, CancelRequested: &t, Now: p.Now})
}

// checkFence fails with ErrConflict unless the run is owned by f.Owner
// with token f.Token; it locks the run row until the transaction ends.
func checkFence(ctx context.Context, tx pgx.Tx, f *store.Fence) error {
	var owner string
	var token int64
	err := tx.QueryRow(ctx, `SELECT owner, fence FROM run WHERE id = $1 FOR UPDATE`, f.RunID).Scan(&owner, &token)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("pgstore: run %q: %w", f.RunID, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("pgstore: check the fence of run %q: %w", f.RunID, err)
	}
	if owner != f.Owner || token != f.Token {
		return fmt.Errorf("pgstore: commit to run %q: %w: it is owned by %q with fence %d, not %q with %d (a newer owner took it over)",
			f.RunID, store.ErrConflict, owner, token, f.Owner, f.Token)
	}
	return nil
}
