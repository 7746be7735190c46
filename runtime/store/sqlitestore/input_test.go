package sqlitestore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
)

// TestLongInputIsWrittenOnce: a run's input longer than 1 KiB is kept
// apart from its row, so that the updates of the row (a session's start
// and end, lease renewals) do not write it again: ten of them add far
// less to the log than the input's length. It reads back as it was
// given, through RunGetByID and RunList, from a store reopened, after a
// migration down (the input back in the row) and up again; a short input
// stays in the row.
func TestLongInputIsWrittenOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "in.db")
	s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{CheckpointFrames: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	long := json.RawMessage(`{"text":"` + strings.Repeat("x", 200_000) + `"}`)
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	for id, in := range map[string]json.RawMessage{"long": long, "short": json.RawMessage(`{"n":1}`)} {
		if _, err := s.RunCreate(ctx, &store.RunCreateParams{Run: &store.Run{ID: id, Workflow: "w", Status: store.RunRunning, Input: in,
			Owner: "1@vm", LeaseExpiresAt: now.Add(time.Minute), Fence: 1}, Now: now}); err != nil {
			t.Fatal(err)
		}
	}
	walSize := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := walSize()
	for i := 0; i < 10; i++ {
		at := now.Add(time.Duration(i+1) * time.Second)
		if _, err := s.RunHeartbeat(ctx, &store.RunHeartbeatParams{ID: "long", Owner: "1@vm", LeaseExpiresAt: at.Add(time.Minute), Now: at}); err != nil {
			t.Fatal(err)
		}
	}
	st := store.RunFinished
	if err := s.BatchCommit(ctx, &store.Batch{Runs: []*store.RunUpdateParams{{ID: "long", Status: &st, Output: json.RawMessage(`1`), Now: now}}}); err != nil {
		t.Fatal(err)
	}
	if grew := walSize() - before; grew > int64(len(long))/4 {
		t.Errorf("eleven updates of the run's row wrote %d bytes of log for an input of %d", grew, len(long))
	}
	check := func(when string, s *sqlitestore.Store) {
		t.Helper()
		r, err := s.RunGetByID(ctx, &store.RunGetByIDParams{ID: "long"})
		if err != nil || !bytes.Equal(r.Input, long) || r.Status != store.RunFinished {
			t.Fatalf("%s: RunGetByID: input of %d bytes (want %d), status %s, %v", when, len(r.Input), len(long), r.Status, err)
		}
		runs, err := s.RunList(ctx, &store.RunListParams{})
		if err != nil || len(runs) != 2 {
			t.Fatalf("%s: RunList: %d runs, %v", when, len(runs), err)
		}
		for _, r := range runs {
			if want := map[string]string{"long": string(long), "short": `{"n":1}`}[r.ID]; string(r.Input) != want {
				t.Fatalf("%s: RunList: run %s has an input of %d bytes, want %d", when, r.ID, len(r.Input), len(want))
			}
		}
	}
	check("written", s)
	var apart, inRow int
	if err := s.DB().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM run_input), (SELECT count(*) FROM run WHERE input <> '')`).Scan(&apart, &inRow); err != nil {
		t.Fatal(err)
	}
	if apart != 1 || inRow != 1 {
		t.Errorf("%d inputs apart and %d in their row, want 1 and 1 (the long one apart)", apart, inRow)
	}
	if _, err := s.Migrate(ctx, sqlitestore.Down, 7); err != nil {
		t.Fatal(err)
	}
	var inRowLen int
	if err := s.DB().QueryRowContext(ctx, `SELECT length(input) FROM run WHERE id = 'long'`).Scan(&inRowLen); err != nil || inRowLen != len(long) {
		t.Fatalf("down to version 7: the row's input is %d bytes, %v; want %d", inRowLen, err, len(long))
	}
	if _, err := s.Migrate(ctx, sqlitestore.Up, 0); err != nil {
		t.Fatal(err)
	}
	check("down and up again", s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = sqlitestore.Open(ctx, path, sqlitestore.Options{ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	check("reopened read-only", s)
}
