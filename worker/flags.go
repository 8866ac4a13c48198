package worker

import "batchinfer/internal/config"

// Flags registers the worker's settings on s.
func (c *Config) Flags(s *config.Set) {
	d := c.withDefaults()
	s.String(&c.ID, "worker-id", "WORKER_ID", "", "worker name in the catalogue (default host-random)")
	s.String(&c.HealthAddr, "health-addr", "WORKER_HEALTH_ADDR", ":8001", "address of /health, /ready and /metrics (empty: off)")
	s.Int(&c.MaxBatch, "max-batch", "WORKER_MAX_BATCH", d.MaxBatch, "largest TensorFlow batch")
	s.Duration(&c.MaxWait, "max-wait", "WORKER_MAX_WAIT", d.MaxWait, "how long a partial batch waits for more items")
	s.Duration(&c.AckWait, "ack-wait", "WORKER_ACK_WAIT", d.AckWait, "ack deadline of a chunk (extended while it runs)")
	s.Int(&c.MaxDeliver, "max-deliver", "WORKER_MAX_DELIVER", d.MaxDeliver, "deliveries of a chunk before its items fail")
	s.Int(&c.Prefetch, "prefetch", "WORKER_PREFETCH", d.Prefetch, "batch chunks pulled ahead per model")
	s.Duration(&c.HeartbeatInterval, "announce-interval", "WORKER_ANNOUNCE_INTERVAL", d.HeartbeatInterval, "how often the worker announces itself")
}
