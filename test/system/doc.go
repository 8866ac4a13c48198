// Package system runs the whole system in-process for end-to-end tests
// and benchmarks: an embedded NATS JetStream server on a random port, real
// workers running the committed TensorFlow SavedModels, and gateways on
// 127.0.0.1:0, driven through real HTTP and WebSocket clients.
package system
