// Package gateway is the HTTP and WebSocket front of the system. It
// validates requests against the models' metadata, splits batch jobs into
// chunks queued on NATS JetStream, and streams results back. It keeps no job
// state in memory that matters: job records, results and idempotency keys
// live in JetStream, so gateways can run side by side and restart freely.
package gateway
