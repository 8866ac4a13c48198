package sched

import (
	"context"
	"fmt"
	"testing"
	"time"

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
