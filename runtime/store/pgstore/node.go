package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/smithc/smithc/runtime/store"
)

const nodeCols = `run_id, node_id, scope, iteration, kind, state, attempts, output, output_type,
	error, error_kind, data, started_at, finished_at, updated_at`

// nodeColsNoOutput is nodeCols with a NULL output (NodeListParams.NoOutput).
const nodeColsNoOutput = `run_id, node_id, scope, iteration, kind, state, attempts, NULL::jsonb AS output, output_type,
	error, error_kind, data, started_at, finished_at, updated_at`

func scanNode(row pgx.Row) (*store.Node, error) {
	var n store.Node
	var output, data []byte
	var started, finished, updated pgtype.Timestamptz
	if err := row.Scan(&n.RunID, &n.NodeID, &n.Scope, &n.Iteration, &n.Kind, &n.State, &n.Attempts,
		&output, &n.OutputType, &n.Error, &n.ErrorKind, &data, &started, &finished, &updated); err != nil {
		return nil, err
	}
	n.Output, n.Data = rj(output), rj(data)
	n.StartedAt, n.FinishedAt, n.UpdatedAt = pt(started), pt(finished), pt(updated)
	return &n, nil
}

// nodeColsBrief are the columns of a brief listing (NodeListParams.Brief).
const nodeColsBrief = `node_id, scope, iteration, kind, state, attempts`

// NodeList implements store.Store.
func (s *Store) NodeList(ctx context.Context, p *store.NodeListParams) ([]*store.Node, error) {
	q, args := nodeListSQL, []any{p.RunID}
	switch {
	case p.Brief || len(p.States) > 0 || len(p.Kinds) > 0:
		q, args = nodeListFilteredSQL(p)
	case p.NoOutput:
		q = nodeListNoOutputSQL
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list nodes of run %q: %w", p.RunID, err)
	}
	var out []*store.Node
	if p.Brief {
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.Node, error) {
			n := &store.Node{RunID: p.RunID}
			err := row.Scan(&n.NodeID, &n.Scope, &n.Iteration, &n.Kind, &n.State, &n.Attempts)
			return n, err
		})
	} else {
		out, err = collectNodes(rows)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: list nodes of run %q: %w", p.RunID, err)
	}
	return out, nil
}

// nodeListFilteredSQL is NodeList's query and arguments for a brief
// listing or one filtered by states and kinds. Its text depends only on
// which of those p asks for, so each variant is prepared once.
func nodeListFilteredSQL(p *store.NodeListParams) (string, []any) {
	cols := nodeCols
	switch {
	case p.Brief:
		cols = nodeColsBrief
	case p.NoOutput:
		cols = nodeColsNoOutput
	}
	q := `SELECT ` + cols + ` FROM node WHERE run_id = $1`
	args := []any{p.RunID}
	if len(p.States) > 0 {
		states := make([]string, len(p.States))
		for i, st := range p.States {
			states[i] = string(st)
		}
		args = append(args, states)
		q += fmt.Sprintf(` AND state = ANY($%d)`, len(args))
	}
	if len(p.Kinds) > 0 {
		args = append(args, p.Kinds)
		q += fmt.Sprintf(` AND kind = ANY($%d)`, len(args))
	}
	return q + ` ORDER BY node_id, scope`, args
}

// NodeGet implements store.Store.
func (s *Store) NodeGet(ctx context.Context, p *store.NodeGetParams) (*store.Node, error) {
	n, err := scanNode(s.pool.QueryRow(ctx, `SELECT `+nodeCols+` FROM node WHERE run_id = $1 AND node_id = $2 AND scope = $3`,
		p.RunID, p.NodeID, p.Scope))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("pgstore: node %q [%s] of run %q: %w", p.NodeID, p.Scope, p.RunID, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: get node %q of run %q: %w", p.NodeID, p.RunID, err)
	}
	return n, nil
}

// NodeUpsert implements store.Store.
func (s *Store) NodeUpsert(ctx context.Context, p *store.NodeUpsertParams) error {
	return s.BatchCommit(ctx, &store.Batch{Nodes: p.Nodes})
}

