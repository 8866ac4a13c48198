package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// version is the model version whose queues the ScaledObject names
// (batch_digits_1, batch_breast_cancer_1).
const version = "1"

// models have a durable batch consumer each, as a worker serving them
// creates on start.
var models = []string{"digits", "breast_cancer"}

// Backlog is a running server with the system's streams and consumers.
type Backlog struct {
	srv *server.Server
	nc  *nats.Conn
	js  jetstream.JetStream
}

// Start runs nats-server with JetStream in dir and monitoring on a free
// loopback port, declares the streams and the batch consumers. Stop it with
// Stop.
func Start(ctx context.Context, dir string) (*Backlog, error) {
	srv, err := server.NewServer(&server.Options{
		ServerName: "backlog", Host: "127.0.0.1", Port: server.RANDOM_PORT,
		HTTPHost: "127.0.0.1", HTTPPort: server.RANDOM_PORT,
		JetStream: true, StoreDir: dir, NoSigs: true, NoLog: true,
	})
	if err != nil {
		return nil, fmt.Errorf("nats-server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("nats-server: not ready after 10s")
	}
	b := &Backlog{srv: srv}
	if err := b.declare(ctx); err != nil {
		b.Stop()
		return nil, err
	}
	return b, nil
}

func (b *Backlog) declare(ctx context.Context) error {
	nc, err := nats.Connect(b.srv.ClientURL())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	b.nc = nc
	if b.js, err = jetstream.New(nc); err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	if _, err := natsx.Setup(ctx, b.js, natsx.StreamConfig{Replicas: 1}); err != nil {
		return err
	}
	for _, m := range models {
		// The worker's consumer (worker/lane.go), as far as the lag goes.
		_, err := b.js.CreateOrUpdateConsumer(ctx, wire.StreamInfer, jetstream.ConsumerConfig{
			Durable:       consumer(m),
			FilterSubject: wire.InferSubject(wire.PriorityBatch, m, version),
			AckPolicy:     jetstream.AckExplicitPolicy,
			MaxAckPending: 100_000,
		})
		if err != nil {
			return fmt.Errorf("consumer %s: %w", consumer(m), err)
		}
	}
	return nil
}

func consumer(model string) string {
	return wire.ConsumerName(wire.PriorityBatch, model, version)
}

// MonitorAddr is the monitoring endpoint (host:port), what KEDA's
// natsServerMonitoringEndpoint names.
func (b *Backlog) MonitorAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(b.srv.MonitorAddr().Port))
}

// Stop closes the connection and shuts the server down.
func (b *Backlog) Stop() {
	if b.nc != nil {
		b.nc.Close()
	}
	b.srv.Shutdown()
	b.srv.WaitForShutdown()
}

// Do runs one command line (see the package documentation).
func (b *Backlog) Do(ctx context.Context, line string) (string, error) {
	f := strings.Fields(line)
	if len(f) < 2 || !known(f[1]) {
		return "", fmt.Errorf("want publish|drain|lag MODEL [N] with MODEL one of %v: %q", models, line)
	}
	switch {
	case f[0] == "publish" && len(f) == 3:
		n, err := strconv.Atoi(f[2])
		if err != nil || n < 1 {
			return "", fmt.Errorf("publish: count %q", f[2])
		}
		return "ok", b.Publish(ctx, f[1], n)
	case f[0] == "drain" && len(f) == 2:
		n, err := b.Drain(ctx, f[1])
		return fmt.Sprintf("ok %d", n), err
	case f[0] == "lag" && len(f) == 2:
		n, err := b.Lag(ctx, f[1])
		return strconv.FormatUint(n, 10), err
	}
	return "", fmt.Errorf("unknown command %q", line)
}

func known(model string) bool {
	for _, m := range models {
		if m == model {
			return true
		}
	}
	return false
}

// Publish queues n small chunks on model's batch subject and returns once
// the consumer counts them: the server updates a consumer's pending count
// after it acknowledges the publish, so a busy machine could otherwise read
// the lag from before.
func (b *Backlog) Publish(ctx context.Context, model string, n int) error {
	before, err := b.Lag(ctx, model)
	if err != nil {
		return err
	}
	subject := wire.InferSubject(wire.PriorityBatch, model, version)
	for i := 0; i < n; i++ {
		if _, err := b.js.Publish(ctx, subject, []byte("{}")); err != nil {
			return fmt.Errorf("publish %s: %w", subject, err)
		}
	}
	want := before + uint64(n)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		lag, err := b.Lag(ctx, model)
		if err != nil || lag >= want {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("publish %s: consumer lag %d after 10s, want %d", subject, lag, want)
		}
	}
}

// Drain takes every chunk queued for model and acknowledges it, as workers
// that finished them would; it returns how many.
func (b *Backlog) Drain(ctx context.Context, model string) (int, error) {
	c, err := b.js.Consumer(ctx, wire.StreamInfer, consumer(model))
	if err != nil {
		return 0, fmt.Errorf("consumer %s: %w", consumer(model), err)
	}
	done := 0
	for {
		batch, err := c.FetchNoWait(1000)
		if err != nil {
			return done, fmt.Errorf("fetch: %w", err)
		}
		got := 0
		for m := range batch.Messages() {
			if err := m.DoubleAck(ctx); err != nil {
				return done, fmt.Errorf("ack: %w", err)
			}
			got++
		}
		if err := batch.Error(); err != nil {
			return done, fmt.Errorf("fetch: %w", err)
		}
		if done += got; got == 0 {
			return done, nil
		}
	}
}

// Lag is what KEDA's scaler computes for the consumer: pending plus
// delivered and not acknowledged.
func (b *Backlog) Lag(ctx context.Context, model string) (uint64, error) {
	c, err := b.js.Consumer(ctx, wire.StreamInfer, consumer(model))
	if err != nil {
		return 0, fmt.Errorf("consumer %s: %w", consumer(model), err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("consumer info: %w", err)
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}
