// Package autoscaler sets the replica count of the worker service on
// Docker Swarm from the backlog in JetStream: enough workers that the
// queued and in-flight items drain within a target time, at the workers'
// measured rate, with cooldowns and a dead band so that it does not flap.
//
// It reads what the gateway and the workers write (the INFER stream's
// consumers, the workers bucket) and imports neither of them.
//
//	policy.go      the decision: a pure function of its inputs and the time
//	backlog.go     reading the backlog and the workers' rates from JetStream
//	docker.go      the Scaler interface, the Docker Engine API implementation
//	metrics.go     Prometheus metrics, /health
//	autoscaler.go  the loop
package autoscaler
