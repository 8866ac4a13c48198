package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Timers are durable timers in the timers stream: a schedule per job and
// kind that the NATS server fires at its time (a message on
// wire.TimerFireSubject), whichever processes are alive then. Scheduling
// again replaces the earlier time; the gateways consume what fires
// (Consumer) and act on it.
type Timers struct {
	js jetstream.JetStream
}

// NewTimers returns the timers of js's timers stream.
func NewTimers(js jetstream.JetStream) *Timers { return &Timers{js: js} }

// Schedule sets job's timer of kind to fire at at (at once if at has
// passed).
func (t *Timers) Schedule(ctx context.Context, kind, job string, at time.Time) error {
	m := nats.NewMsg(wire.TimerSubject(kind, job))
	// Schedules have a resolution of a second: round up, never fire early.
	at = at.UTC().Truncate(time.Second).Add(time.Second)
	m.Header.Set("Nats-Schedule", "@at "+at.Format(time.RFC3339))
	m.Header.Set("Nats-Schedule-Target", wire.TimerFireSubject(kind, job))
	if _, err := t.js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("schedule %s of job %s: %w", kind, job, err)
	}
	return nil
}

// Consumer is the durable consumer of fired timers, shared by every
// gateway: each fired timer goes to one of them, and comes back to another
// when it is not acked within ackWait.
func (t *Timers) Consumer(ctx context.Context, ackWait time.Duration) (jetstream.Consumer, error) {
	c, err := t.js.CreateOrUpdateConsumer(ctx, wire.StreamTimers, jetstream.ConsumerConfig{
		Durable:       wire.ConsumerTimers,
		Description:   "fired timers: results expiry and record deletion",
		FilterSubject: wire.TimerFireFilter,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxDeliver:    -1,
		BackOff:       nil,
	})
	if err != nil {
		return nil, fmt.Errorf("timers consumer: %w", err)
	}
	return c, nil
}

// ParseFired returns the kind and job of a fired timer's subject.
func ParseFired(subject string) (kind, job string, ok bool) {
	rest, ok := strings.CutPrefix(subject, "timer.fire.")
	if !ok {
		return "", "", false
	}
	kind, job, ok = strings.Cut(rest, ".")
	return kind, job, ok && job != "" && !strings.Contains(job, ".")
}
