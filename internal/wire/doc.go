// Package wire holds what the gateway and the worker exchange over NATS
// JetStream: stream, subject and bucket names, the binary chunk encoding, the
// JSON result and job records, and worker announcements. It is the only
// package both services import; it knows nothing of HTTP or TensorFlow.
package wire
