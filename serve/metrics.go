package serve

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/smithc/smithc/runtime"
)

// metrics is what /metrics shows: runs by status (read from the store at
// each scrape, so it counts runs of every process sharing it), and the
// server's own requests.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
}

var runsDesc = prometheus.NewDesc("smithc_runs", "Runs in the store, by status.", []string{"status"}, nil)

type runsCollector struct{ eng *runtime.Engine }

func (c runsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- runsDesc }

func (c runsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	runs, _, err := c.eng.RunList(ctx, runtime.RunListParams{})
	if err != nil {
		ch <- prometheus.NewInvalidMetric(runsDesc, err)
		return
	}
	counts := map[string]int{}
	for _, st := range allStatuses {
		counts[string(st)] = 0
	}
	for _, r := range runs {
		counts[string(r.Status)]++
	}
	for status, n := range counts {
		ch <- prometheus.MustNewConstMetric(runsDesc, prometheus.GaugeValue, float64(n), status)
	}
}

func newMetrics(reg *prometheus.Registry, eng *runtime.Engine) *metrics {
	m := &metrics{reg: reg, requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "smithc_serve_requests_total", Help: "HTTP requests served, by method and status code.",
	}, []string{"method", "code"})}
	reg.MustRegister(m.requests, runsCollector{eng}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
