package store

import (
	"context"
	"fmt"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

// Ingests is the work queue of datasets to read into their jobs: one
// message per job, held (leased) by the gateway reading it; a gateway that
// dies lets it go back to another, which resumes from the job's checkpoint.
type Ingests struct {
	js jetstream.JetStream
}

// NewIngests returns the work queue of in.
func NewIngests(in *natsx.Infra) *Ingests { return &Ingests{js: in.JS} }

// Add queues job's reading (once: a second add is deduplicated).
func (i *Ingests) Add(ctx context.Context, job string) error {
	_, err := i.js.Publish(ctx, wire.IngestSubject(job), []byte(job), jetstream.WithMsgID("ingest."+job), jetstream.WithExpectStream(wire.StreamIngest))
	if err != nil {
		return fmt.Errorf("queue the reading of %s: %w", job, err)
	}
	return nil
}

// Consumer is the gateways' shared consumer of the queue; a reading not
// acknowledged (nor extended) within ackWait goes to another gateway.
func (i *Ingests) Consumer(ctx context.Context, ackWait time.Duration) (jetstream.Consumer, error) {
	c, err := i.js.CreateOrUpdateConsumer(ctx, wire.StreamIngest, jetstream.ConsumerConfig{
		Durable:     wire.ConsumerIngest,
		Description: "datasets being read into jobs, one gateway each",
		AckPolicy:   jetstream.AckExplicitPolicy,
		AckWait:     ackWait,
		MaxDeliver:  -1,
	})
	if err != nil {
		return nil, fmt.Errorf("ingest consumer: %w", err)
	}
	return c, nil
}