// nodeUpsertSQL writes many node instances in one statement.
const nodeUpsertSQL = `INSERT INTO node (` + nodeCols + `)
	SELECT run_id, node_id, scope, iteration, kind, state, attempts, output::jsonb, output_type,
		error, error_kind, data::jsonb, started_at, finished_at, updated_at
	FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[],
		$10::text[], $11::text[], $12::text[], $13::timestamptz[], $14::timestamptz[], $15::timestamptz[])
		AS n(run_id, node_id, scope, iteration, kind, state, attempts, output, output_type,
			error, error_kind, data, started_at, finished_at, updated_at)
	ON CONFLICT (run_id, node_id, scope) DO UPDATE SET iteration = EXCLUDED.iteration, kind = EXCLUDED.kind,
	state = EXCLUDED.state, attempts = EXCLUDED.attempts, output = EXCLUDED.output, output_type = EXCLUDED.output_type,
	error = EXCLUDED.error, error_kind = EXCLUDED.error_kind, data = EXCLUDED.data, started_at = EXCLUDED.started_at,
	finished_at = EXCLUDED.finished_at, updated_at = EXCLUDED.updated_at`

// queueNodes queues one upsert of nodes (the last write of each instance:
// one statement cannot update a row twice).
func queueNodes(b *pgx.Batch, nodes []*store.Node) {
	if len(nodes) == 0 {
		return
	}
	type key struct{ run, node, scope string }
	last := make(map[key]int, len(nodes))
	for i, n := range nodes {
		last[key{n.RunID, n.NodeID, n.Scope}] = i
	}
	k := len(last)
	runs, ids, scopes, kinds, states := make([]string, 0, k), make([]string, 0, k), make([]string, 0, k), make([]string, 0, k), make([]string, 0, k)
	outputs, types, errs, errKinds, data := make([]string, 0, k), make([]string, 0, k), make([]string, 0, k), make([]string, 0, k), make([]string, 0, k)
	iters, attempts := make([]int32, 0, k), make([]int32, 0, k)
	started, finished, updated := make([]pgtype.Timestamptz, 0, k), make([]pgtype.Timestamptz, 0, k), make([]pgtype.Timestamptz, 0, k)
	for i, n := range nodes {
		if last[key{n.RunID, n.NodeID, n.Scope}] != i {
			continue
		}
		runs, ids, scopes, kinds, states = append(runs, n.RunID), append(ids, n.NodeID), append(scopes, n.Scope), append(kinds, n.Kind), append(states, string(n.State))
		outputs, types, errs, errKinds, data = append(outputs, js(n.Output)), append(types, n.OutputType), append(errs, n.Error), append(errKinds, n.ErrorKind), append(data, js(n.Data))
		iters, attempts = append(iters, int32(n.Iteration)), append(attempts, int32(n.Attempts))
		started, finished, updated = append(started, tsz(n.StartedAt)), append(finished, tsz(n.FinishedAt)), append(updated, tsz(n.UpdatedAt))
	}
	b.Queue(nodeUpsertSQL, runs, ids, scopes, iters, kinds, states, attempts, outputs, types, errs, errKinds, data,
		started, finished, updated)
}

// NodeReset implements store.Store.
func (s *Store) NodeReset(ctx context.Context, p *store.NodeResetParams) (int, error) {
	if len(p.NodeIDs) == 0 {
		return 0, nil
	}
	var n int64
	err := s.tx(ctx, "reset nodes", []string{p.RunID}, func(tx pgx.Tx) error {
		// With a scope, only instances at it or inside it (a prefix
		// compare: scopes hold "_" and "%", never LIKE).
		const scoped = ` AND ($3 = '' OR scope = $3 OR left(scope, length($3) + 1) = $3 || '/')`
		tag, err := tx.Exec(ctx, `DELETE FROM node WHERE run_id = $1 AND node_id = ANY($2)`+scoped, p.RunID, p.NodeIDs, p.Scope)
		if err != nil {
			return fmt.Errorf("pgstore: reset nodes of run %q: %w", p.RunID, err)
		}
		n = tag.RowsAffected()
		if _, err := tx.Exec(ctx, `DELETE FROM approval WHERE run_id = $1 AND node_id = ANY($2)`+scoped, p.RunID, p.NodeIDs, p.Scope); err != nil {
			return fmt.Errorf("pgstore: reset approvals of run %q: %w", p.RunID, err)
		}
		return nil
	})
	return int(n), err
}

const attemptCols = `run_id, node_id, scope, number, state, owner, lease_expires_at, heartbeat_at,
	detail, error, error_kind, started_at, finished_at`

// AttemptStart implements store.Store.
func (s *Store) AttemptStart(ctx context.Context, p *store.AttemptStartParams) error {
	return s.BatchCommit(ctx, &store.Batch{AttemptStarts: []*store.Attempt{p.Attempt}})
}

// attemptInsertSQL inserts many attempts in one statement.
const attemptInsertSQL = `INSERT INTO attempt (` + attemptCols + `)
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::timestamptz[],
		$8::timestamptz[], $9::text[], $10::text[], $11::text[], $12::timestamptz[], $13::timestamptz[])`

