package pgstore

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/smithc/smithc/internal/pgtest"
	"github.com/smithc/smithc/runtime/store"
)

// TestAgentRepliesReadFromTheirIndex: EventList of the indexed kind is
// answered from the partial index event_agent_reply_idx (storetest's
// IndexedKind checks what it finds). Both plans below are generic ones,
// as a prepared statement settles on after five runs (pgx prepares every
// query it runs): EventList's query, with the kind written into it, uses
// the index; the same query with the kind as a parameter could not,
// which is why it is written in.
func TestAgentRepliesReadFromTheirIndex(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.NewDatabase(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q, args := eventListSQL(&store.EventListParams{RunID: "r", Kind: store.IndexedEventKind})
	if plan := genericPlan(t, s, q, args...); !strings.Contains(plan, "event_agent_reply_idx") {
		t.Errorf("the plan of EventList(Kind: %s) is\n%s\nwant it to use event_agent_reply_idx", store.IndexedEventKind, plan)
	}
	param := strings.Replace(q, "'"+store.IndexedEventKind+"'", fmt.Sprintf("$%d", len(args)+1), 1)
	if plan := genericPlan(t, s, param, append(args, store.IndexedEventKind)...); strings.Contains(plan, "event_agent_reply_idx") {
		t.Errorf("a generic plan with the kind as a parameter used the partial index:\n%s\nthe comment on eventListSQL no longer holds", plan)
	}
}

// genericPlan is PostgreSQL's EXPLAIN of q's generic plan (q prepared,
// with args, strings and integers, written into its EXECUTE), its lines
// joined, with sequential scans priced out, so that the plan shows which
// index the query can use rather than what a small table makes cheapest.
func genericPlan(t *testing.T, s *Store, q string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	types := make([]string, len(args))
	lits := make([]string, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case string:
			types[i], lits[i] = "text", "'"+strings.ReplaceAll(a, "'", "''")+"'"
		case int64, int:
			types[i], lits[i] = "bigint", fmt.Sprint(a)
		default:
			t.Fatalf("genericPlan: argument %d is a %T", i+1, a)
		}
	}
	var plan []string
	for _, stmt := range []string{
		"SET LOCAL enable_seqscan = off",
		"SET LOCAL plan_cache_mode = force_generic_plan",
		"PREPARE plan_q (" + strings.Join(types, ", ") + ") AS " + q,
		"EXPLAIN EXECUTE plan_q (" + strings.Join(lits, ", ") + ")",
		"DEALLOCATE plan_q", // a session's, not the transaction's
	} {
		// pgconn's simple query, as psql sends it: pgx's own would
		// read $1 in the PREPARE as its placeholder.
		res, err := tx.Conn().PgConn().Exec(ctx, stmt).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		for _, r := range res {
			for _, row := range r.Rows {
				plan = append(plan, string(row[0]))
			}
		}
	}
	return strings.Join(plan, "\n")
}
