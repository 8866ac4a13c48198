package gateway

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.HistogramVec
	jobs         prometheus.Counter
	items        *prometheus.CounterVec
	syncLatency  prometheus.Histogram
	wsConns      prometheus.Gauge
	wsSlowClosed prometheus.Counter
	wsMessages   *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_http_request_duration_seconds", Help: "HTTP request latency by route and status.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"route", "code"}),
		jobs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_jobs_submitted_total", Help: "Batch jobs accepted.",
		}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_items_submitted_total", Help: "Items accepted, by kind (batch or sync).",
		}, []string{"kind"}),
		syncLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "gateway_predict_latency_seconds", Help: "Synchronous prediction latency, queue to result.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		wsConns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_websocket_connections", Help: "Open WebSocket connections.",
		}),
		wsSlowClosed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_websocket_slow_consumer_closes_total", Help: "WebSocket connections closed because their send buffer filled.",
		}),
		wsMessages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_websocket_messages_sent_total", Help: "WebSocket messages sent, by type.",
		}, []string{"type"}),
	}
	m.reg.MustRegister(m.requests, m.jobs, m.items, m.syncLatency, m.wsConns, m.wsSlowClosed, m.wsMessages,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Hijack lets the WebSocket upgrader take over the connection.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("response writer cannot hijack")
	}
	s.status = http.StatusSwitchingProtocols
	return h.Hijack()
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (g *Gateway) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		g.metrics.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Observe(time.Since(start).Seconds())
	})
}
