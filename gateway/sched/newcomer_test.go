package sched

import (
	"context"
	"fmt"
	"testing"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/natsx/natstest"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Against real JetStream: a newcomer's first ticket goes to the newcomers'
// queue while a worker's pull waits there, one per pull; every other
// ticket, and a newcomer's when no pull waits, to the batch queue.
func TestNewcomerQueue(t *testing.T) {
	for _, tc := range []struct {
		name      string
		pull      bool
		jobs      []int // chunks of each job, submitted in turn
		wantFirst string
	}{
		{"a pull waits: the first chunk there", true, []int{3}, "ja.0"},
		{"no pull: every ticket to the batch queue", false, []int{3}, ""},
		{"one pull, two newcomers: one there", true, []int{3, 1}, "ja.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, _ := natstest.Infra(t)
			ctx := context.Background()
			batchConsumer(t, in)
			first := workConsumer(t, in, wire.PriorityFirst)
			var pulled jetstream.MessageBatch
			if tc.pull {
				var err error
				if pulled, err = first.Fetch(1, jetstream.FetchMaxWait(30*time.Second)); err != nil {
					t.Fatal(err)
				}
				waitPulls(t, first, 1)
			}
			jobs := store.NewJobs(in)
			total := 0
			for i, n := range tc.jobs {
				id := fmt.Sprintf("j%c", 'a'+i)
				rec := &wire.JobRecord{ID: id, Tenant: id, Model: "m", Version: "1", ChunkSize: 10, Total: 10 * n, Chunks: n,
					State: wire.StateQueued, CreatedAt: time.Now()}
				if err := jobs.Create(ctx, rec); err != nil {
					t.Fatal(err)
				}
				total += n
			}
			s := New(Config{QueueChunks: 100}, in, prometheus.NewRegistry(), zerolog.Nop())
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer s.Stop()
			waitTickets(t, in, uint64(total))
			var got []string
			for seq := uint64(1); seq <= uint64(total); seq++ {
				m, err := in.Infer.GetMsg(ctx, seq)
				if err != nil {
					t.Fatal(err)
				}
				if m.Subject == wire.InferSubject(wire.PriorityFirst, "m", "1") {
					got = append(got, m.Header.Get(wire.HdrMsgID))
				}
			}
			want := []string{}
			if tc.wantFirst != "" {
				want = append(want, tc.wantFirst)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("newcomers' queue got %v, want %v", got, want)
			}
			if pulled != nil && tc.wantFirst != "" {
				m := <-pulled.Messages()
				if m == nil || m.Headers().Get(wire.HdrMsgID) != tc.wantFirst {
					t.Fatalf("the pull got %v", m)
				}
			}
		})
	}
}

// waitPulls waits until n pull requests wait on c.
func waitPulls(t *testing.T, c jetstream.Consumer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := c.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info.NumWaiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pulls wait, want %d", info.NumWaiting, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// While every newcomer slot runs a chunk and the batch queue has tickets,
// a newcomer waits for the next slot rather than a place in the batch
// queue; once the slot's chunk is done and no pull waits, it goes to the
// batch queue.
func TestNewcomerWaitsForABusySlot(t *testing.T) {
	in, _ := natstest.Infra(t)
	ctx := context.Background()
	batchConsumer(t, in)
	first := workConsumer(t, in, wire.PriorityFirst)
	pulled, err := first.Fetch(1, jetstream.FetchMaxWait(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	waitPulls(t, first, 1)
	jobs := store.NewJobs(in)
	create := func(id string, chunks int) {
		t.Helper()
		rec := &wire.JobRecord{ID: id, Tenant: id, Model: "m", Version: "1", ChunkSize: 10, Total: 10 * chunks, Chunks: chunks,
			State: wire.StateQueued, CreatedAt: time.Now()}
		if err := jobs.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	create("ja", 3)
	s := New(Config{QueueChunks: 100}, in, prometheus.NewRegistry(), zerolog.Nop())
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	waitTickets(t, in, 3) // ja.0 to the newcomers' queue (held by the pull: its slot runs), ja.1 and ja.2 to the batch queue
	m := <-pulled.Messages()
	if m == nil || m.Headers().Get(wire.HdrMsgID) != "ja.0" {
		t.Fatalf("the pull got %v", m)
	}
	create("jb", 1)
	time.Sleep(500 * time.Millisecond) // 25 top-ups at the default tick
	if n := ticketsSent(t, in); n != 3 {
		t.Fatalf("%d tickets sent while the newcomer slot runs, want 3 (jb waits)", n)
	}
	if err := m.Ack(); err != nil { // the slot's chunk done; no pull waits now
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for ticketsSent(t, in) < 4 { // (the acked ja.0 left the work queue)
		if time.Now().After(deadline) {
			t.Fatal("jb's ticket not sent once the slot's chunk was done")
		}
		time.Sleep(20 * time.Millisecond)
	}
	last, err := in.Infer.GetLastMsgForSubject(ctx, wire.InferSubject(wire.PriorityBatch, "m", "1"))
	if err != nil || last.Header.Get(wire.HdrMsgID) != "jb.0" {
		t.Fatalf("the batch queue's last ticket: %v %v, want jb.0", last, err)
	}
}

// ticketsSent is how many tickets the INFER stream has taken.
func ticketsSent(t *testing.T, in *natsx.Infra) uint64 {
	t.Helper()
	info, err := in.Infer.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.LastSeq
}
