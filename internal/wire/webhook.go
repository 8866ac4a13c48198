package wire

import "time"

// Webhook streams, buckets and subjects. A job with a webhook URL that
// finishes puts one event in StreamWebhooks (deduplicated by WebhookEvent.ID);
// the gateways deliver it through ConsumerWebhooks and keep each job's
// delivery log in BucketWebhooks.
const (
	// StreamWebhooks is the work queue of webhook events to deliver.
	StreamWebhooks = "WEBHOOKS"
	// WebhookSubjects are the subjects of StreamWebhooks.
	WebhookSubjects = "webhook.>"
	// ConsumerWebhooks is the durable consumer of webhook events, shared by
	// every gateway.
	ConsumerWebhooks = "webhooks"
	// BucketWebhooks maps a job id to its WebhookLog.
	BucketWebhooks = "webhooklog"
)

// Webhook event types (the payload's "type").
const (
	EventJobCompleted = "job.completed"
	EventJobFailed    = "job.failed"
	EventJobCancelled = "job.cancelled"
)

// WebhookEventOf is the event a job that ended in state sends: completed,
// cancelled, or failed (a job that failed as a whole or passed its
// deadline). ok is false for a state that is not an end.
func WebhookEventOf(state string) (event string, ok bool) {
	switch state {
	case StateCompleted:
		return EventJobCompleted, true
	case StateCancelled:
		return EventJobCancelled, true
	case StateFailed, StateDeadlineExceeded:
		return EventJobFailed, true
	}
	return "", false
}

// WebhookSubject is where job's event is queued in StreamWebhooks.
func WebhookSubject(tenant, job, event string) string {
	return "webhook." + tenant + "." + job + "." + eventToken(event)
}

// WebhookDeadSubject is where an event that was never delivered is kept,
// in StreamDeadLetter.
func WebhookDeadSubject(tenant, job, event string) string {
	return "dlq.webhook." + tenant + "." + job + "." + eventToken(event)
}

// WebhookEventID is the webhook-id of job's event: the same on every
// attempt, so receivers can drop a repeat.
func WebhookEventID(job, event string) string { return "msg_" + job + "_" + eventToken(event) }

// eventToken is an event type as one subject token ("job.completed" gives
// "completed").
func eventToken(event string) string {
	for i := len(event) - 1; i >= 0; i-- {
		if event[i] == '.' {
			return event[i+1:]
		}
	}
	return event
}

// WebhookEvent is one event to deliver, as queued in StreamWebhooks: what
// the job was when it ended, and where to send it.
type WebhookEvent struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Tenant string `json:"tenant"`
	URL    string `json:"url"`
	// At is when the job ended: the retry window runs from it.
	At  time.Time `json:"at"`
	Job JobStatus `json:"job"`
	// Trace is the job's trace context (JobRecord.Trace): the delivery's
	// span continues it, and the request carries it (traceparent).
	Trace map[string]string `json:"trace,omitempty"`
}

// Webhook delivery states.
const (
	DeliveryPending   = "pending"   // queued, not tried yet
	DeliveryRetrying  = "retrying"  // tried and failed; tried again at NextAttemptAt
	DeliveryDelivered = "delivered" // the endpoint answered 2xx
	DeliveryFailed    = "failed"    // given up: dead-lettered
)

// WebhookLog is the delivery log of one job's webhook events, in
// BucketWebhooks.
type WebhookLog struct {
	Deliveries []WebhookDelivery `json:"deliveries"`
}

// WebhookDelivery is the delivery of one event: its state and attempts.
type WebhookDelivery struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	URL   string `json:"url"`
	State string `json:"state"`
	// Attempts counts the attempts made; Log keeps the latest of them.
	Attempts      int        `json:"attempts"`
	CreatedAt     time.Time  `json:"created_at"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	// FinishedAt is when it was delivered or given up.
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// Error says why it was given up.
	Error string           `json:"error,omitempty"`
	Log   []WebhookAttempt `json:"log"`
}

// WebhookAttempt is one attempt at delivering an event.
type WebhookAttempt struct {
	N  int       `json:"n"`
	At time.Time `json:"at"`
	// Status is the endpoint's HTTP status (0: no response).
	Status     int     `json:"status,omitempty"`
	Error      string  `json:"error,omitempty"`
	DurationMS float64 `json:"duration_ms"`
}

// Delivery returns the delivery of event id, adding a pending one for ev
// when there is none.
func (l *WebhookLog) Delivery(ev *WebhookEvent) *WebhookDelivery {
	for i := range l.Deliveries {
		if l.Deliveries[i].ID == ev.ID {
			return &l.Deliveries[i]
		}
	}
	l.Deliveries = append(l.Deliveries, WebhookDelivery{
		ID: ev.ID, Type: ev.Type, URL: ev.URL, State: DeliveryPending, CreatedAt: ev.At, Log: []WebhookAttempt{},
	})
	return &l.Deliveries[len(l.Deliveries)-1]
}

// Add records attempt a, keeping at most keep attempts in the log.
func (d *WebhookDelivery) Add(a WebhookAttempt, keep int) {
	d.Attempts++
	a.N = d.Attempts
	d.Log = append(d.Log, a)
	if keep > 0 && len(d.Log) > keep {
		d.Log = append(d.Log[:0], d.Log[len(d.Log)-keep:]...)
	}
}
