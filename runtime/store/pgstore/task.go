package pgstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/smithc/smithc/runtime/store"
)

// TaskChannel is the NOTIFY channel of tasks: the payload is "q " (a
// task was queued) or "d " (one was completed) followed by the run id.
const TaskChannel = "smithc_task"

var (
	_ store.TaskStore    = (*Store)(nil)
	_ store.TaskNotifier = (*Store)(nil)
)

const taskCols = `run_id, node_id, scope, number, action, state, input, lease_owner, lease_expires_at,
	token, output, failure, created_at, claimed_at, finished_at`

// queueTasks queues the inserts of a batch's tasks (BatchCommit): each
// replaces the row of its node instance, keeping the fencing token.
func queueTasks(pb *pgx.Batch, tasks []*store.Task) {
	for _, t := range tasks {
		pb.Queue(`INSERT INTO task (run_id, node_id, scope, number, action, state, input, created_at)
			VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7)
			ON CONFLICT (run_id, node_id, scope) DO UPDATE SET number = EXCLUDED.number, action = EXCLUDED.action,
			state = 'queued', input = EXCLUDED.input, lease_owner = '', lease_expires_at = NULL, output = 'null',
			failure = 'null', created_at = EXCLUDED.created_at, claimed_at = NULL, finished_at = NULL`,
			t.RunID, t.NodeID, t.Scope, t.Number, t.Action, js(t.Input), ts(t.CreatedAt))
	}
	if len(tasks) > 0 {
		pb.Queue(`SELECT pg_notify($1, $2)`, TaskChannel, "q "+tasks[0].RunID)
	}
}

func scanTask(row pgx.Row) (*store.Task, error) {
	var t store.Task
	var input, output, failure []byte
	var lease, created, claimed, finished pgtype.Timestamptz
	if err := row.Scan(&t.RunID, &t.NodeID, &t.Scope, &t.Number, &t.Action, &t.State, &input, &t.LeaseOwner, &lease,
		&t.Token, &output, &failure, &created, &claimed, &finished); err != nil {
		return nil, err
	}
	t.Input, t.Output, t.Failure = rj(input), rj(output), rj(failure)
	t.LeaseExpiresAt, t.CreatedAt, t.ClaimedAt, t.FinishedAt = pt(lease), pt(created), pt(claimed), pt(finished)
	return &t, nil
}

