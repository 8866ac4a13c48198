package sched

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	lead prometheus.Gauge
}

func (m *metrics) leading(v bool) {
	if v {
		m.lead.Set(1)
	} else {
		m.lead.Set(0)
	}
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

func newMetrics(reg prometheus.Registerer, read func() map[backlogKey]backlogValue) *metrics {
	m := &metrics{lead: prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "scheduler_leading", Help: "1 while this gateway's scheduler holds the lease and sends batch chunks.",
	})}
	labels := []string{"model", "tenant", "priority"}
	reg.MustRegister(m.lead, backlogCollector{
		read: read,
		items: prometheus.NewDesc("scheduler_pending_items",
			"Batch items not sent to a worker yet, by model, tenant and priority (the leader's view; 0 elsewhere).", labels, nil),
		oldest: prometheus.NewDesc("scheduler_oldest_pending_seconds",
			"Age of the oldest job with items not sent yet, by model, tenant and priority (the leader's view).", labels, nil),
	})
	return m
}
