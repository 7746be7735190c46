package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/smithc/smithc/runtime/store"
)

var _ store.RunStateLoader = (*Store)(nil)

const (
	nodeListSQL = `SELECT ` + nodeCols + ` FROM node WHERE run_id = $1 ORDER BY node_id, scope`
	// nodeListNoOutputSQL is nodeListSQL with no output (NodeListParams.NoOutput).
	nodeListNoOutputSQL = `SELECT ` + nodeColsNoOutput + ` FROM node WHERE run_id = $1 ORDER BY node_id, scope`
	attemptListSQL      = `SELECT ` + attemptCols + `, pid, pid_start FROM attempt WHERE run_id = $1`
	attemptOrder        = ` ORDER BY node_id, scope, number`
	taskListSQL         = `SELECT ` + taskCols + ` FROM task WHERE run_id = $1 ORDER BY node_id, scope`
)

// RunState implements store.RunStateLoader: the run's nodes, attempts and
// (when asked) tasks in one pipelined round trip.
func (s *Store) RunState(ctx context.Context, p *store.RunStateParams) (*store.RunState, error) {
	out := &store.RunState{}
	var pb pgx.Batch
	pb.Queue(nodeListSQL, p.RunID).Query(func(rows pgx.Rows) error {
		var err error
		out.Nodes, err = collectNodes(rows)
		return err
	})
	pb.Queue(attemptListSQL+attemptOrder, p.RunID).Query(func(rows pgx.Rows) error {
		var err error
		out.Attempts, err = collectAttempts(rows)
		return err
	})
	if p.Tasks {
		pb.Queue(taskListSQL, p.RunID).Query(func(rows pgx.Rows) error {
			var err error
			out.Tasks, err = collectTasks(rows)
			return err
		})
	}
	if err := s.pool.SendBatch(ctx, &pb).Close(); err != nil {
		return nil, fmt.Errorf("pgstore: load run %q: %w", p.RunID, err)
	}
	return out, nil
}

func collectNodes(rows pgx.Rows) ([]*store.Node, error) {
	defer rows.Close()
	var out []*store.Node
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func collectAttempts(rows pgx.Rows) ([]*store.Attempt, error) {
	defer rows.Close()
	var out []*store.Attempt
	for rows.Next() {
		var a store.Attempt
		var lease, hb, started, finished pgtype.Timestamptz
		if err := rows.Scan(&a.RunID, &a.NodeID, &a.Scope, &a.Number, &a.State, &a.Owner, &lease, &hb,
			&a.Detail, &a.Error, &a.ErrorKind, &started, &finished, &a.PID, &a.PIDStart); err != nil {
			return nil, err
		}
		a.LeaseExpiresAt, a.HeartbeatAt, a.StartedAt, a.FinishedAt = pt(lease), pt(hb), pt(started), pt(finished)
		out = append(out, &a)
	}
	return out, rows.Err()
}
