package worker

import (
	"bytes"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
)

// Metrics are a worker's Prometheus metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	attempts     *prometheus.CounterVec
	nodes        *prometheus.CounterVec
	claimLat     prometheus.Histogram
	takeovers    prometheus.Counter
	conflicts    prometheus.Counter
	sessions     *prometheus.CounterVec
	queue        prometheus.Gauge
	runsByStatus *prometheus.GaugeVec

	// Step-level distribution (task.go).
	taskClaims   *prometheus.CounterVec
	taskClaimLat prometheus.Histogram
	taskEnds     *prometheus.CounterVec
	taskExpiries prometheus.Counter
	taskQueue    prometheus.Gauge
}

// NewMetrics registers the worker's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smithc_worker_attempts_total",
			Help: "Attempts of steps by what happened to them (started, failed, abandoned)."}, []string{"event"}),
		nodes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smithc_worker_nodes_total",
			Help: "Node instances that ended, by state (finished, failed, skipped, cancelled)."}, []string{"state"}),
		claimLat: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "smithc_worker_claim_latency_seconds",
			Help:    "From a run becoming claimable (created detached or released) to a worker claiming it.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		takeovers: prometheus.NewCounter(prometheus.CounterOpts{Name: "smithc_worker_lease_takeovers_total",
			Help: "Runs taken over from an owner that died or whose lease expired."}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{Name: "smithc_worker_claim_conflicts_total",
			Help: "Claims lost to another worker."}),
		sessions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smithc_worker_sessions_total",
			Help: "Sessions of runs this worker executed, by the status they ended in."}, []string{"status"}),
		queue: prometheus.NewGauge(prometheus.GaugeOpts{Name: "smithc_worker_queue_depth",
			Help: "Runs that need a worker and are not executing here, at the last scan."}),
		runsByStatus: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "smithc_runs",
			Help: "Non-terminal runs in the store by status, at the last scan."}, []string{"status"}),
	}
	m.taskClaims = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smithc_worker_task_claims_total",
		Help: "Tasks (attempts of steps of any run) this worker claimed, by action."}, []string{"action"})
	m.taskClaimLat = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "smithc_worker_task_claim_latency_seconds",
		Help:    "From a task being queued to this worker claiming it.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)})
	m.taskEnds = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smithc_worker_tasks_total",
		Help: "Tasks this worker executed, by how they ended (completed; dropped: the lease was lost and the fencing token refused the result; handed_back; error)."}, []string{"result"})
	m.taskExpiries = prometheus.NewCounter(prometheus.CounterOpts{Name: "smithc_worker_task_lease_expiries_total",
		Help: "Tasks of the runs this worker holds whose executing worker's lease expired (reaped and queued again as a new attempt)."})
	m.taskQueue = prometheus.NewGauge(prometheus.GaugeOpts{Name: "smithc_worker_task_queue_depth",
		Help: "Queued tasks of all runs, waiting for a worker, at the last poll."})
	reg.MustRegister(m.attempts, m.nodes, m.claimLat, m.takeovers, m.conflicts, m.sessions, m.queue, m.runsByStatus,
		m.taskClaims, m.taskClaimLat, m.taskEnds, m.taskExpiries, m.taskQueue)
	return m
}

// Observe counts an event of a run this worker executes; pass it as the
// engine's ObserveFunc.
func (m *Metrics) Observe(e store.Event) {
	if m == nil {
		return
	}
	switch e.Kind {
	case runtime.EventAttemptStarted:
		m.attempts.WithLabelValues("started").Inc()
	case runtime.EventAttemptFailed:
		m.attempts.WithLabelValues("failed").Inc()
	case runtime.EventAttemptAbandoned:
		m.attempts.WithLabelValues("abandoned").Inc()
		if bytes.Contains(e.Data, []byte(`"lease_expired":true`)) {
			m.taskExpiries.Inc()
		}
	case runtime.EventNodeFinished, runtime.EventNodeFailed, runtime.EventNodeSkipped, runtime.EventNodeCancelled:
		m.nodes.WithLabelValues(strings.ToLower(strings.TrimPrefix(e.Kind, "Node"))).Inc()
	}
}

func (m *Metrics) claimLatency(d time.Duration) {
	if m != nil && d >= 0 {
		m.claimLat.Observe(d.Seconds())
	}
}

func (m *Metrics) takeover() {
	if m != nil {
		m.takeovers.Inc()
	}
}

func (m *Metrics) claimConflict() {
	if m != nil {
		m.conflicts.Inc()
	}
}

func (m *Metrics) runEnded(status string) {
	if m != nil {
		m.sessions.WithLabelValues(status).Inc()
	}
}

func (m *Metrics) setQueue(n int) {
	if m != nil {
		if n < 0 {
			n = 0
		}
		m.queue.Set(float64(n))
	}
}

func (m *Metrics) observeRuns(runs []*store.Run) {
	if m == nil {
		return
	}
	counts := map[store.RunStatus]int{}
	for _, st := range candidates {
		counts[st] = 0
	}
	for _, r := range runs {
		counts[r.Status]++
	}
	for st, n := range counts {
		m.runsByStatus.WithLabelValues(string(st)).Set(float64(n))
	}
}

func (m *Metrics) taskClaimed(t *store.Task, now time.Time) {
	if m == nil {
		return
	}
	m.taskClaims.WithLabelValues(t.Action).Inc()
	if d := now.Sub(t.CreatedAt); d >= 0 {
		m.taskClaimLat.Observe(d.Seconds())
	}
}

func (m *Metrics) taskEnded(result string) {
	if m != nil {
		m.taskEnds.WithLabelValues(result).Inc()
	}
}

func (m *Metrics) setTaskQueue(n int) {
	if m != nil {
		m.taskQueue.Set(float64(n))
	}
}
