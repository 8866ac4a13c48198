package worker

import "batchinfer/internal/config"

// Flags registers the worker's settings on s.
func (c *Config) Flags(s *config.Set) {
	d := Defaults()
	s.String(&c.ID, "worker-id", "WORKER_ID", "", "worker name in the catalogue (default host-random)")
	s.String(&c.HealthAddr, "health-addr", "WORKER_HEALTH_ADDR", DefaultHealthAddr, "address of /health, /ready and /metrics (empty: off)")
	s.Int(&c.MaxBatch, "max-batch", "WORKER_MAX_BATCH", d.MaxBatch, "largest TensorFlow batch of batch-job items (a model's max_batch may lower it)")
	s.Int(&c.MaxSyncBatch, "max-sync-batch", "WORKER_MAX_SYNC_BATCH", d.MaxSyncBatch, "largest TensorFlow batch of synchronous items, run before batch work")
	s.Int(&c.SyncQueue, "sync-queue", "WORKER_SYNC_QUEUE", d.SyncQueue, "synchronous requests taken per model and not answered yet; past it the worker answers busy and the request waits in the durable queue")
	s.Duration(&c.MaxWait, "max-wait", "WORKER_MAX_WAIT", d.MaxWait, "how long a partial batch waits for more items")
	s.Duration(&c.AckWait, "ack-wait", "WORKER_ACK_WAIT", d.AckWait, "lease of a chunk, renewed while the worker holds it: how soon a dead worker's chunks are redelivered")
	s.Int(&c.MaxDeliver, "max-deliver", "WORKER_MAX_DELIVER", d.MaxDeliver, "deliveries of a chunk before its items fail")
	s.Int(&c.Prefetch, "prefetch", "WORKER_PREFETCH", d.Prefetch, "batch chunks a worker holds per model (pulled ahead, running, being stored), counting a chunk of more than a batch as one per batch")
	s.Int(&c.PrefetchMax, "prefetch-max", "WORKER_PREFETCH_MAX", d.PrefetchMax, "most batch chunks a worker holds per model when they are small: two batches' worth of items, at least -prefetch chunks")
	s.Int(&c.NewcomerSlots, "newcomer-slots", "WORKER_NEWCOMER_SLOTS", d.NewcomerSlots, "chunks a worker takes per model from the newcomers' queue (a newly started job's first chunk) beside -prefetch, run in the next batch ahead of the held ones (negative: none)")
	s.Duration(&c.CountLinger, "count-linger", "WORKER_COUNT_LINGER", d.CountLinger, "how long a stored chunk waits to be counted in one record write with its job's next, while the worker holds another of the job (at most 1s; negative: one write per chunk)")
	s.Int(&c.CountBatch, "count-batch", "WORKER_COUNT_BATCH", d.CountBatch, "most chunks of a job counted in one record write (each write wakes the scheduler to refill the model's queue), counting a chunk of more than a batch as one per batch")
	s.Duration(&c.StoreRetry, "store-retry", "WORKER_STORE_RETRY", d.StoreRetry, "how long a result the full results store refuses is retried before its items fail with the reason")
	s.Duration(&c.ExecTimeout, "exec-timeout", "WORKER_EXEC_TIMEOUT", d.ExecTimeout, "longest TensorFlow call: past it the batch's items fail and the worker goes on (negative: no bound)")
	s.String(&c.ResultFormat, "result-format", "WORKER_RESULT_FORMAT", d.ResultFormat, "how results are stored: compact (binary, rendered to JSON by the gateway that reads them; ~6 times smaller) or json (readable by gateways older than the compact form: set it until they are upgraded)")
	s.Duration(&c.HeartbeatInterval, "announce-interval", "WORKER_ANNOUNCE_INTERVAL", d.HeartbeatInterval, "how often an idle worker announces itself")
	s.Duration(&c.RateInterval, "rate-interval", "WORKER_RATE_INTERVAL", d.RateInterval, "window of the announced items/s (total and per model); a busy worker announces at this period")
}
