package autoscaler

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the autoscaler's Prometheus metrics.
type metrics struct {
	reg       *prometheus.Registry
	desired   prometheus.Gauge
	current   prometheus.Gauge
	backlog   prometheus.Gauge
	queue     *prometheus.GaugeVec
	rate      prometheus.Gauge
	drain     prometheus.Gauge
	decisions *prometheus.CounterVec
	errors    *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		desired: prometheus.NewGauge(prometheus.GaugeOpts{Name: "autoscaler_desired_replicas",
			Help: "Worker replicas the backlog needs now, clamped to min..max."}),
		current: prometheus.NewGauge(prometheus.GaugeOpts{Name: "autoscaler_current_replicas",
			Help: "Replica count of the worker service (after the last decision)."}),
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{Name: "autoscaler_backlog_items",
			Help: "Items not done yet, all queues: each model version's batch backlog (its JOBIN backlog consumer) and synchronous queue."}),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "autoscaler_queue_backlog_items",
			Help: "Items not done yet per queue (its durable consumer: backlog_MODEL_VERSION, sync_MODEL_VERSION; or a sync subject without one)."}, []string{"queue"}),
		rate: prometheus.NewGauge(prometheus.GaugeOpts{Name: "autoscaler_worker_rate_items_per_second",
			Help: "Items/s per worker the decision used (measured, or assumed)."}),
		drain: prometheus.NewGauge(prometheus.GaugeOpts{Name: "autoscaler_drain_estimate_seconds",
			Help: "Seconds the backlog takes at the replica count decided, at the rate used."}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "autoscaler_decisions_total",
			Help: "Decisions taken, by action (up, down, wake, hold)."}, []string{"action"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "autoscaler_errors_total",
			Help: "Failed steps, by stage (backlog, replicas, scale)."}, []string{"stage"}),
	}
	m.reg.MustRegister(m.desired, m.current, m.backlog, m.queue, m.rate, m.drain, m.decisions, m.errors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, a := range []string{ActionUp, ActionDown, ActionWake, ActionHold} {
		m.decisions.WithLabelValues(a)
	}
	return m
}

// observe records a snapshot and the decision taken on it.
func (m *metrics) observe(s Snapshot, d Decision) {
	m.backlog.Set(float64(s.Backlog))
	m.queue.Reset()
	for _, q := range s.Queues {
		name := q.Consumer
		if name == "" {
			name = q.Subject
		}
		m.queue.WithLabelValues(name).Set(float64(q.Items))
	}
	m.desired.Set(float64(d.Desired))
	m.current.Set(float64(d.Replicas))
	m.rate.Set(d.Rate)
	m.drain.Set(d.Drain)
	m.decisions.WithLabelValues(d.Action).Inc()
}

// server serves /metrics and /health: healthy while the loop keeps
// ticking (a tick that failed still counts; the failure is in the logs
// and autoscaler_errors_total).
type server struct {
	srv  *http.Server
	ln   net.Listener
	last atomic.Int64 // unix nanoseconds of the last tick
	done chan struct{}
}

func startServer(addr string, m *metrics, stale time.Duration, errc chan<- error) (*server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener: %w", err)
	}
	s := &server{ln: ln, done: make(chan struct{})}
	s.last.Store(time.Now().UnixNano())
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		if age := time.Since(time.Unix(0, s.last.Load())); age > stale {
			http.Error(w, fmt.Sprintf("no decision for %s", age.Round(time.Second)), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			select {
			case errc <- fmt.Errorf("metrics server: %w", err):
			default:
			}
		}
	}()
	return s, nil
}

func (s *server) ticked() {
	if s != nil {
		s.last.Store(time.Now().UnixNano())
	}
}

func (s *server) addr() string { return s.ln.Addr().String() }

func (s *server) stop(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	<-s.done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
