package autoscaler

import (
	"context"
	"fmt"
	"testing"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/natsx/natstest"
	"batchinfer/internal/store"
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

// consumer declares a synchronous queue's durable consumer as a worker
// does (worker/lane.go).
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

// backlog declares a model version's backlog consumer on the input stream,
// as a worker serving it does.
func (e *natsEnv) backlog(name, version string) {
	e.t.Helper()
	if _, err := e.in.JS.CreateOrUpdateConsumer(context.Background(), wire.StreamInput, store.BacklogConsumer(name, version)); err != nil {
		e.t.Fatal(err)
	}
}

// job writes a batch job's items to the input stream in chunks of size
// (each chunk in parts of at most part items), as the gateway does, and
// sends the scheduler's ticket of its first chunk (tickets are not
// backlog: their chunks are in the input stream).
func (e *natsEnv) job(name, version, id string, items, size, part int) {
	e.t.Helper()
	ctx := context.Background()
	for chunk, start := 0, 0; start < items; chunk, start = chunk+1, start+size {
		n := min(size, items-start)
		for p, off := 0, 0; off < n; p, off = p+1, off+part {
			msg := &nats.Msg{Subject: wire.InputSubject(name, version, id, chunk, p), Data: wire.EncodeChunk(nil, tensors(min(part, n-off)))}
			if _, err := e.in.JS.PublishMsg(ctx, msg); err != nil {
				e.t.Fatal(err)
			}
		}
	}
	h := wire.ChunkHeader{Job: id, Count: min(size, items), Parts: 1, Enqueued: time.Now()}
	e.publish(wire.InferSubject(wire.PriorityBatch, name, version), h, nil)
}

// sync queues a synchronous request of n items, as the gateway does when
// no worker takes it at once.
func (e *natsEnv) sync(name, version string, n int) {
	e.t.Helper()
	h := wire.ChunkHeader{Job: wire.SyncJob, Count: n, Reply: "_INBOX.x", Enqueued: time.Now()}
	e.publish(wire.InferSubject(wire.PrioritySync, name, version), h, wire.EncodeChunk(nil, tensors(n)))
}

func (e *natsEnv) publish(subject string, h wire.ChunkHeader, data []byte) {
	e.t.Helper()
	if _, err := e.in.JS.PublishMsg(context.Background(), &nats.Msg{Subject: subject, Header: h.Header(), Data: data}); err != nil {
		e.t.Fatal(err)
	}
}

func tensors(n int) []wire.Item {
	items := make([]wire.Item, n)
	for i := range items {
		items[i] = wire.Item{Kind: wire.ItemTensor, Data: make([]byte, 16)}
	}
	return items
}

// done deletes a chunk's input, as a worker does once its result is stored.
func (e *natsEnv) done(name, version, id string, chunk int) {
	e.t.Helper()
	if err := store.NewInputs(e.in).DeleteChunk(context.Background(), name, version, id, chunk); err != nil {
		e.t.Fatal(err)
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

// The batch backlog is the input stream's backlog consumer of each model
// version (chunk parts not done, times the items per part); synchronous
// requests count as queued or in flight on their queue; tickets do not
// count (their chunks are in the input stream already).
func TestBacklogCountsTheInputStreamAndTheSyncQueue(t *testing.T) {
	e := startNATS(t)
	e.backlog("digits", "1")
	e.backlog("mnist", "2")
	sync := e.consumer(wire.PrioritySync, "digits", "1")
	e.job("digits", "1", "j1", 1000, 256, 256) // 4 chunks: 256 x 3 + 232
	e.job("digits", "1", "j2", 512, 256, 256)  // 2 chunks
	e.job("mnist", "2", "j3", 64, 64, 16)      // 1 chunk of 4 parts (large items)
	e.sync("digits", "1", 3)
	e.sync("breast_cancer", "1", 2) // no consumer yet: no worker ever served it
	e.sync("breast_cancer", "1", 2)

	// The sync request taken, not acked: in flight, still backlog.
	got, err := sync.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for range got.Messages() {
	}
	r := newReader(e.in.JS)
	s := readUntil(t, r, 6*256+64+3+4)
	want := map[string]Queue{
		wire.InputModelFilter("digits", "1"):                       {Consumer: "backlog_digits_1", Messages: 6, Items: 6 * 256},
		wire.InputModelFilter("mnist", "2"):                        {Consumer: "backlog_mnist_2", Messages: 4, Items: 64},
		wire.InferSubject(wire.PrioritySync, "digits", "1"):        {Consumer: "sync_digits_1", Messages: 1, Items: 3},
		wire.InferSubject(wire.PrioritySync, "breast_cancer", "1"): {Messages: 2, Items: 4},
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

// The batch backlog falls as chunks' results are stored (their inputs
// deleted), whatever the tickets do.
func TestBacklogEmptyAndDrained(t *testing.T) {
	e := startNATS(t)
	ctx := context.Background()
	e.backlog("digits", "1")
	r := newReader(e.in.JS)
	s, err := r.read(ctx)
	if err != nil || s.Backlog != 0 {
		t.Fatalf("empty: backlog %d, %v", s.Backlog, err)
	}
	e.job("digits", "1", "j1", 100, 10, 10)
	readUntil(t, r, 100)
	for c := 0; c < 7; c++ {
		e.done("digits", "1", "j1", c)
	}
	readUntil(t, r, 30)
	for c := 7; c < 10; c++ {
		e.done("digits", "1", "j1", c)
	}
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
