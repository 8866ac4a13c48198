package ws

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	conns      prometheus.Gauge
	slowClosed prometheus.Counter
	messages   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		conns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_websocket_connections", Help: "Open WebSocket connections.",
		}),
		slowClosed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_websocket_slow_consumer_closes_total", Help: "WebSocket connections closed because their send buffer filled.",
		}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_websocket_messages_sent_total", Help: "WebSocket messages sent, by type.",
		}, []string{"type"}),
	}
	reg.MustRegister(m.conns, m.slowClosed, m.messages)
	return m
}
