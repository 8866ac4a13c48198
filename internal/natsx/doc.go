// Package natsx connects to NATS with retries and credentials, runs an
// embedded JetStream server for the standalone mode and tests, and declares
// the streams and key-value buckets both services rely on.
package natsx
