package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/smithc/smithc/runtime/store"
)

const nodeCols = `run_id, node_id, scope, iteration, kind, state, attempts, output, output_type,
	error, error_kind, data, started_at, finished_at, updated_at`

// nodeColsNoOutput is nodeCols with an empty output (NodeListParams.NoOutput).
var nodeColsNoOutput = strings.Replace(nodeCols, " output,", " '' AS output,", 1)

func scanNode(sc scanner) (*store.Node, error) {
	var n store.Node
	var output, data, started, finished, updated string
	if err := sc.Scan(&n.RunID, &n.NodeID, &n.Scope, &n.Iteration, &n.Kind, &n.State, &n.Attempts,
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
	cols := nodeCols
	switch {
	case p.Brief:
		cols = nodeColsBrief
	case p.NoOutput:
		cols = nodeColsNoOutput
	}
	q, args := nodeListSQL(cols, p)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list nodes of run %q: %w", p.RunID, err)
	}
	defer rows.Close()
	var out []*store.Node
	for rows.Next() {
		var n *store.Node
		if p.Brief {
			n = &store.Node{RunID: p.RunID}
			err = rows.Scan(&n.NodeID, &n.Scope, &n.Iteration, &n.Kind, &n.State, &n.Attempts)
		} else {
			n, err = scanNode(rows)
		}
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list nodes of run %q: %w", p.RunID, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list nodes of run %q: %w", p.RunID, err)
	}
	return out, nil
}

// nodeListSQL is NodeList's query and arguments: the run's nodes with
// cols, in the states and of the kinds p asks for.
func nodeListSQL(cols string, p *store.NodeListParams) (string, []any) {
	var b strings.Builder
	b.WriteString(`SELECT ` + cols + ` FROM node WHERE run_id = ?`)
	args := []any{p.RunID}
	in := func(col string, n int) {
		b.WriteString(` AND ` + col + ` IN (?` + strings.Repeat(`, ?`, n-1) + `)`)
	}
	if len(p.States) > 0 {
		in("state", len(p.States))
		for _, st := range p.States {
			args = append(args, string(st))
		}
	}
	if len(p.Kinds) > 0 {
		in("kind", len(p.Kinds))
		for _, k := range p.Kinds {
			args = append(args, k)
		}
	}
	b.WriteString(` ORDER BY node_id, scope`)
	return b.String(), args
}

// NodeGet implements store.Store.
func (s *Store) NodeGet(ctx context.Context, p *store.NodeGetParams) (*store.Node, error) {
	n, err := scanNode(s.r.QueryRowContext(ctx, `SELECT `+nodeCols+` FROM node WHERE run_id = ? AND node_id = ? AND scope = ?`,
		p.RunID, p.NodeID, p.Scope))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlitestore: node %q [%s] of run %q: %w", p.NodeID, p.Scope, p.RunID, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: get node %q of run %q: %w", p.NodeID, p.RunID, err)
	}
	return n, nil
}

// NodeUpsert implements store.Store.
func (s *Store) NodeUpsert(ctx context.Context, p *store.NodeUpsertParams) error {
	return s.BatchCommit(ctx, &store.Batch{Nodes: p.Nodes})
}

func nodeArgs(t *wtx, bx *boxes, n *store.Node, attempt string) {
	t.arg(bx.box(n.RunID))
	t.arg(n.NodeID)
	t.arg(n.Scope)
	t.arg(int64(n.Iteration))
	t.arg(bx.box(n.Kind))
	t.arg(bx.box(string(n.State)))
	t.arg(int64(n.Attempts))
	t.arg(js(n.Output))
	t.arg(bx.box(n.OutputType))
	t.arg(bx.box(n.Error))
	t.arg(bx.box(n.ErrorKind))
	t.arg(bx.box(js(n.Data)))
	t.arg(bx.ts(n.StartedAt))
	t.arg(bx.ts(n.FinishedAt))
	t.arg(bx.ts(n.UpdatedAt))
	t.arg(attempt)
}

