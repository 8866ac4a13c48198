package webhook

import "github.com/prometheus/client_golang/prometheus"

// Delivery outcomes, the label of gateway_webhook_deliveries_total.
const (
	outcomeDelivered = "delivered"     // 2xx
	outcomeRetried   = "retried"       // failed, tried again later
	outcomeDead      = "dead_lettered" // failed for good: given up
	outcomeDeferred  = "deferred"      // not tried: the tenant's attempts were all in flight
)

type metrics struct {
	deliveries *prometheus.CounterVec
	duration   prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, inFlight func() int, backlog func() float64) *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_webhook_deliveries_total",
			Help: "Webhook attempts by outcome: delivered, retried (failed, tried again), dead_lettered (given up), deferred (not tried: the tenant's attempts were all in flight).",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "gateway_webhook_attempt_seconds", Help: "Duration of webhook attempts, redirects included.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}),
	}
	for _, o := range []string{outcomeDelivered, outcomeRetried, outcomeDead, outcomeDeferred} {
		m.deliveries.WithLabelValues(o)
	}
	reg.MustRegister(m.deliveries, m.duration,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gateway_webhook_in_flight", Help: "Webhook attempts in flight on this gateway.",
		}, func() float64 { return float64(inFlight()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gateway_webhook_retry_queue",
			Help: "Webhook events not yet delivered nor given up, of every gateway (the shared consumer's pending and unacknowledged events, as last read).",
		}, backlog),
	)
	return m
}