// queueAttemptStarts queues one insert of attempts.
func queueAttemptStarts(b *pgx.Batch, as []*store.Attempt) {
	if len(as) == 0 {
		return
	}
	k := len(as)
	runs, nodes, scopes, states, owners := make([]string, k), make([]string, k), make([]string, k), make([]string, k), make([]string, k)
	details, errs, errKinds := make([]string, k), make([]string, k), make([]string, k)
	numbers := make([]int32, k)
	leases, beats, started, finished := make([]pgtype.Timestamptz, k), make([]pgtype.Timestamptz, k), make([]pgtype.Timestamptz, k), make([]pgtype.Timestamptz, k)
	for i, a := range as {
		st := a.State
		if st == "" {
			st = store.AttemptRunning
		}
		runs[i], nodes[i], scopes[i], states[i], owners[i] = a.RunID, a.NodeID, a.Scope, string(st), a.Owner
		details[i], errs[i], errKinds[i] = a.Detail, a.Error, a.ErrorKind
		numbers[i] = int32(a.Number)
		leases[i], beats[i], started[i], finished[i] = tsz(a.LeaseExpiresAt), tsz(a.HeartbeatAt), tsz(a.StartedAt), tsz(a.FinishedAt)
	}
	b.Queue(attemptInsertSQL, runs, nodes, scopes, numbers, states, owners, leases, beats, details, errs, errKinds, started, finished)
}

// AttemptHeartbeat implements store.Store.
func (s *Store) AttemptHeartbeat(ctx context.Context, p *store.AttemptHeartbeatParams) error {
	return s.BatchCommit(ctx, &store.Batch{AttemptHeartbeats: []*store.AttemptHeartbeatParams{p}})
}

func queueAttemptHeartbeat(b *pgx.Batch, p *store.AttemptHeartbeatParams) {
	if p.PID != 0 {
		b.Queue(`UPDATE attempt SET pid = $1, pid_start = $2
			WHERE run_id = $3 AND node_id = $4 AND scope = $5 AND number = $6 AND state = 'running'`,
			p.PID, p.PIDStart, p.RunID, p.NodeID, p.Scope, p.Number)
	}
	if p.LeaseExpiresAt.IsZero() {
		b.Queue(`UPDATE attempt SET heartbeat_at = $1, detail = $2
			WHERE run_id = $3 AND node_id = $4 AND scope = $5 AND number = $6 AND state = 'running'`,
			ts(p.Now), p.Detail, p.RunID, p.NodeID, p.Scope, p.Number)
		return
	}
	b.Queue(`UPDATE attempt SET heartbeat_at = $1, detail = $2, lease_expires_at = $7
		WHERE run_id = $3 AND node_id = $4 AND scope = $5 AND number = $6 AND state = 'running'`,
		ts(p.Now), p.Detail, p.RunID, p.NodeID, p.Scope, p.Number, ts(p.LeaseExpiresAt))
}

// AttemptFinish implements store.Store.
func (s *Store) AttemptFinish(ctx context.Context, p *store.AttemptFinishParams) error {
	return s.BatchCommit(ctx, &store.Batch{AttemptFinishes: []*store.AttemptFinishParams{p}})
}

func queueAttemptFinish(b *pgx.Batch, p *store.AttemptFinishParams) {
	b.Queue(`WITH u AS (UPDATE attempt SET state = $1, error = $2, error_kind = $3, finished_at = $4
		WHERE run_id = $5 AND node_id = $6 AND scope = $7 AND number = $8 RETURNING 1)
		SELECT smithc_expect((SELECT count(*) FROM u), $9)`,
		string(p.State), p.Error, p.ErrorKind, ts(p.Now), p.RunID, p.NodeID, p.Scope, p.Number,
		fmt.Sprintf("attempt:%d of %q [%s] of run %q", p.Number, p.NodeID, p.Scope, p.RunID))
}

// AttemptList implements store.Store.
func (s *Store) AttemptList(ctx context.Context, p *store.AttemptListParams) ([]*store.Attempt, error) {
	q := attemptListSQL
	args := []any{p.RunID}
	if p.State != "" {
		q += ` AND state = $2`
		args = append(args, string(p.State))
	}
	rows, err := s.pool.Query(ctx, q+attemptOrder, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list attempts of run %q: %w", p.RunID, err)
	}
	out, err := collectAttempts(rows)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list attempts of run %q: %w", p.RunID, err)
	}
	return out, nil
}