// nodeUpsertN writes nodes (len(nodes) is a chunk size) with one
// statement, with the first attempts kept in their rows (folded).
func nodeUpsertN(t *wtx, bx *boxes, nodes []*store.Node, folded map[instKey]string) error {
	for _, n := range nodes {
		var a string
		if folded != nil {
			a = folded[instKey{n.RunID, n.NodeID, n.Scope}]
		}
		nodeArgs(t, bx, n, a)
	}
	if _, err := t.exec(nodeUpsertSQLN(len(nodes))); err != nil {
		if len(nodes) == 1 {
			return fmt.Errorf("sqlitestore: upsert node %q of run %q: %w", nodes[0].NodeID, nodes[0].RunID, err)
		}
		return fmt.Errorf("sqlitestore: upsert %d nodes of run %q: %w", len(nodes), nodes[0].RunID, err)
	}
	return nil
}

// nodeUpsertSQL writes a node row; a row written without an attempt
// keeps the one it holds.
const nodeUpsertSQL = `INSERT INTO node (` + nodeCols + `, attempt) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`

const nodeUpsertTail = ` ON CONFLICT (run_id, node_id, scope) DO UPDATE SET iteration = excluded.iteration, kind = excluded.kind,
	state = excluded.state, attempts = excluded.attempts, output = excluded.output, output_type = excluded.output_type,
	error = excluded.error, error_kind = excluded.error_kind, data = excluded.data, started_at = excluded.started_at,
	finished_at = excluded.finished_at, updated_at = excluded.updated_at,
	attempt = CASE WHEN excluded.attempt = '' THEN node.attempt ELSE excluded.attempt END`

// nodeUpsertSQLN is nodeUpsertSQL for n rows (a chunk size).
var nodeUpsertSQLN = chunkSQLs(func(n int) string { return multiRow(nodeUpsertSQL, n) + nodeUpsertTail })

// instKey names a node instance of a run.
type instKey struct{ run, node, scope string }

// foldedAttempt is an attempt kept in its node's row (column attempt):
// a step's first attempt that started and finished in one commit, with
// its node row in that commit (a compute step's). The keys are short:
// the row is written for every compute step.
type foldedAttempt struct {
	Number   int    `json:"n"`
	State    string `json:"s"`
	Owner    string `json:"o,omitempty"`
	Lease    string `json:"l,omitempty"`
	Beat     string `json:"h,omitempty"`
	Detail   string `json:"d,omitempty"`
	Error    string `json:"e,omitempty"`
	Kind     string `json:"k,omitempty"`
	Started  string `json:"b,omitempty"`
	Finished string `json:"f,omitempty"`
	PID      int    `json:"p,omitempty"`
	PIDStart string `json:"q,omitempty"`
}

// foldAttempts takes out of starts the attempts that are kept in their
// node rows (see foldedAttempt) and returns them encoded by node
// instance; starts itself is not changed.
func foldAttempts(nodes []*store.Node, starts []*store.Attempt) ([]*store.Attempt, map[instKey]string, error) {
	if len(nodes) == 0 || len(starts) == 0 {
		return starts, nil, nil
	}
	// in holds the batch's node instances, with the attempt folded into
	// each ("" until one is)
	in := make(map[instKey]string, len(nodes))
	for _, n := range nodes {
		in[instKey{n.RunID, n.NodeID, n.Scope}] = ""
	}
	rest := make([]*store.Attempt, 0, len(starts))
	var buf []byte
	folded := false
	for _, a := range starts {
		k := instKey{a.RunID, a.NodeID, a.Scope}
		if a.Number != 1 || a.State == "" || a.State == store.AttemptRunning || a.FinishedAt.IsZero() {
			rest = append(rest, a)
			continue
		}
		if f, ok := in[k]; !ok || f != "" {
			rest = append(rest, a)
			continue
		}
		buf = appendFolded(buf[:0], a)
		in[k] = string(buf)
		folded = true
	}
	if !folded {
		return rest, nil, nil
	}
	return rest, in, nil
}

