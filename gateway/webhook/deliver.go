package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"batchinfer/internal/tracing"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

// maxErrorBytes bounds an attempt's error as the delivery log keeps it.
const maxErrorBytes = 300

// settleTimeout bounds recording an attempt and settling its event.
const settleTimeout = 10 * time.Second

// result is the outcome of one attempt.
type result struct {
	at     time.Time
	status int
	err    error
	took   time.Duration
}

func (r result) ok() bool { return r.err == nil && r.status >= 200 && r.status < 300 }

// errorText is what the delivery log says of a failed attempt.
func (r result) errorText() string {
	s, err := "", r.err
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // without the URL, which the log has (and whose query may hold a token)
	}
	switch {
	case err != nil && isTimeout(err):
		s = "timeout: " + err.Error()
	case err != nil:
		s = err.Error()
	case !r.ok():
		s = fmt.Sprintf("HTTP %d", r.status)
	}
	if len(s) > maxErrorBytes {
		s = s[:maxErrorBytes] + "…"
	}
	return s
}

func decodeEvent(b []byte) (*wire.WebhookEvent, error) {
	var ev wire.WebhookEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		return nil, fmt.Errorf("decode webhook event: %w", err)
	}
	if ev.ID == "" || ev.URL == "" || ev.Job.ID == "" {
		return nil, fmt.Errorf("webhook event without id, url or job")
	}
	return &ev, nil
}

// deliver makes one attempt at m's event and settles it: acked when
// delivered or given up (dead-lettered), else given back for a retry
// after the backoff. An attempt cut short by Stop gives the event back at
// once and is not recorded.
func (d *Dispatcher) deliver(m jetstream.Msg, ev *wire.WebhookEvent) {
	sctx, span := d.startAttempt(ev)
	res := d.attempt(sctx, ev)
	endAttempt(span, res)
	if d.ctx.Err() != nil {
		_ = m.Nak()
		return
	}
	d.metrics.duration.Observe(res.took.Seconds())
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	var verdict decision
	dl, err := d.hooks.Record(ctx, ev, func(dl *wire.WebhookDelivery) {
		dl.Add(wire.WebhookAttempt{At: res.at, Status: res.status, Error: res.errorText(),
			DurationMS: float64(res.took.Microseconds()) / 1000}, d.cfg.MaxLoggedAttempts)
		verdict = d.decide(dl.Attempts, ev, res)
		verdict.apply(dl, res.at)
	})
	if err != nil { // the log could not be written: decide on the deliveries counted by JetStream
		tracing.Event(d.log.Warn(), span.SpanContext()).Err(err).Str("job", ev.Job.ID).Msg("webhook delivery log not written")
		n := 1
		if md, merr := m.Metadata(); merr == nil {
			n = int(md.NumDelivered)
		}
		verdict = d.decide(n, ev, res)
		dl.Attempts = n
	}
	d.settle(ctx, m, ev, verdict, dl.Attempts)
}

// attempt posts ev's payload, signed with its tenant's secrets, with the
// trace context of sctx (the attempt's span).
func (d *Dispatcher) attempt(sctx context.Context, ev *wire.WebhookEvent) result {
	now := time.Now().UTC()
	res := result{at: now}
	t, ok := d.tenants.Get(ev.Tenant)
	if !ok {
		res.err = fmt.Errorf("tenant %s has no webhook signing secret (GATEWAY_WEBHOOKS_FILE)", ev.Tenant)
		return res
	}
	u, err := d.guard.CheckURL(ev.URL)
	if err != nil {
		res.err = err
		return res
	}
	body := Payload(ev, d.cfg.PublicURL)
	req, err := http.NewRequestWithContext(d.ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		res.err = err
		return res
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "batchinfer-webhooks/1")
	if res.err = Sign(req.Header, ev.ID, now, body, t.Secrets); res.err != nil {
		return res
	}
	tracing.InjectRequest(sctx, req.Header)
	resp, err := d.client.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, d.cfg.MaxResponseBytes))
		_ = resp.Body.Close()
		res.status = resp.StatusCode
	}
	res.err, res.took = err, time.Since(now)
	return res
}

// decision is what becomes of an event after an attempt.
type decision struct {
	state  string        // delivered, retrying or failed
	delay  time.Duration // retrying: until the next attempt
	reason string        // failed: why it was given up
}

// decide settles an event after its n-th attempt: delivered on 2xx;
// given up when the failure cannot pass (a refused address, 410) or the
// next attempt would fall past the retry window; else retried after the
// backoff.
func (d *Dispatcher) decide(n int, ev *wire.WebhookEvent, res result) decision {
	switch {
	case res.ok():
		return decision{state: wire.DeliveryDelivered}
	case !retryable(res.status, res.err):
		return decision{state: wire.DeliveryFailed, reason: res.errorText()}
	}
	delay := backoff(n, d.cfg.BackoffMin, d.cfg.BackoffMax)
	if res.at.Add(delay).After(ev.At.Add(d.cfg.RetryWindow)) {
		return decision{state: wire.DeliveryFailed, reason: fmt.Sprintf("gave up after %d attempts: the retry window (WEBHOOK_RETRY_WINDOW %s) ended; last: %s",
			n, d.cfg.RetryWindow, res.errorText())}
	}
	return decision{state: wire.DeliveryRetrying, delay: delay}
}

// apply writes the decision into the delivery's log entry.
func (v decision) apply(dl *wire.WebhookDelivery, at time.Time) {
	dl.State, dl.NextAttemptAt = v.state, nil
	switch v.state {
	case wire.DeliveryRetrying:
		next := at.Add(v.delay)
		dl.NextAttemptAt = &next
	default:
		end := at
		dl.FinishedAt, dl.Error = &end, v.reason
	}
}

// settle acks, retries or dead-letters m's event as decided.
func (d *Dispatcher) settle(ctx context.Context, m jetstream.Msg, ev *wire.WebhookEvent, v decision, attempts int) {
	log := d.log.With().Str("job", ev.Job.ID).Str("event", ev.Type).Int("attempts", attempts).Logger()
	switch v.state {
	case wire.DeliveryDelivered:
		d.metrics.deliveries.WithLabelValues(outcomeDelivered).Inc()
		if err := m.DoubleAck(ctx); err != nil {
			log.Warn().Err(err).Msg("webhook delivered but not acked: it may be delivered again")
		}
	case wire.DeliveryRetrying:
		d.metrics.deliveries.WithLabelValues(outcomeRetried).Inc()
		_ = m.NakWithDelay(v.delay)
	default:
		if err := d.hooks.DeadLetter(ctx, ev, v.reason, attempts); err != nil {
			log.Warn().Err(err).Msg("webhook not dead-lettered, retried")
			_ = m.NakWithDelay(d.cfg.BackoffMin)
			return
		}
		d.metrics.deliveries.WithLabelValues(outcomeDead).Inc()
		log.Warn().Str("reason", v.reason).Msg("webhook given up")
		_ = m.DoubleAck(ctx)
	}
}
