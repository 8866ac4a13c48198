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
	"batchinfer/internal/store"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// version is the model version whose backlog consumers the ScaledObject
// names (backlog_digits_1, backlog_breast_cancer_1).
const version = "1"

// models have a backlog consumer each on the input stream, and a batch
// queue consumer on the work queue, as a worker serving them declares on
// start.
var models = []string{"digits", "breast_cancer"}

// chunkItems is the items of each chunk published.
const chunkItems = 4

// Backlog is a running server with the system's streams and consumers.
type Backlog struct {
	srv  *server.Server
	nc   *nats.Conn
	js   jetstream.JetStream
	jobs map[string]int // chunks published per model, in jobs of their own
}

// Start runs nats-server with JetStream in dir and monitoring on a free
// loopback port, declares the streams and the consumers. Stop it with
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
	b := &Backlog{srv: srv, jobs: map[string]int{}}
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
		// The worker's consumers (worker/lane.go): the backlog consumer KEDA
		// reads, and the batch queue the scheduler's tickets wait on.
		if _, err := b.js.CreateOrUpdateConsumer(ctx, wire.StreamInput, store.BacklogConsumer(m, version)); err != nil {
			return fmt.Errorf("consumer %s: %w", consumer(m), err)
		}
		_, err := b.js.CreateOrUpdateConsumer(ctx, wire.StreamInfer, jetstream.ConsumerConfig{
			Durable:       wire.ConsumerName(wire.PriorityBatch, m, version),
			FilterSubject: wire.InferSubject(wire.PriorityBatch, m, version),
			AckPolicy:     jetstream.AckExplicitPolicy,
			MaxAckPending: 100_000,
		})
		if err != nil {
			return fmt.Errorf("batch queue of %s: %w", m, err)
		}
	}
	return nil
}

// consumer is the backlog consumer of model's version.
func consumer(model string) string { return wire.BacklogConsumer(model, version) }

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

// ticketsPerPublish bounds the tickets a publish sends beside the chunks,
// as the scheduler keeps only a few waiting (SCHED_QUEUE_CHUNKS).
const ticketsPerPublish = 8

// Publish writes a job of n chunks of model's to the input stream, as the
// gateway writes a job's items, and sends the tickets of its first chunks to
// the batch queue, as the scheduler does: the backlog is the n chunks. It
// returns once the backlog consumer counts them: the server updates a
// consumer's pending count after it acknowledges the publish, so a busy
// machine could otherwise read the lag from before.
func (b *Backlog) Publish(ctx context.Context, model string, n int) error {
	before, err := b.Lag(ctx, model)
	if err != nil {
		return err
	}
	job := fmt.Sprintf("j%s%06d", strings.ReplaceAll(model, "_", ""), b.jobs[model])
	b.jobs[model]++
	data := wire.EncodeChunk(nil, make([]wire.Item, chunkItems))
	for c := 0; c < n; c++ {
		if _, err := b.js.Publish(ctx, wire.InputSubject(model, version, job, c, 0), data); err != nil {
			return fmt.Errorf("publish chunk %d of %s: %w", c, job, err)
		}
	}
	for c := 0; c < min(n, ticketsPerPublish); c++ {
		h := wire.ChunkHeader{Job: job, Chunk: c, Start: c * chunkItems, Count: chunkItems, Parts: 1, Enqueued: time.Now()}
		msg := &nats.Msg{Subject: wire.InferSubject(wire.PriorityBatch, model, version), Header: h.Header()}
		if _, err := b.js.PublishMsg(ctx, msg); err != nil {
			return fmt.Errorf("ticket %d of %s: %w", c, job, err)
		}
	}
	return b.awaitLag(ctx, model, before+uint64(n))
}

// awaitLag waits up to 10 s for model's backlog consumer to count want.
func (b *Backlog) awaitLag(ctx context.Context, model string, want uint64) error {
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		lag, err := b.Lag(ctx, model)
		if err != nil || lag >= want {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("publish %s: backlog lag %d after 10s, want %d", model, lag, want)
		}
	}
}

// Drain finishes every chunk of model's, as workers do once a chunk's
// result is stored: its input deleted, its ticket acknowledged. It returns
// how many chunks went.
func (b *Backlog) Drain(ctx context.Context, model string) (int, error) {
	in, err := b.js.Stream(ctx, wire.StreamInput)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", wire.StreamInput, err)
	}
	info, err := in.Info(ctx, jetstream.WithSubjectFilter(wire.InputModelFilter(model, version)))
	if err != nil {
		return 0, fmt.Errorf("stream info: %w", err)
	}
	if err := in.Purge(ctx, jetstream.WithPurgeSubject(wire.InputModelFilter(model, version))); err != nil {
		return 0, fmt.Errorf("delete inputs: %w", err)
	}
	q, err := b.js.Consumer(ctx, wire.StreamInfer, wire.ConsumerName(wire.PriorityBatch, model, version))
	if err != nil {
		return 0, fmt.Errorf("batch queue of %s: %w", model, err)
	}
	for {
		batch, err := q.FetchNoWait(1000)
		if err != nil {
			return 0, fmt.Errorf("fetch tickets: %w", err)
		}
		got := 0
		for m := range batch.Messages() {
			if err := m.DoubleAck(ctx); err != nil {
				return 0, fmt.Errorf("ack: %w", err)
			}
			got++
		}
		if got == 0 {
			return int(info.State.Msgs), batch.Error()
		}
	}
}

// Lag is what KEDA's scaler computes for the backlog consumer: pending plus
// delivered and not acknowledged (nobody pulls it: its pending count).
func (b *Backlog) Lag(ctx context.Context, model string) (uint64, error) {
	c, err := b.js.Consumer(ctx, wire.StreamInput, consumer(model))
	if err != nil {
		return 0, fmt.Errorf("consumer %s: %w", consumer(model), err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("consumer info: %w", err)
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}