// appendFolded appends a's foldedAttempt as JSON, the bytes json.Marshal
// writes for it (TestFoldedAttemptText compares the two): it is encoded
// for every compute step, and json.Marshal's reflection was a tenth of
// a batch's CPU.
func appendFolded(b []byte, a *store.Attempt) []byte {
	b = append(b, `{"n":`...)
	b = strconv.AppendInt(b, int64(a.Number), 10)
	b = appendJSONField(b, "s", string(a.State), true)
	b = appendJSONField(b, "o", a.Owner, false)
	b = appendTimeField(b, "l", a.LeaseExpiresAt)
	b = appendTimeField(b, "h", a.HeartbeatAt)
	b = appendJSONField(b, "d", a.Detail, false)
	b = appendJSONField(b, "e", a.Error, false)
	b = appendJSONField(b, "k", a.ErrorKind, false)
	b = appendTimeField(b, "b", a.StartedAt)
	b = appendTimeField(b, "f", a.FinishedAt)
	if a.PID != 0 {
		b = append(b, `,"p":`...)
		b = strconv.AppendInt(b, int64(a.PID), 10)
	}
	b = appendJSONField(b, "q", a.PIDStart, false)
	return append(b, '}')
}

// appendJSONField appends ,"key":"v" (v as json.Marshal quotes it),
// nothing for an empty v unless always.
func appendJSONField(b []byte, key, v string, always bool) []byte {
	if v == "" && !always {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendJSONString(b, v)
}

// appendJSONString appends v quoted as json.Marshal quotes it.
func appendJSONString(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(v) // escapes, invalid UTF-8: json.Marshal's own rules
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, v...)
	return append(b, '"')
}

// appendTimeField appends ,"key":"ts(t)", nothing for the zero time.
func appendTimeField(b []byte, key string, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':', '"')
	b = appendTS(b, t)
	return append(b, '"')
}

// unfold decodes an attempt kept in a node row.
func unfold(run, node, scope, text string) (*store.Attempt, error) {
	var f foldedAttempt
	if err := json.Unmarshal([]byte(text), &f); err != nil {
		return nil, fmt.Errorf("the first attempt kept in the row of node %q [%s] is damaged: %v", node, scope, err)
	}
	return &store.Attempt{RunID: run, NodeID: node, Scope: scope, Number: f.Number, State: store.AttemptState(f.State),
		Owner: f.Owner, LeaseExpiresAt: pt(f.Lease), HeartbeatAt: pt(f.Beat), Detail: f.Detail, Error: f.Error,
		ErrorKind: f.Kind, StartedAt: pt(f.Started), FinishedAt: pt(f.Finished), PID: f.PID, PIDStart: f.PIDStart}, nil
}

// unfoldSQL copies the attempts kept in node rows (foldedAttempt) to the
// attempt table; the caller adds the rows' condition.
const unfoldSQL = `INSERT INTO attempt (` + attemptCols + `, pid, pid_start)
	SELECT run_id, node_id, scope, json_extract(attempt, '$.n'), json_extract(attempt, '$.s'),
		coalesce(json_extract(attempt, '$.o'), ''), coalesce(json_extract(attempt, '$.l'), ''),
		coalesce(json_extract(attempt, '$.h'), ''), coalesce(json_extract(attempt, '$.d'), ''),
		coalesce(json_extract(attempt, '$.e'), ''), coalesce(json_extract(attempt, '$.k'), ''),
		coalesce(json_extract(attempt, '$.b'), ''), coalesce(json_extract(attempt, '$.f'), ''),
		coalesce(json_extract(attempt, '$.p'), 0), coalesce(json_extract(attempt, '$.q'), '')
	FROM node WHERE attempt <> ''`

