package sched

import (
	"context"
	"testing"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/natsx/natstest"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// One scheduler leads at a time; when it stops another takes over.
func TestOneLeader(t *testing.T) {
	in, _ := natstest.Infra(t)
	a := New(Config{}, in, prometheus.NewRegistry(), zerolog.Nop())
	b := New(Config{}, in, prometheus.NewRegistry(), zerolog.Nop())
	ctx := context.Background()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if a.Leading() && b.Leading() {
			t.Fatal("two leaders")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if a.Leading() == b.Leading() {
		t.Fatalf("leading: a %v b %v", a.Leading(), b.Leading())
	}
}

// A dataset job still being read has its chunks read so far sent.
func TestSendsChunksOfAJobBeingRead(t *testing.T) {
	readingJob(t) // 8 chunks read, 8 tickets
}

// readingJob starts a scheduler with room for every chunk and a dataset
// job j1 of model m:1 being read, and waits for the tickets of the 8
// chunks read so far.
func readingJob(t *testing.T) (*natsx.Infra, *store.Jobs) {
	t.Helper()
	in, _ := natstest.Infra(t)
	ctx := context.Background()
	batchConsumer(t, in)
	s := New(Config{QueueChunks: 100}, in, prometheus.NewRegistry(), zerolog.Nop()) // room for every chunk read
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	jobs := store.NewJobs(in)
	rec := &wire.JobRecord{ID: "j1", Tenant: "t", Model: "m", Version: "1", ChunkSize: 10, Total: 1000, State: wire.StateAccepting,
		CreatedAt: time.Now(), Source: &wire.JobSource{Upload: "u", Format: "ndjson"}}
	if err := jobs.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.Checkpoint(ctx, "j1", wire.IngestState{Items: 80, Chunks: 8}); err != nil {
		t.Fatal(err)
	}
	waitTickets(t, in, 8)
	return in, jobs
}

// batchConsumer creates the workers' batch consumer of model m:1: the
// scheduler tops up only a queue that has one.
func batchConsumer(t *testing.T, in *natsx.Infra) jetstream.Consumer {
	t.Helper()
	return workConsumer(t, in, wire.PriorityBatch)
}

// workConsumer creates the workers' consumer of model m:1's prio queue.
func workConsumer(t *testing.T, in *natsx.Infra, prio string) jetstream.Consumer {
	t.Helper()
	c, err := in.JS.CreateOrUpdateConsumer(context.Background(), wire.StreamInfer, jetstream.ConsumerConfig{
		Durable: wire.ConsumerName(prio, "m", "1"), FilterSubject: wire.InferSubject(prio, "m", "1"),
		AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A scheduler that stepped down while NATS was away takes back a lease that
// still names it at once; one that names another scheduler it leaves.
func TestReclaimsItsOwnLease(t *testing.T) {
	in, _ := natstest.Infra(t)
	ctx := context.Background()
	s := New(Config{}, in, prometheus.NewRegistry(), zerolog.Nop())
	s.ctx = ctx
	var renewed time.Time
	if _, err := in.Buckets.Leases.Put(ctx, leaseKey, []byte(s.id)); err != nil {
		t.Fatal(err)
	}
	if rev := s.leaseStep(0, &renewed); rev == 0 || !s.Leading() {
		t.Fatalf("its own lease: revision %d, leading %v", rev, s.Leading())
	}
	s.setLeading(false)
	if _, err := in.Buckets.Leases.Put(ctx, leaseKey, []byte("another")); err != nil {
		t.Fatal(err)
	}
	if rev := s.leaseStep(0, &renewed); rev != 0 || s.Leading() {
		t.Fatalf("another's lease: revision %d, leading %v", rev, s.Leading())
	}
}

// A write of a job record that compare-and-set refused, which a core
// subscriber still sees, changes nothing: one made on an older record of a
// dataset being read can look finished (its items so far all done), or
// name a redrive that was never made; the chunks read afterwards are sent,
// and only they.
func TestRefusedWriteChangesNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stale func(r *wire.JobRecord)
	}{
		{"looks finished", func(r *wire.JobRecord) { r.State, r.Total, r.Chunks, r.Done = wire.StateRunning, 80, 8, 80 }},
		{"redrive not made", func(r *wire.JobRecord) { r.Redrives = []wire.ChunkRedrive{{Chunk: 2, Letter: 7}} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, jobs := readingJob(t)
			ctx := context.Background()
			stale, err := jobs.Get(ctx, "j1")
			if err != nil {
				t.Fatal(err)
			}
			tc.stale(stale)
			m := nats.NewMsg("$KV." + wire.BucketJobs + ".j1")
			m.Data = wire.Marshal(stale)
			m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "1") // not the record's: refused
			if _, err := in.JS.PublishMsg(ctx, m); err == nil {
				t.Fatal("the write was not refused")
			}
			if _, err := jobs.Checkpoint(ctx, "j1", wire.IngestState{Items: 200, Chunks: 20}); err != nil {
				t.Fatal(err)
			}
			waitTickets(t, in, 20)
			info, err := in.Infer.Info(ctx)
			if err != nil || info.State.Msgs != 20 {
				t.Fatalf("%d tickets, want the 20 chunks read once each (%v)", info.State.Msgs, err)
			}
		})
	}
}
