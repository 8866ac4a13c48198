package api

import (
	"time"

	"batchinfer/internal/wire"
)

// WebhookPayload is the body of a webhook request (Standard Webhooks):
// the event type, when the job ended, and the job as it ended.
type WebhookPayload struct {
	Type      string      `json:"type"`
	Timestamp time.Time   `json:"timestamp"`
	Data      WebhookData `json:"data"`
}

// WebhookData is what a webhook says of its job.
type WebhookData struct {
	Job   wire.JobStatus `json:"job"`
	Links JobLinks       `json:"links"`
}

// JobWebhooks is GET /v1/jobs/{id}/webhooks: where the job's end is posted
// and how each delivery went.
type JobWebhooks struct {
	Job string `json:"job"`
	// URL is the job's webhook ("" when it has none).
	URL        string                 `json:"url"`
	Deliveries []wire.WebhookDelivery `json:"deliveries"`
}
