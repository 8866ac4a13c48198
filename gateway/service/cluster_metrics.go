package service

import (
	"context"
	"time"

	"batchinfer/internal/natsx"

	"github.com/prometheus/client_golang/prometheus"
)

// streamReadTimeout bounds the reading of the streams' state at a scrape.
const streamReadTimeout = 3 * time.Second

// clusterCollector exports, when scraped, what this gateway sees of the
// system beyond itself: its NATS connection, the live workers of each
// model (the catalogue) and every JetStream stream's size and bounds (read
// from the server at each scrape). Every gateway sees the same streams and
// workers: dashboards and alerts take the max across gateways.
type clusterCollector struct {
	in      *natsx.Infra
	workers func() map[string]int // live workers by model; nil before Start
	// letters counts the dead letters by kind.
	letters func(context.Context) (map[string]uint64, error)

	connected, jsUp, modelWorkers      *prometheus.Desc
	streamBytes, streamMsgs, streamMax *prometheus.Desc
	streamMaxMsgs, streamConsumers     *prometheus.Desc
	deadLetters                        *prometheus.Desc
}

func newClusterCollector(in *natsx.Infra, workers func() map[string]int, letters func(context.Context) (map[string]uint64, error)) *clusterCollector {
	stream := []string{"stream"}
	return &clusterCollector{
		in: in, workers: workers, letters: letters,
		connected: prometheus.NewDesc("gateway_nats_connected",
			"1 while this gateway's NATS connection is up, 0 while it is reconnecting.", nil, nil),
		jsUp: prometheus.NewDesc("gateway_jetstream_up",
			"1 if this scrape read the JetStream streams' state, 0 if JetStream did not answer.", nil, nil),
		modelWorkers: prometheus.NewDesc("gateway_model_workers",
			"Live workers serving each registered model version (name:version), as the gateway's catalogue sees them.", []string{"model"}, nil),
		streamBytes: prometheus.NewDesc("gateway_jetstream_stream_bytes",
			"Bytes stored in each JetStream stream (KV buckets are streams KV_<bucket>).", stream, nil),
		streamMsgs: prometheus.NewDesc("gateway_jetstream_stream_messages",
			"Messages stored in each JetStream stream.", stream, nil),
		streamMax: prometheus.NewDesc("gateway_jetstream_stream_max_bytes",
			"Each JetStream stream's byte bound (-1: unbounded).", stream, nil),
		streamMaxMsgs: prometheus.NewDesc("gateway_jetstream_stream_max_messages",
			"Each JetStream stream's message bound (-1: unbounded).", stream, nil),
		streamConsumers: prometheus.NewDesc("gateway_jetstream_stream_consumers",
			"Consumers of each JetStream stream.", stream, nil),
		deadLetters: prometheus.NewDesc("gateway_dead_letters",
			"Dead letters kept, by kind: batch chunks and synchronous requests given up (GET /v1/deadletters), webhook events given up; their payloads and claims aside.", []string{"kind"}, nil),
	}
}

func (c *clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.connected, c.jsUp, c.modelWorkers, c.streamBytes, c.streamMsgs, c.streamMax, c.streamMaxMsgs, c.streamConsumers, c.deadLetters} {
		ch <- d
	}
}

func (c *clusterCollector) Collect(ch chan<- prometheus.Metric) {
	connected := 0.0
	if c.in.NC != nil && c.in.NC.IsConnected() {
		connected = 1
	}
	ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, connected)
	if c.workers != nil {
		for m, n := range c.workers() {
			ch <- prometheus.MustNewConstMetric(c.modelWorkers, prometheus.GaugeValue, float64(n), m)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.jsUp, prometheus.GaugeValue, c.collectStreams(ch))
}

// collectStreams sends every stream's state; it returns 1 if they were
// all read, else 0.
func (c *clusterCollector) collectStreams(ch chan<- prometheus.Metric) float64 {
	if c.in.JS == nil || c.in.NC == nil || !c.in.NC.IsConnected() {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), streamReadTimeout)
	defer cancel()
	l := c.in.JS.ListStreams(ctx)
	for si := range l.Info() {
		name, st, cfg := si.Config.Name, si.State, si.Config
		ch <- prometheus.MustNewConstMetric(c.streamBytes, prometheus.GaugeValue, float64(st.Bytes), name)
		ch <- prometheus.MustNewConstMetric(c.streamMsgs, prometheus.GaugeValue, float64(st.Msgs), name)
		ch <- prometheus.MustNewConstMetric(c.streamMax, prometheus.GaugeValue, float64(cfg.MaxBytes), name)
		ch <- prometheus.MustNewConstMetric(c.streamMaxMsgs, prometheus.GaugeValue, float64(cfg.MaxMsgs), name)
		ch <- prometheus.MustNewConstMetric(c.streamConsumers, prometheus.GaugeValue, float64(st.Consumers), name)
	}
	if l.Err() != nil {
		return 0
	}
	return c.collectLetters(ctx, ch)
}

// collectLetters sends the dead letters' count by kind; it returns 1 if
// they were read, else 0.
func (c *clusterCollector) collectLetters(ctx context.Context, ch chan<- prometheus.Metric) float64 {
	n, err := c.letters(ctx)
	if err != nil {
		return 0
	}
	for kind, v := range n {
		ch <- prometheus.MustNewConstMetric(c.deadLetters, prometheus.GaugeValue, float64(v), kind)
	}
	return 1
}
