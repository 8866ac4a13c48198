package autoscaler

import (
	"context"
	"fmt"
	"testing"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/natsx/natstest"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsEnv is an embedded JetStream server with the system's streams and
// buckets declared, as the gateway and the workers declare them.
type natsEnv struct {
	t   *testing.T
	url string
	in  *natsx.Infra
}

func startNATS(t *testing.T) *natsEnv {
	t.Helper()
	in, url := natstest.Infra(t)
	return &natsEnv{t: t, url: url, in: in}
}

// consumer declares a queue's durable consumer as a worker does
// (worker/lane.go).
func (e *natsEnv) consumer(prio, name, version string) jetstream.Consumer {
	e.t.Helper()
	c, err := e.in.JS.CreateOrUpdateConsumer(context.Background(), wire.StreamInfer, jetstream.ConsumerConfig{
		Durable:       wire.ConsumerName(prio, name, version),
		FilterSubject: wire.InferSubject(prio, name, version),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       time.Minute,
		MaxDeliver:    5,
		MaxAckPending: 100_000,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// job queues items in chunks of size on a model's queue, as the gateway does.
func (e *natsEnv) job(prio, name, version, id string, items, size int) {
	e.t.Helper()
	ctx := context.Background()
	for chunk, start := 0, 0; start < items; chunk, start = chunk+1, start+size {
		h := wire.ChunkHeader{Job: id, Chunk: chunk, Start: start, Count: min(size, items-start), Enqueued: time.Now()}
		msg := &nats.Msg{Subject: wire.InferSubject(prio, name, version), Header: h.Header(), Data: []byte("x")}
		msg.Header.Set(wire.HdrMsgID, wire.ChunkMsgID(id, chunk))
		if _, err := e.in.JS.PublishMsg(ctx, msg); err != nil {
			e.t.Fatal(err)
		}
	}
}

// announce puts a worker's announcement in the workers bucket.
func (e *natsEnv) announce(id string, rate float64, inFlight int) {
	e.t.Helper()
	info := wire.WorkerInfo{ID: id, Models: []string{"digits:1"}, LastSeen: time.Now(), ItemsPerSec: rate, InFlight: inFlight}
	if _, err := e.in.Buckets.Workers.Put(context.Background(), id, wire.Marshal(info)); err != nil {
		e.t.Fatal(err)
	}
}

func TestBacklogCountsPendingAndInFlight(t *testing.T) {
	e := startNATS(t)
	batch := e.consumer(wire.PriorityBatch, "digits", "1")
	e.consumer(wire.PrioritySync, "digits", "1")
	e.job(wire.PriorityBatch, "digits", "1", "j1", 1000, 256) // 4 chunks: 256 x 3 + 232
	e.job(wire.PriorityBatch, "digits", "1", "j2", 512, 256)  // 2 chunks
	e.job(wire.PrioritySync, "digits", "1", "s1", 3, 3)
	e.job(wire.PrioritySync, "mnist", "2", "s2", 2, 2) // no consumer yet: no worker ever served it
	e.job(wire.PrioritySync, "mnist", "2", "s3", 2, 2)

	// Two chunks taken, not acked: in flight, still backlog.
	got, err := batch.Fetch(2, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range got.Messages() {
		n++
	}
	if n != 2 {
		t.Fatalf("fetched %d chunks", n)
	}
	r := newReader(e.in.JS)
	s := readUntil(t, r, 6*256+3+4)
	want := map[string]Queue{
		wire.InferSubject(wire.PriorityBatch, "digits", "1"): {Consumer: "batch_digits_1", Messages: 6, Items: 6 * 256},
		wire.InferSubject(wire.PrioritySync, "digits", "1"):  {Consumer: "sync_digits_1", Messages: 1, Items: 3},
		wire.InferSubject(wire.PrioritySync, "mnist", "2"):   {Messages: 2, Items: 4},
	}
	if len(s.Queues) != len(want) {
		t.Fatalf("queues %+v", s.Queues)
	}
	for _, q := range s.Queues {
		w := want[q.Subject]
		w.Subject = q.Subject
		if q != w {
			t.Errorf("queue %+v, want %+v", q, w)
		}
	}
	if s.Workers != 0 || s.Rate != 0 {
		t.Errorf("workers %d rate %v with none announced", s.Workers, s.Rate)
	}
}

func TestBacklogEmptyAndDrained(t *testing.T) {
	e := startNATS(t)
	ctx := context.Background()
	batch := e.consumer(wire.PriorityBatch, "digits", "1")
	r := newReader(e.in.JS)
	s, err := r.read(ctx)
	if err != nil || s.Backlog != 0 {
		t.Fatalf("empty: backlog %d, %v", s.Backlog, err)
	}
	e.job(wire.PriorityBatch, "digits", "1", "j1", 100, 10)
	readUntil(t, r, 100)
	ackAll(t, batch, 10)
	readUntil(t, r, 0)
}

// readUntil reads until the backlog is want items: a consumer's pending
// count follows the stream a moment later.
func readUntil(t *testing.T, r *reader, want int64) Snapshot {
	t.Helper()
	var s Snapshot
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for s, err = r.read(context.Background()); err != nil || s.Backlog != want; s, err = r.read(context.Background()) {
		if time.Now().After(deadline) {
			t.Fatalf("backlog %d items (%v), want %d", s.Backlog, err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return s
}

func ackAll(t *testing.T, c jetstream.Consumer, n int) {
	t.Helper()
	b, err := c.Fetch(n, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for m := range b.Messages() {
		if err := m.DoubleAck(context.Background()); err != nil {
			t.Fatal(err)
		}
		got++
	}
	if got != n {
		t.Fatalf("acked %d of %d", got, n)
	}
}

func TestRateIsTheMeanOfBusyWorkers(t *testing.T) {
	e := startNATS(t)
	r := newReader(e.in.JS)
	e.announce("w1", 100, 2)
	e.announce("w2", 300, 1)
	e.announce("w3", 0, 0) // just started
	e.announce("w4", 5, 0) // idle: its rate is the load, not its speed
	s, err := r.read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Workers != 4 || s.Rate != 200 {
		t.Fatalf("workers %d rate %v, want 4 and 200", s.Workers, s.Rate)
	}
	for _, id := range []string{"w1", "w2", "w4"} {
		if err := e.in.Buckets.Workers.Delete(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	// Nobody busy now: the last measure stands (no fall back to the assumption).
	if s, err = r.read(context.Background()); err != nil || s.Workers != 1 || s.Rate != 200 {
		t.Fatalf("workers %d rate %v (%v), want 1 and the last rate 200", s.Workers, s.Rate, err)
	}
}

// The reader works before anything declared the stream (it says so) and
// after (it looks it up then).
func TestBacklogBeforeTheStreamExists(t *testing.T) {
	_, js := natstest.JetStream(t)
	ctx := context.Background()
	r := newReader(js)
	if _, err := r.read(ctx); err == nil {
		t.Fatal("read without a stream succeeded")
	}
	if _, err := natsx.Setup(ctx, js, natsx.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	if s, err := r.read(ctx); err != nil || s.Backlog != 0 {
		t.Fatalf("backlog %d, %v", s.Backlog, fmt.Sprint(err))
	}
}
