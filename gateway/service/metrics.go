package service

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	jobs         *prometheus.CounterVec
	items        *prometheus.CounterVec
	ingestBytes  *prometheus.CounterVec
	syncLatency  prometheus.Histogram
	syncQueued   prometheus.Counter
	syncMessages prometheus.Counter
	busy         prometheus.Counter
	// storageRefused counts jobs refused for want of room in the results
	// store; storeBytes and storeMax are its size as last read.
	storageRefused       prometheus.Counter
	storeBytes, storeMax prometheus.Gauge
	expired              prometheus.Counter
	quota                *prometheus.CounterVec
	outputBuilds         prometheus.Counter
	// backlogRefused counts jobs refused backlog_full, by bound (model,
	// tenant); redrives and purges the dead letters acted on.
	backlogRefused *prometheus.CounterVec
	redrives       prometheus.Counter
	purges         prometheus.Counter
}

// backlogMetrics makes the metrics of admission against the backlog and
// of the dead letters.
func (m *metrics) backlogMetrics() {
	m.backlogRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_backlog_refused_total", Help: "Jobs refused backlog_full (429), by the bound they would pass: model (GATEWAY_MAX_MODEL_BACKLOG) or tenant (GATEWAY_MAX_TENANT_BACKLOG).",
	}, []string{"bound"})
	for _, b := range []string{"model", "tenant"} {
		m.backlogRefused.WithLabelValues(b) // present at 0, for rate()
	}
	m.redrives = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "gateway_dead_letters_redriven_total", Help: "Dead letters redriven: their chunks run again in their jobs.",
	})
	m.purges = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "gateway_dead_letters_purged_total", Help: "Dead letters purged through the API.",
	})
}

// storeFill records the results store's size as read.
func (m *metrics) storeFill(used uint64, limit int64) {
	m.storeBytes.Set(float64(used))
	m.storeMax.Set(float64(limit))
}

func newMetrics(reg prometheus.Registerer, stats func() Stats) *metrics {
	m := &metrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_jobs_submitted_total", Help: "Batch jobs accepted, by model (name:version) and tenant.",
		}, []string{"model", "tenant"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_items_submitted_total", Help: "Items accepted, by kind (batch or sync), model (name:version) and tenant.",
		}, []string{"kind", "model", "tenant"}),
		ingestBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_ingest_bytes_total", Help: "Bytes of batch input written to the input stream (request bodies and datasets, decoded), by model (name:version); a job refused after its items were read counts too.",
		}, []string{"model"}),
		syncLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "gateway_predict_latency_seconds", Help: "Synchronous prediction latency, queue to result.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		syncMessages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_predict_messages_total", Help: "Messages sent to the workers for synchronous predictions (concurrent predictions of a model share one).",
		}),
		syncQueued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_predict_queued_total", Help: "Synchronous predictions no worker took at once (none listening, or full), queued on the durable sync queue.",
		}),
		storageRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_jobs_refused_storage_total", Help: "Jobs refused (507 insufficient_storage) because their results would not fit in the results store.",
		}),
		storeBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_results_store_bytes", Help: "Bytes in the results stream, as last read at an admission.",
		}),
		storeMax: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_results_store_max_bytes", Help: "The results stream's bound (RESULT_MAX_BYTES; -1 unbounded).",
		}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_jobs_expired_total", Help: "Finished jobs whose results this gateway expired (RESULT_TTL after they finished).",
		}),
		outputBuilds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_output_index_builds_total", Help: "Indexes of output and errors files built (one pass over a finished job's results per file and format).",
		}),
		busy: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_follow_busy_total", Help: "Subscriptions and result streams refused because the gateway follows GATEWAY_MAX_SUBSCRIPTIONS jobs.",
		}),
		quota: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_quota_refused_total", Help: "Requests refused for a tenant's quota, by quota (jobs, items, uploads, follows: quota_exceeded; results: the tenant's share of the results store, insufficient_storage).",
		}, []string{"quota"}),
	}
	for _, q := range []string{"jobs", "items", "uploads", "follows", "results"} {
		m.quota.WithLabelValues(q) // present at 0, for rate()
	}
	m.backlogMetrics()
	gauge := func(name, help string, f func(Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(stats()) })
	}
	reg.MustRegister(m.jobs, m.items, m.ingestBytes, m.syncLatency, m.syncQueued, m.syncMessages, m.busy, m.storageRefused, m.storeBytes, m.storeMax, m.expired, m.quota, m.outputBuilds,
		m.backlogRefused, m.redrives, m.purges,
		gauge("gateway_followers", "Jobs followed: WebSocket subscriptions and NDJSON result streams.", func(s Stats) float64 { return float64(s.Followers) }),
		gauge("gateway_followed_jobs", "Distinct jobs followed through the job-record feed.", func(s Stats) float64 { return float64(s.FeedJobs) }),
		gauge("gateway_downloads", "Output and errors files being served (GATEWAY_MAX_DOWNLOADS).", func(s Stats) float64 { return float64(s.Downloads) }),
		gauge("gateway_output_index_building", "Output and errors file indexes being built (GATEWAY_MAX_DOWNLOADS).", func(s Stats) float64 { return float64(s.IndexBuilds) }),
		gauge("gateway_inbox_waiting", "Requests waiting for replies (predictions, result reads).", func(s Stats) float64 { return float64(s.InboxWaiting) }),
	)
	return m
}
