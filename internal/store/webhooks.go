package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Webhooks are the webhook events of finished jobs (a work queue the
// gateways deliver from) and each job's delivery log. A job's end is
// queued once: the event's message id deduplicates a second publish, and
// the log entry, written after it, says it was queued.
type Webhooks struct {
	js  jetstream.JetStream
	log jetstream.KeyValue
}

// NewWebhooks returns the webhook store over in's stream and bucket.
func NewWebhooks(in *natsx.Infra) *Webhooks {
	return &Webhooks{js: in.JS, log: in.Buckets.Webhooks}
}

// queue puts the event of a finished job with a webhook URL in the webhook
// stream, unless it is there already. It is idempotent: every writer that
// sees the job finished may call it.
func (w *Webhooks) queue(ctx context.Context, r *wire.JobRecord) error {
	if r.Webhook == "" {
		return nil
	}
	now := time.Now().UTC()
	st := r.Status(now)
	event, ok := wire.WebhookEventOf(st.State)
	if !ok {
		return nil
	}
	if _, err := w.log.Get(ctx, r.ID); err == nil {
		return nil // queued before
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("webhook of job %s: %w", r.ID, err)
	}
	at := now
	if st.FinishedAt != nil {
		at = st.FinishedAt.UTC()
	}
	ev := wire.WebhookEvent{ID: wire.WebhookEventID(r.ID, event), Type: event, Tenant: tenantOf(r), URL: r.Webhook, At: at, Job: st, Trace: r.Trace}
	m := nats.NewMsg(wire.WebhookSubject(ev.Tenant, r.ID, event))
	m.Header.Set(wire.HdrMsgID, ev.ID)
	m.Data = wire.Marshal(ev)
	if _, err := w.js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("queue webhook of job %s: %w", r.ID, err)
	}
	// Then the log says it is queued (pending): a failure here publishes
	// again on the next call, which the message id deduplicates.
	var l wire.WebhookLog
	l.Delivery(&ev)
	if _, err := w.log.Create(ctx, r.ID, wire.Marshal(l)); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("log webhook of job %s: %w", r.ID, err)
	}
	return nil
}

// Log reads a job's delivery log (empty when it has none).
func (w *Webhooks) Log(ctx context.Context, job string) (wire.WebhookLog, error) {
	l, _, err := w.get(ctx, job)
	return l, err
}

func (w *Webhooks) get(ctx context.Context, job string) (wire.WebhookLog, uint64, error) {
	l := wire.WebhookLog{Deliveries: []wire.WebhookDelivery{}}
	e, err := w.log.Get(ctx, job)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return l, 0, nil
	}
	if err != nil {
		return l, 0, fmt.Errorf("webhook log of job %s: %w", job, err)
	}
	if err := json.Unmarshal(e.Value(), &l); err != nil {
		return l, 0, fmt.Errorf("decode webhook log of job %s: %w", job, err)
	}
	return l, e.Revision(), nil
}

// Record applies fn to the delivery of ev in its job's log, with
// compare-and-set, and returns the delivery as fn left it.
func (w *Webhooks) Record(ctx context.Context, ev *wire.WebhookEvent, fn func(*wire.WebhookDelivery)) (wire.WebhookDelivery, error) {
	job := ev.Job.ID
	for attempt := 0; ; attempt++ {
		l, rev, err := w.get(ctx, job)
		if err != nil {
			return wire.WebhookDelivery{}, err
		}
		d := l.Delivery(ev)
		fn(d)
		out := *d
		if rev == 0 {
			_, err = w.log.Create(ctx, job, wire.Marshal(l))
		} else {
			_, err = w.log.Update(ctx, job, wire.Marshal(l), rev)
		}
		if err == nil {
			return out, nil
		}
		conflict := errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists)
		if !conflict || attempt >= maxCASAttempts {
			return out, fmt.Errorf("log webhook of job %s: %w", job, err)
		}
	}
}

// DeadLetter keeps an event that was given up in the dead-letter stream,
// with the reason and the attempts made.
func (w *Webhooks) DeadLetter(ctx context.Context, ev *wire.WebhookEvent, reason string, attempts int) error {
	m := nats.NewMsg(wire.WebhookDeadSubject(ev.Tenant, ev.Job.ID, ev.Type))
	m.Header.Set(wire.HdrMsgID, "dlq."+ev.ID)
	m.Header.Set(HdrWebhookError, reason)
	m.Header.Set(HdrWebhookAttempts, strconv.Itoa(attempts))
	m.Data = wire.Marshal(ev)
	if _, err := w.js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("dead-letter webhook of job %s: %w", ev.Job.ID, err)
	}
	return nil
}

// Headers of a dead-lettered webhook event.
const (
	HdrWebhookError    = "Bi-Webhook-Error"
	HdrWebhookAttempts = "Bi-Webhook-Attempts"
)

// delete removes a job's delivery log.
func (w *Webhooks) delete(ctx context.Context, job string) error {
	if err := w.log.Purge(ctx, job); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("delete webhook log of job %s: %w", job, err)
	}
	return nil
}

// Consumer is the durable consumer of webhook events, shared by every
// gateway: each event goes to one of them and comes back to another when
// it is neither acked nor retried within ackWait. Events waiting for a
// retry stay pending (NakWithDelay), so the pending count has no bound:
// one endpoint that is down never stops the others' deliveries.
func (w *Webhooks) Consumer(ctx context.Context, ackWait time.Duration) (jetstream.Consumer, error) {
	c, err := w.js.CreateOrUpdateConsumer(ctx, wire.StreamWebhooks, jetstream.ConsumerConfig{
		Durable:       wire.ConsumerWebhooks,
		Description:   "webhook events: delivered with retries by the gateways",
		FilterSubject: wire.WebhookSubjects,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxDeliver:    -1,
		MaxAckPending: -1,
	})
	if err != nil {
		return nil, fmt.Errorf("webhooks consumer: %w", err)
	}
	return c, nil
}
