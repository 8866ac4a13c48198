package worker

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

type metrics struct {
	reg          *prometheus.Registry
	batchSize    *prometheus.HistogramVec
	queueWait    *prometheus.HistogramVec
	inference    *prometheus.HistogramVec
	items        *prometheus.CounterVec
	chunks       *prometheus.CounterVec
	redelivered  prometheus.Counter
	deadLettered *prometheus.CounterVec
	lettersLost  *prometheus.CounterVec
	unstored     prometheus.Counter
	// batches and itemsRun feed the worker's announcement.
	batches, itemsRun atomic.Uint64
}

// newMetrics returns the worker's metrics; connected reports whether its
// NATS connection is up.
func newMetrics(connected func() bool) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "worker_batch_size", Help: "Items per TensorFlow batch.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}, []string{"model"}),
		queueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "worker_queue_wait_seconds",
			Help:    "Time from a chunk's sending to the workers (a batch ticket by the scheduler, a synchronous prediction by a gateway) until a worker holds its items, ready to batch, by model and queue (label priority: batch or sync). The batch wait before the ticket is scheduler_dispatch_wait_seconds.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 18),
		}, []string{"model", "priority"}),
		inference: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "worker_inference_seconds", Help: "TensorFlow time per batch.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}, []string{"model"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "worker_items_total", Help: "Items processed, by model and outcome (ok, failed, skipped: cancelled or past their deadline). items/s is its rate.",
		}, []string{"model", "outcome"}),
		chunks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "worker_chunks_total", Help: "Chunks finished, by model and outcome (stored, duplicate, unstored, nak; replied, busy, expired for synchronous predictions).",
		}, []string{"model", "outcome"}),
		redelivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "worker_redelivered_chunks_total", Help: "Chunks received more than once.",
		}),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "worker_dead_lettered_chunks_total", Help: "Chunks given up after exhausting their deliveries (their items failed), kept as dead letters with their payloads, by model.",
		}, []string{"model"}),
		lettersLost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "worker_dead_letters_not_kept_total", Help: "Chunks given up whose dead letter could not be kept (the dead-letter stream full: DLQ_MAX_BYTES, or their input gone), by model: their items failed all the same.",
		}, []string{"model"}),
		unstored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "worker_unstored_chunks_total", Help: "Chunks whose result the full results store refused for WORKER_STORE_RETRY: their items failed with the reason.",
		}),
	}
	m.reg.MustRegister(m.batchSize, m.queueWait, m.inference, m.items, m.chunks, m.redelivered, m.deadLettered, m.lettersLost, m.unstored,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "worker_nats_connected", Help: "1 while this worker's NATS connection is up, 0 while it is (re)connecting.",
		}, func() float64 {
			if connected() {
				return 1
			}
			return 0
		}))
	return m
}

// presentModel makes model's dead-letter series present at 0, for rate()
// and increase() before its first letter.
func (m *metrics) presentModel(model string) {
	m.deadLettered.WithLabelValues(model)
	m.lettersLost.WithLabelValues(model)
}
