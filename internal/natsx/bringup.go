package natsx

import (
	"context"
	"fmt"
	"time"

	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// setupTimeout bounds declaring the streams and buckets once connected (a
// cluster electing leaders for ten R3 groups, with retries, takes seconds).
const setupTimeout = 30 * time.Second

// Infra is a service's side of NATS: the connection, JetStream, and the
// streams and buckets of the system, declared.
type Infra struct {
	NC *nats.Conn
	// Epoch ends at every reconnect (see Epoch).
	Epoch   *Epoch
	JS      jetstream.JetStream
	Infer   jetstream.Stream
	Input   jetstream.Stream
	Results jetstream.Stream
	Uploads jetstream.Stream
	// DeadLetter is the dead-letter stream.
	DeadLetter jetstream.Stream
	Buckets    *Buckets
}

// Open connects (retrying until ctx ends), then declares the streams and
// buckets. On error nothing is left open. onReconnect runs after every
// reconnect.
func Open(ctx context.Context, conn ConnConfig, streams StreamConfig, log zerolog.Logger, onReconnect ...func()) (*Infra, error) {
	ep := NewEpoch()
	nc, err := Connect(ctx, conn, log, append([]func(){ep.Next}, onReconnect...)...)
	if err != nil {
		return nil, err
	}
	in := &Infra{NC: nc, Epoch: ep}
	if err := in.declare(ctx, streams); err != nil {
		nc.Close()
		return nil, err
	}
	return in, nil
}

func (in *Infra) declare(ctx context.Context, streams StreamConfig) error {
	js, err := jetstream.New(in.NC)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	in.JS = js
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	if in.Buckets, err = Setup(ctx, js, streams); err != nil {
		return err
	}
	for name, p := range map[string]*jetstream.Stream{wire.StreamInfer: &in.Infer, wire.StreamResults: &in.Results,
		wire.StreamInput: &in.Input, wire.StreamUploads: &in.Uploads, wire.StreamDeadLetter: &in.DeadLetter} {
		err := Retry(ctx, func(ctx context.Context) (err error) {
			*p, err = js.Stream(ctx, name)
			return err
		})
		if err != nil {
			return fmt.Errorf("stream %s: %w", name, err)
		}
	}
	return nil
}

// Close drains the connection (pending publishes and acks go out), or
// closes it when draining fails.
func (in *Infra) Close() {
	if in == nil || in.NC == nil {
		return
	}
	if err := in.NC.Drain(); err != nil {
		in.NC.Close()
	}
}