// NodeReset implements store.Store.
func (s *Store) NodeReset(ctx context.Context, p *store.NodeResetParams) (int, error) {
	if len(p.NodeIDs) == 0 {
		return 0, nil
	}
	var n int64
	err := s.tx(ctx, "reset nodes", func(tx *sql.Tx) error {
		in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(p.NodeIDs)), ",") + ")"
		args := []any{p.RunID}
		for _, id := range p.NodeIDs {
			args = append(args, id)
		}
		if p.Scope != "" {
			// Scopes hold "_" and "%": compare a prefix, never LIKE.
			in += ` AND (scope = ? OR substr(scope, 1, ?) = ?)`
			args = append(args, p.Scope, len(p.Scope)+1, p.Scope+"/")
		}
		if _, err := tx.ExecContext(ctx, unfoldSQL+` AND run_id = ? AND node_id IN `+in, args...); err != nil {
			return fmt.Errorf("sqlitestore: keep the attempts of the nodes reset in run %q: %w", p.RunID, err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM node WHERE run_id = ? AND node_id IN `+in, args...)
		if err != nil {
			return fmt.Errorf("sqlitestore: reset nodes of run %q: %w", p.RunID, err)
		}
		n, _ = res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `DELETE FROM approval WHERE run_id = ? AND node_id IN `+in, args...); err != nil {
			return fmt.Errorf("sqlitestore: reset approvals of run %q: %w", p.RunID, err)
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

const attemptStartSQL = `INSERT INTO attempt (` + attemptCols + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`

// attemptStartSQLN is attemptStartSQL for n rows (a chunk size).
var attemptStartSQLN = chunkSQLs(func(n int) string { return multiRow(attemptStartSQL, n) })

// attemptStartN inserts attempts (len(as) is a chunk size) with one
// statement. A failed multi-row insert changes nothing (the statement is
// rolled back alone) and is done again row by row, for the error naming
// the attempt.
func attemptStartN(t *wtx, bx *boxes, as []*store.Attempt) error {
	if len(as) == 1 {
		return attemptStart(t, as[0])
	}
	for _, a := range as {
		st := a.State
		if st == "" {
			st = store.AttemptRunning
		}
		t.arg(bx.box(a.RunID))
		t.arg(a.NodeID)
		t.arg(a.Scope)
		t.arg(int64(a.Number))
		t.arg(bx.box(string(st)))
		t.arg(bx.box(a.Owner))
		t.arg(bx.ts(a.LeaseExpiresAt))
		t.arg(bx.ts(a.HeartbeatAt))
		t.arg(bx.box(a.Detail))
		t.arg(bx.box(a.Error))
		t.arg(bx.box(a.ErrorKind))
		t.arg(bx.ts(a.StartedAt))
		t.arg(bx.ts(a.FinishedAt))
	}
	if _, err := t.exec(attemptStartSQLN(len(as))); err == nil {
		return nil
	}
	for _, a := range as {
		if err := attemptStart(t, a); err != nil {
			return err
		}
	}
	return nil
}

func attemptStart(t *wtx, a *store.Attempt) error {
	st := a.State
	if st == "" {
		st = store.AttemptRunning
	}
	for _, v := range []driver.Value{a.RunID, a.NodeID, a.Scope, int64(a.Number), string(st), a.Owner, ts(a.LeaseExpiresAt), ts(a.HeartbeatAt),
		a.Detail, a.Error, a.ErrorKind, ts(a.StartedAt), ts(a.FinishedAt)} {
		t.arg(v)
	}
	if _, err := t.exec(attemptStartSQL); err != nil {
		if c := sqliteCode(err); c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || c == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
			return fmt.Errorf("sqlitestore: start attempt %d of %q: %w: it exists", a.Number, a.NodeID, store.ErrConflict)
		}
		return fmt.Errorf("sqlitestore: start attempt %d of %q: %w", a.Number, a.NodeID, err)
	}
	return nil
}

// AttemptHeartbeat implements store.Store.
func (s *Store) AttemptHeartbeat(ctx context.Context, p *store.AttemptHeartbeatParams) error {
	return s.BatchCommit(ctx, &store.Batch{AttemptHeartbeats: []*store.AttemptHeartbeatParams{p}})
}

func attemptHeartbeat(ctx context.Context, tx execer, p *store.AttemptHeartbeatParams) error {
	q := `UPDATE attempt SET heartbeat_at = ?, detail = ?`
	args := []any{ts(p.Now), p.Detail}
	if !p.LeaseExpiresAt.IsZero() {
		q += `, lease_expires_at = ?`
		args = append(args, ts(p.LeaseExpiresAt))
	}
	if p.PID != 0 {
		q += `, pid = ?, pid_start = ?`
		args = append(args, p.PID, p.PIDStart)
	}
	args = append(args, p.RunID, p.NodeID, p.Scope, p.Number)
	if _, err := tx.ExecContext(ctx, q+` WHERE run_id = ? AND node_id = ? AND scope = ? AND number = ? AND state = 'running'`, args...); err != nil {
		return fmt.Errorf("sqlitestore: heartbeat attempt %d of %q: %w", p.Number, p.NodeID, err)
	}
	return nil
}

// AttemptFinish implements store.Store.
func (s *Store) AttemptFinish(ctx context.Context, p *store.AttemptFinishParams) error {
	return s.BatchCommit(ctx, &store.Batch{AttemptFinishes: []*store.AttemptFinishParams{p}})
}

const attemptFinishSQL = `UPDATE attempt SET state = ?, error = ?, error_kind = ?, finished_at = ?
	WHERE run_id = ? AND node_id = ? AND scope = ? AND number = ?`

func attemptFinish(t *wtx, p *store.AttemptFinishParams) error {
	for _, v := range []driver.Value{string(p.State), p.Error, p.ErrorKind, ts(p.Now), p.RunID, p.NodeID, p.Scope, int64(p.Number)} {
		t.arg(v)
	}
	n, err := t.exec(attemptFinishSQL)
	if err != nil {
		return fmt.Errorf("sqlitestore: finish attempt %d of %q: %w", p.Number, p.NodeID, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlitestore: finish attempt %d of %q [%s] of run %q: %w", p.Number, p.NodeID, p.Scope, p.RunID, store.ErrNotFound)
	}
	return nil
}

// AttemptList implements store.Store: the rows of the attempt table and
// the first attempts kept in node rows, in one order.
func (s *Store) AttemptList(ctx context.Context, p *store.AttemptListParams) ([]*store.Attempt, error) {
	q := `SELECT ` + attemptCols + `, pid, pid_start FROM attempt WHERE run_id = ?`
	args := []any{p.RunID}
	if p.State != "" {
		q += ` AND state = ?`
		args = append(args, string(p.State))
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY node_id, scope, number`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list attempts of run %q: %w", p.RunID, err)
	}
	defer rows.Close()
	var out []*store.Attempt
	for rows.Next() {
		var a store.Attempt
		var lease, hb, started, finished string
		if err := rows.Scan(&a.RunID, &a.NodeID, &a.Scope, &a.Number, &a.State, &a.Owner, &lease, &hb,
			&a.Detail, &a.Error, &a.ErrorKind, &started, &finished, &a.PID, &a.PIDStart); err != nil {
			return nil, fmt.Errorf("sqlitestore: list attempts of run %q: %w", p.RunID, err)
		}
		a.LeaseExpiresAt, a.HeartbeatAt, a.StartedAt, a.FinishedAt = pt(lease), pt(hb), pt(started), pt(finished)
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list attempts of run %q: %w", p.RunID, err)
	}
	rows.Close()
	if p.State == store.AttemptRunning {
		return out, nil // a kept attempt has finished
	}
	frows, err := s.r.QueryContext(ctx, `SELECT node_id, scope, attempt FROM node WHERE run_id = ? AND attempt <> ''`, p.RunID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list attempts of run %q: %w", p.RunID, err)
	}
	defer frows.Close()
	n := len(out)
	for frows.Next() {
		var node, scope, text string
		if err := frows.Scan(&node, &scope, &text); err != nil {
			return nil, fmt.Errorf("sqlitestore: list attempts of run %q: %w", p.RunID, err)
		}
		a, err := unfold(p.RunID, node, scope, text)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list attempts of run %q: %w", p.RunID, err)
		}
		if p.State == "" || a.State == p.State {
			out = append(out, a)
		}
	}
	if err := frows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list attempts of run %q: %w", p.RunID, err)
	}
	if len(out) > n {
		sort.SliceStable(out, func(i, j int) bool {
			a, b := out[i], out[j]
			if a.NodeID != b.NodeID {
				return a.NodeID < b.NodeID
			}
			if a.Scope != b.Scope {
				return a.Scope < b.Scope
			}
			return a.Number < b.Number
		})
	}
	return out, nil
}
