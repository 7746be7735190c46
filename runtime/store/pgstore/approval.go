package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/smithc/smithc/runtime/store"
)

const approvalCols = `run_id, node_id, scope, title, summary, requested_at, decided, approved,
	decided_by, note, data, decided_at`

func scanApproval(row pgx.Row) (*store.Approval, error) {
	var a store.Approval
	var req, decidedAt pgtype.Timestamptz
	var data []byte
	if err := row.Scan(&a.RunID, &a.NodeID, &a.Scope, &a.Title, &a.Summary, &req, &a.Decided, &a.Approved,
		&a.By, &a.Note, &data, &decidedAt); err != nil {
		return nil, err
	}
	a.RequestedAt, a.DecidedAt, a.Data = pt(req), pt(decidedAt), rj(data)
	return &a, nil
}

// ApprovalRequest implements store.Store.
func (s *Store) ApprovalRequest(ctx context.Context, p *store.ApprovalRequestParams) error {
	return s.BatchCommit(ctx, &store.Batch{Approvals: []*store.Approval{p.Approval}})
}

func queueApproval(b *pgx.Batch, a *store.Approval) {
	b.Queue(`INSERT INTO approval (`+approvalCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)
		ON CONFLICT (run_id, node_id, scope) DO NOTHING`,
		a.RunID, a.NodeID, a.Scope, a.Title, a.Summary, ts(a.RequestedAt), a.Decided, a.Approved,
		a.By, a.Note, js(a.Data), ts(a.DecidedAt))
}

// ApprovalGet implements store.Store.
func (s *Store) ApprovalGet(ctx context.Context, p *store.ApprovalGetParams) (*store.Approval, error) {
	a, err := scanApproval(s.pool.QueryRow(ctx, `SELECT `+approvalCols+` FROM approval
		WHERE run_id = $1 AND node_id = $2 AND scope = $3`, p.RunID, p.NodeID, p.Scope))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("pgstore: approval %q of run %q: %w", p.NodeID, p.RunID, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: get approval %q of run %q: %w", p.NodeID, p.RunID, err)
	}
	return a, nil
}

// ApprovalList implements store.Store.
func (s *Store) ApprovalList(ctx context.Context, p *store.ApprovalListParams) ([]*store.Approval, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+approvalCols+` FROM approval WHERE run_id = $1
		ORDER BY requested_at, node_id, scope`, p.RunID)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list approvals of run %q: %w", p.RunID, err)
	}
	defer rows.Close()
	var out []*store.Approval
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			return nil, fmt.Errorf("pgstore: list approvals of run %q: %w", p.RunID, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: list approvals of run %q: %w", p.RunID, err)
	}
	return out, nil
}

// ApprovalDecide implements store.Store.
func (s *Store) ApprovalDecide(ctx context.Context, p *store.ApprovalDecideParams) (*store.Approval, error) {
	var out *store.Approval
	err := s.tx(ctx, "decide approval", []string{p.RunID}, func(tx pgx.Tx) error {
		q := `SELECT ` + approvalCols + ` FROM approval WHERE run_id = $1 AND node_id = $2`
		args := []any{p.RunID, p.NodeID}
		if p.Scope != "" {
			q += ` AND scope = $3`
			args = append(args, p.Scope)
		}
		q += ` ORDER BY decided, requested_at, scope LIMIT 1`
		a, err := scanApproval(tx.QueryRow(ctx, q, args...))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("pgstore: decide approval %q of run %q: %w: no approval is waiting there", p.NodeID, p.RunID, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("pgstore: decide approval %q of run %q: %w", p.NodeID, p.RunID, err)
		}
		if a.Decided {
			verb := "denied"
			if a.Approved {
				verb = "approved"
			}
			return fmt.Errorf("pgstore: decide approval %q of run %q: %w: already %s by %s", p.NodeID, p.RunID, store.ErrConflict, verb, a.By)
		}
		if _, err := tx.Exec(ctx, `UPDATE approval SET decided = true, approved = $1, decided_by = $2, note = $3, data = $4, decided_at = $5
			WHERE run_id = $6 AND node_id = $7 AND scope = $8`, p.Approved, p.By, p.Note, js(p.Data), ts(p.Now),
			a.RunID, a.NodeID, a.Scope); err != nil {
			return fmt.Errorf("pgstore: decide approval %q of run %q: %w", p.NodeID, p.RunID, err)
		}
		a.Decided, a.Approved, a.By, a.Note, a.Data, a.DecidedAt = true, p.Approved, p.By, p.Note, p.Data, p.Now
		out = a
		return notify(ctx, tx, p.RunID)
	})
	return out, err
}
