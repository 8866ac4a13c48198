package api

import "batchinfer/internal/wire"

// The shapes the HTTP API and the WebSocket share with the data path,
// under names a program outside this module can write (package wire is
// internal): a client types its variables with these.
type (
	// JobStatus is a job's status as every answer shows it.
	JobStatus = wire.JobStatus
	// QueuePosition is where a queued job stands.
	QueuePosition = wire.QueuePosition
	// ItemResult is one item's outcome: its class and scores, or its error.
	ItemResult = wire.ItemResult
	// TopEntry is one of an item's best classes.
	TopEntry = wire.Class
	// ChunkResult is the results of one chunk of a job, as the WebSocket's
	// results message carries them.
	ChunkResult = wire.ChunkResult
	// WorkerInfo is a worker as GET /v1/cluster lists it.
	WorkerInfo = wire.WorkerInfo
	// WebhookDelivery is one event's delivery to a job's webhook.
	WebhookDelivery = wire.WebhookDelivery
)

// Job states (JobStatus.State).
const (
	StateQueued           = wire.StateQueued
	StateRunning          = wire.StateRunning
	StateCompleted        = wire.StateCompleted
	StateCancelled        = wire.StateCancelled
	StateFailed           = wire.StateFailed
	StateExpired          = wire.StateExpired
	StateDeadlineExceeded = wire.StateDeadlineExceeded
)

// FinalState reports whether a job in state s has ended: its output and
// errors files can be downloaded (expired: its results are gone).
func FinalState(s string) bool {
	switch s {
	case StateCompleted, StateCancelled, StateFailed, StateDeadlineExceeded, StateExpired:
		return true
	}
	return false
}
