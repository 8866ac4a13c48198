package sched

import (
	"time"

	"batchinfer/internal/wire"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	lead prometheus.Gauge
	// dispatchWait is the time from a job's submission to each of its
	// chunks' tickets being sent: the wait in the fair queue.
	dispatchWait *prometheus.HistogramVec
	// finished and duration count the jobs that end while this gateway
	// leads, and how long the completed ones took.
	finished *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func (m *metrics) leading(v bool) {
	if v {
		m.lead.Set(1)
	} else {
		m.lead.Set(0)
	}
}

// ended records a job's end (rec is its finished record).
func (m *metrics) ended(j *job, rec *wire.JobRecord) {
	st := rec.Status(time.Now())
	m.finished.WithLabelValues(j.model, j.tenant, st.State).Inc()
	if st.State == wire.StateCompleted && st.FinishedAt != nil {
		m.duration.WithLabelValues(j.model, rankName(j.rank)).Observe(max(st.FinishedAt.Sub(rec.CreatedAt), 0).Seconds())
	}
}

// dispatched records a ticket sent at now.
func (m *metrics) dispatched(j *job, now time.Time) {
	m.dispatchWait.WithLabelValues(j.model, rankName(j.rank)).Observe(max(now.Sub(j.created), 0).Seconds())
}

// backlogCollector exports the leader's backlog per model, tenant and
// priority when scraped.
type backlogCollector struct {
	read          func() map[backlogKey]backlogValue
	items, oldest *prometheus.Desc
}

func (c backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.items
	ch <- c.oldest
}

func (c backlogCollector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	for k, v := range c.read() {
		ch <- prometheus.MustNewConstMetric(c.items, prometheus.GaugeValue, float64(v.items), k.model, k.tenant, k.priority)
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, now.Sub(v.oldest).Seconds(), k.model, k.tenant, k.priority)
	}
}

// waitBuckets double from 10 ms to about 5.8 hours: a chunk waits from
// almost nothing (an idle system) to the time a large backlog takes to
// drain, and a job lasts as long.
var waitBuckets = prometheus.ExponentialBuckets(0.01, 2, 22)

func newMetrics(reg prometheus.Registerer, read func() map[backlogKey]backlogValue) *metrics {
	labels := []string{"model", "tenant", "priority"}
	m := &metrics{
		lead: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "scheduler_leading", Help: "1 while this gateway's scheduler holds the lease and sends batch chunks.",
		}),
		dispatchWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "scheduler_dispatch_wait_seconds",
			Help:    "Time from a batch job's submission to each of its chunks being sent to the workers' queue, by model and job priority (the wait in the fair queue; the leader's observations).",
			Buckets: waitBuckets,
		}, []string{"model", "priority"}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scheduler_jobs_finished_total",
			Help: "Batch jobs that ended while this gateway led, by model, tenant and end state (completed, cancelled, failed, deadline_exceeded).",
		}, []string{"model", "tenant", "state"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "scheduler_job_duration_seconds",
			Help:    "Time from submission to the last result of batch jobs that completed while this gateway led, by model and job priority.",
			Buckets: waitBuckets,
		}, []string{"model", "priority"}),
	}
	reg.MustRegister(m.lead, m.dispatchWait, m.finished, m.duration, backlogCollector{
		read: read,
		items: prometheus.NewDesc("scheduler_pending_items",
			"Batch items not sent to a worker yet, by model, tenant and priority (the leader's view; 0 elsewhere).", labels, nil),
		oldest: prometheus.NewDesc("scheduler_oldest_pending_seconds",
			"Age of the oldest job with items not sent yet, by model, tenant and priority (the leader's view).", labels, nil),
	})
	return m
}
