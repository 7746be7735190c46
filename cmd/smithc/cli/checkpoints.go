package cli

import (
	"fmt"
	"io"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/runtime/store/sqlitestore"
)

// checkpointed is a store with a background checkpointer (a SQLite store
// opened for writing).
type checkpointed interface {
	CheckpointStats() sqlitestore.CheckpointStats
}

// warnedStore is a SQLite store whose Close says on stderr when its
// background checkpoints failed: SQLite's own checkpoint on the writer
// takes over, but a failure there (an I/O error, a full disk) is the
// first sign of one that commits will meet, and a -wal file that is
// never checkpointed keeps growing.
type warnedStore struct {
	*sqlitestore.Store
	stderr io.Writer
}

func (s warnedStore) Close() error {
	err := s.Store.Close()
	warnCheckpoints(s.stderr, s.Path(), s.CheckpointStats())
	return err
}

func warnCheckpoints(w io.Writer, path string, st sqlitestore.CheckpointStats) {
	if st.Errors == 0 {
		return
	}
	fmt.Fprintf(w, "smithc: warning: %d of %d background checkpoints of %s failed (the last: %v); its -wal file is copied into it only at the next checkpoint that works: check the disk and the file\n",
		st.Errors, st.Runs, path, st.LastErr)
}

var _ store.Store = warnedStore{}

// checkpointCollector exposes a SQLite store's checkpoint counts to
// Prometheus (smithc worker --metrics-addr, smithc serve's /metrics).
type checkpointCollector struct{ st checkpointed }

var (
	checkpointsDesc = prometheus.NewDesc("smithc_sqlite_checkpoints_total",
		"Background checkpoints of the SQLite store's WAL, by outcome (complete, partial: a reader held an older snapshot, busy, error), and the writer's own restarts of the log (restart).",
		[]string{"outcome"}, nil)
	checkpointFramesDesc = prometheus.NewDesc("smithc_sqlite_checkpoint_frames",
		"WAL frames the last background checkpoint found, and how many of them it copied into the database file.",
		[]string{"of"}, nil)
)

func (c checkpointCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- checkpointsDesc
	ch <- checkpointFramesDesc
}

func (c checkpointCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.st.CheckpointStats()
	for _, o := range []struct {
		name string
		n    int64
	}{{"complete", st.Complete}, {"partial", st.Partial}, {"busy", st.Busy}, {"error", st.Errors}, {"restart", st.Restarts}} {
		ch <- prometheus.MustNewConstMetric(checkpointsDesc, prometheus.CounterValue, float64(o.n), o.name)
	}
	ch <- prometheus.MustNewConstMetric(checkpointFramesDesc, prometheus.GaugeValue, float64(st.Frames), "log")
	ch <- prometheus.MustNewConstMetric(checkpointFramesDesc, prometheus.GaugeValue, float64(st.Checkpointed), "checkpointed")
}

// registerCheckpoints adds st's checkpoint counts to reg when st has a
// background checkpointer.
func registerCheckpoints(reg prometheus.Registerer, st store.Store) {
	if c, ok := st.(checkpointed); ok {
		reg.MustRegister(checkpointCollector{c})
	}
}
