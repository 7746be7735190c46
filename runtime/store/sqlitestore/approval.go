package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/smithc/smithc/runtime/store"
)

const approvalCols = `run_id, node_id, scope, title, summary, requested_at, decided, approved,
	decided_by, note, data, decided_at`

func scanApproval(sc scanner) (*store.Approval, error) {
	var a store.Approval
	var req, data, decidedAt string
	var decided, approved int
	if err := sc.Scan(&a.RunID, &a.NodeID, &a.Scope, &a.Title, &a.Summary, &req, &decided, &approved,
		&a.By, &a.Note, &data, &decidedAt); err != nil {
		return nil, err
	}
	a.RequestedAt, a.DecidedAt, a.Data = pt(req), pt(decidedAt), rj(data)
	a.Decided, a.Approved = decided != 0, approved != 0
	return &a, nil
}

// ApprovalRequest implements store.Store.
func (s *Store) ApprovalRequest(ctx context.Context, p *store.ApprovalRequestParams) error {
	return s.BatchCommit(ctx, &store.Batch{Approvals: []*store.Approval{p.Approval}})
}

func approvalRequest(ctx context.Context, tx execer, a *store.Approval) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO approval (`+approvalCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (run_id, node_id, scope) DO NOTHING`,
		a.RunID, a.NodeID, a.Scope, a.Title, a.Summary, ts(a.RequestedAt), b2i(a.Decided), b2i(a.Approved),
		a.By, a.Note, js(a.Data), ts(a.DecidedAt))
	if err != nil {
		return fmt.Errorf("sqlitestore: request approval %q of run %q: %w", a.NodeID, a.RunID, err)
	}
	return nil
}

// ApprovalGet implements store.Store.
func (s *Store) ApprovalGet(ctx context.Context, p *store.ApprovalGetParams) (*store.Approval, error) {
	a, err := scanApproval(s.r.QueryRowContext(ctx, `SELECT `+approvalCols+` FROM approval
		WHERE run_id = ? AND node_id = ? AND scope = ?`, p.RunID, p.NodeID, p.Scope))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlitestore: approval %q of run %q: %w", p.NodeID, p.RunID, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: get approval %q of run %q: %w", p.NodeID, p.RunID, err)
	}
	return a, nil
}

// ApprovalList implements store.Store.
func (s *Store) ApprovalList(ctx context.Context, p *store.ApprovalListParams) ([]*store.Approval, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+approvalCols+` FROM approval WHERE run_id = ?
		ORDER BY requested_at, node_id, scope`, p.RunID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list approvals of run %q: %w", p.RunID, err)
	}
	defer rows.Close()
	var out []*store.Approval
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list approvals of run %q: %w", p.RunID, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list approvals of run %q: %w", p.RunID, err)
	}
	return out, nil
}

// ApprovalDecide implements store.Store.
func (s *Store) ApprovalDecide(ctx context.Context, p *store.ApprovalDecideParams) (*store.Approval, error) {
	var out *store.Approval
	err := s.tx(ctx, "decide approval", func(tx *sql.Tx) error {
		q := `SELECT ` + approvalCols + ` FROM approval WHERE run_id = ? AND node_id = ?`
		args := []any{p.RunID, p.NodeID}
		if p.Scope != "" {
			q += ` AND scope = ?`
			args = append(args, p.Scope)
		}
		q += ` ORDER BY decided, requested_at, scope LIMIT 1`
		a, err := scanApproval(tx.QueryRowContext(ctx, q, args...))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlitestore: decide approval %q of run %q: %w: no approval is waiting there", p.NodeID, p.RunID, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlitestore: decide approval %q of run %q: %w", p.NodeID, p.RunID, err)
		}
		if a.Decided {
			verb := "denied"
			if a.Approved {
				verb = "approved"
			}
			return fmt.Errorf("sqlitestore: decide approval %q of run %q: %w: already %s by %s", p.NodeID, p.RunID, store.ErrConflict, verb, a.By)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE approval SET decided = 1, approved = ?, decided_by = ?, note = ?, data = ?, decided_at = ?
			WHERE run_id = ? AND node_id = ? AND scope = ?`, b2i(p.Approved), p.By, p.Note, js(p.Data), ts(p.Now),
			a.RunID, a.NodeID, a.Scope); err != nil {
			return fmt.Errorf("sqlitestore: decide approval %q of run %q: %w", p.NodeID, p.RunID, err)
		}
		a.Decided, a.Approved, a.By, a.Note, a.Data, a.DecidedAt = true, p.Approved, p.By, p.Note, p.Data, p.Now
		out = a
		return nil
	})
	return out, err
}
