package upload

import (
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	tusd "github.com/tus/tusd/v2/pkg/handler"
)

// tusCollector exports the tus handler's own counters under this
// gateway's names. (tusd's collector names its counters without the
// _total suffix, which promtool's lint refuses.)
type tusCollector struct {
	m                             tusd.Metrics
	requests, errors, bytes       *prometheus.Desc
	created, finished, terminated *prometheus.Desc
}

func newTusCollector(m tusd.Metrics) *tusCollector {
	return &tusCollector{
		m: m,
		requests: prometheus.NewDesc("gateway_upload_requests_total",
			"Resumable-upload (tus) requests served, by method.", []string{"method"}, nil),
		errors: prometheus.NewDesc("gateway_upload_errors_total",
			"Resumable-upload (tus) requests answered with an error, by HTTP status and tus error code.", []string{"status", "code"}, nil),
		bytes: prometheus.NewDesc("gateway_upload_bytes_received_total",
			"Bytes received for resumable uploads (PATCH bodies stored).", nil, nil),
		created: prometheus.NewDesc("gateway_uploads_created_total",
			"Resumable uploads created.", nil, nil),
		finished: prometheus.NewDesc("gateway_uploads_finished_total",
			"Resumable uploads whose last byte arrived.", nil, nil),
		terminated: prometheus.NewDesc("gateway_uploads_terminated_total",
			"Resumable uploads deleted by their client (DELETE).", nil, nil),
	}
}

func (c *tusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.requests, c.errors, c.bytes, c.created, c.finished, c.terminated} {
		ch <- d
	}
}

func (c *tusCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, p *uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(atomic.LoadUint64(p)), labels...)
	}
	for method, p := range c.m.RequestsTotal {
		counter(c.requests, p, method)
	}
	for e, p := range c.m.ErrorsTotal.Load() {
		counter(c.errors, p, strconv.Itoa(e.StatusCode), e.ErrorCode)
	}
	counter(c.bytes, c.m.BytesReceived)
	counter(c.created, c.m.UploadsCreated)
	counter(c.finished, c.m.UploadsFinished)
	counter(c.terminated, c.m.UploadsTerminated)
}