func collectTasks(rows pgx.Rows) ([]*store.Task, error) {
	defer rows.Close()
	var out []*store.Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// TaskClaim implements store.TaskStore: one statement locks the oldest
// queued rows no other claimer holds (SKIP LOCKED), makes them running
// under the caller's lease with the next fencing token, and names the
// caller as the owner of their attempts.
func (s *Store) TaskClaim(ctx context.Context, p *store.TaskClaimParams) ([]*store.Task, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	const q = `WITH c AS (
		SELECT run_id, node_id, scope FROM task WHERE state = 'queued' AND (cardinality($5::text[]) = 0 OR run_id = ANY($5))
		ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED
	), u AS (
		UPDATE task t SET state = 'running', lease_owner = $2, lease_expires_at = $3, token = t.token + 1, claimed_at = $4
		FROM c WHERE t.run_id = c.run_id AND t.node_id = c.node_id AND t.scope = c.scope
		RETURNING t.*
	), a AS (
		UPDATE attempt SET owner = $2, lease_expires_at = $3, heartbeat_at = $4
		FROM u WHERE attempt.run_id = u.run_id AND attempt.node_id = u.node_id AND attempt.scope = u.scope
		AND attempt.number = u.number AND attempt.state = 'running'
	)
	SELECT ` + taskCols + ` FROM u ORDER BY created_at`
	only := p.RunIDs
	if only == nil {
		only = []string{}
	}
	rows, err := s.pool.Query(ctx, q, p.Limit, p.Owner, ts(p.LeaseExpiresAt), ts(p.Now), only)
	if err != nil {
		return nil, fmt.Errorf("pgstore: claim tasks: %w", err)
	}
	out, err := collectTasks(rows)
	if err != nil {
		return nil, fmt.Errorf("pgstore: claim tasks: %w", err)
	}
	return out, nil
}

func taskWhat(runID, nodeID, scope string) string {
	if scope != "" {
		return fmt.Sprintf("task %s [%s] of run %q", nodeID, scope, runID)
	}
	return fmt.Sprintf("task %s of run %q", nodeID, runID)
}

// TaskHeartbeat implements store.TaskStore.
func (s *Store) TaskHeartbeat(ctx context.Context, p *store.TaskHeartbeatParams) error {
	const q = `WITH u AS (
		UPDATE task SET lease_expires_at = $1
		WHERE run_id = $2 AND node_id = $3 AND scope = $4 AND state = 'running' AND lease_owner = $5 AND token = $6
		AND number = $8
		RETURNING number
	), a AS (
		UPDATE attempt SET lease_expires_at = $1, heartbeat_at = $7
		FROM u WHERE attempt.run_id = $2 AND attempt.node_id = $3 AND attempt.scope = $4 AND attempt.number = u.number
		AND attempt.state = 'running'
	)
	SELECT count(*) FROM u`
	var n int
	if err := s.pool.QueryRow(ctx, q, ts(p.LeaseExpiresAt), p.RunID, p.NodeID, p.Scope, p.Owner, p.Token, ts(p.Now), p.Number).Scan(&n); err != nil {
		return fmt.Errorf("pgstore: heartbeat %s: %w", taskWhat(p.RunID, p.NodeID, p.Scope), err)
	}
	if n == 0 {
		return s.taskConflict(ctx, "heartbeat", p.RunID, p.NodeID, p.Scope, p.Owner, p.Token, p.Number)
	}
	return nil
}

// TaskComplete implements store.TaskStore: the result is written, and the
// run's holder notified, only while the caller still holds the task with
// its token.
func (s *Store) TaskComplete(ctx context.Context, p *store.TaskCompleteParams) error {
	if p.State != store.TaskFinished && p.State != store.TaskFailed {
		return fmt.Errorf("pgstore: complete %s: state %q is not finished or failed", taskWhat(p.RunID, p.NodeID, p.Scope), p.State)
	}
	const q = `WITH u AS (
		UPDATE task SET state = $1, output = $2, failure = $3, finished_at = $4, lease_expires_at = NULL
		WHERE run_id = $5 AND node_id = $6 AND scope = $7 AND state = 'running' AND lease_owner = $8 AND token = $9
		AND number = $11
		RETURNING run_id
	)
	SELECT count(*) FROM (SELECT pg_notify($10, 'd ' || run_id) FROM u) n`
	var n int
	if err := s.pool.QueryRow(ctx, q, string(p.State), js(p.Output), js(p.Failure), ts(p.Now), p.RunID, p.NodeID, p.Scope,
		p.Owner, p.Token, TaskChannel, p.Number).Scan(&n); err != nil {
		return fmt.Errorf("pgstore: complete %s: %w", taskWhat(p.RunID, p.NodeID, p.Scope), err)
	}
	if n == 0 {
		return s.taskConflict(ctx, "complete", p.RunID, p.NodeID, p.Scope, p.Owner, p.Token, p.Number)
	}
	return nil
}

// taskConflict explains why a heartbeat or completion matched no row.
func (s *Store) taskConflict(ctx context.Context, what, runID, nodeID, scope, owner string, token int64, num int) error {
	t, err := scanTask(s.pool.QueryRow(ctx, `SELECT `+taskCols+` FROM task WHERE run_id = $1 AND node_id = $2 AND scope = $3`,
		runID, nodeID, scope))
	if err != nil {
		return fmt.Errorf("pgstore: %s %s: %w: the task is gone", what, taskWhat(runID, nodeID, scope), store.ErrConflict)
	}
	why := fmt.Sprintf("it is %s", t.State)
	switch {
	case t.Token != token:
		why = fmt.Sprintf("its fencing token is %d, not %d (attempt %d, %s, owner %q)", t.Token, token, t.Number, t.State, t.LeaseOwner)
	case t.Number != num:
		why = fmt.Sprintf("it is attempt %d now, not %d", t.Number, num)
	case t.LeaseOwner != owner:
		why = fmt.Sprintf("it is held by %q", t.LeaseOwner)
	}
	return fmt.Errorf("pgstore: %s %s: %w: %s", what, taskWhat(runID, nodeID, scope), store.ErrConflict, why)
}

// TaskAbandon implements store.TaskStore.
func (s *Store) TaskAbandon(ctx context.Context, p *store.TaskAbandonParams) error {
	tag, err := s.pool.Exec(ctx, `UPDATE task SET state = 'abandoned', finished_at = $1, lease_expires_at = NULL
		WHERE run_id = $2 AND node_id = $3 AND scope = $4 AND number = $5 AND token = $6
		AND (state = 'queued' OR state = 'running' AND ($7 OR lease_expires_at < $1))`,
		ts(p.Now), p.RunID, p.NodeID, p.Scope, p.Number, p.Token, p.Force)
	if err != nil {
		return fmt.Errorf("pgstore: abandon %s: %w", taskWhat(p.RunID, p.NodeID, p.Scope), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: abandon %s: %w: it was completed, renewed or claimed again", taskWhat(p.RunID, p.NodeID, p.Scope), store.ErrConflict)
	}
	return nil
}

// TaskList implements store.TaskStore.
func (s *Store) TaskList(ctx context.Context, p *store.TaskListParams) ([]*store.Task, error) {
	q := `SELECT ` + taskCols + ` FROM task WHERE run_id = $1`
	args := []any{p.RunID}
	if p.Only != nil {
		ids, scopes := make([]string, len(p.Only)), make([]string, len(p.Only))
		for i, k := range p.Only {
			ids[i], scopes[i] = k.NodeID, k.Scope
		}
		q += ` AND (node_id, scope) IN (SELECT * FROM unnest($2::text[], $3::text[]))`
		args = append(args, ids, scopes)
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY node_id, scope`, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list tasks of run %q: %w", p.RunID, err)
	}
	out, err := collectTasks(rows)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list tasks of run %q: %w", p.RunID, err)
	}
	return out, nil
}

// TaskQueued implements store.TaskStore.
func (s *Store) TaskQueued(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM task WHERE state = 'queued'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("pgstore: count queued tasks: %w", err)
	}
	return n, nil
}

// TaskNotifications implements store.TaskNotifier on a dedicated
// connection listening on TaskChannel, reconnecting (with a note of run
// id "") when the connection is lost.
func (s *Store) TaskNotifications(ctx context.Context) (<-chan store.TaskNote, error) {
	ch := make(chan store.TaskNote, 256)
	err := s.listenLoop(ctx, TaskChannel, func(payload string, reconnected bool) {
		n := store.TaskNote{} // after a reconnect: run id "", anything may have changed
		if !reconnected {
			kind, run, _ := strings.Cut(payload, " ")
			n = store.TaskNote{RunID: run, Done: kind == "d"}
		}
		select {
		case ch <- n:
		default: // the reader is behind and polls anyway
		}
	}, func() { close(ch) })
	if err != nil {
		return nil, err
	}
	return ch, nil
}
