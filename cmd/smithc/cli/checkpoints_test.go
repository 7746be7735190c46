package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/smithc/smithc/runtime/store/sqlitestore"
)

type fakeCheckpoints sqlitestore.CheckpointStats

func (f fakeCheckpoints) CheckpointStats() sqlitestore.CheckpointStats {
	return sqlitestore.CheckpointStats(f)
}

// TestCheckpointCounts: the store's checkpoint counts reach Prometheus by
// outcome, and a close after failed checkpoints warns on stderr with the
// count and the last error (nothing when none failed).
func TestCheckpointCounts(t *testing.T) {
	st := fakeCheckpoints{Runs: 9, Complete: 5, Partial: 1, Busy: 1, Errors: 2, Restarts: 3, Frames: 40, Checkpointed: 38,
		LastErr: errors.New("disk I/O error (778)")}
	reg := prometheus.NewRegistry()
	reg.MustRegister(checkpointCollector{st})
	want := `
# HELP smithc_sqlite_checkpoints_total Background checkpoints of the SQLite store's WAL, by outcome (complete, partial: a reader held an older snapshot, busy, error), and the writer's own restarts of the log (restart).
# TYPE smithc_sqlite_checkpoints_total counter
smithc_sqlite_checkpoints_total{outcome="busy"} 1
smithc_sqlite_checkpoints_total{outcome="complete"} 5
smithc_sqlite_checkpoints_total{outcome="error"} 2
smithc_sqlite_checkpoints_total{outcome="partial"} 1
smithc_sqlite_checkpoints_total{outcome="restart"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "smithc_sqlite_checkpoints_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(checkpointCollector{st}); n != 7 {
		t.Errorf("%d metrics, want 7 (5 outcomes, 2 frame counts)", n)
	}

	var b bytes.Buffer
	warnCheckpoints(&b, "/tmp/s.db", sqlitestore.CheckpointStats(st))
	for _, w := range []string{"2 of 9 background checkpoints of /tmp/s.db failed", "disk I/O error (778)", "check the disk"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("warning %q lacks %q", b.String(), w)
		}
	}
	b.Reset()
	warnCheckpoints(&b, "/tmp/s.db", sqlitestore.CheckpointStats{Runs: 4, Complete: 4})
	if b.Len() != 0 {
		t.Errorf("a warning with no failed checkpoint: %q", b.String())
	}
}
