package sched

import (
	"context"
	"strings"
	"testing"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/natsx/natstest"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Against real JetStream, each policy sends the tickets of a large job of
// tenant A and a small one of B, submitted just after, in its order: fair
// share serves B's within a round, FIFO after all of A's.
func TestPolicySendsInItsOrder(t *testing.T) {
	cases := []struct {
		policy string
		// where B's one ticket lands among the 21 sent (1-based)
		minAt, maxAt int
	}{
		{PolicyFair, 1, 2},
		{PolicyFIFO, 21, 21},
	}
	for _, c := range cases {
		t.Run(c.policy, func(t *testing.T) {
			if at := ticketOrder(t, c.policy); at < c.minAt || at > c.maxAt {
				t.Fatalf("B's ticket sent %d-th of 21, want %d to %d", at, c.minAt, c.maxAt)
			}
		})
	}
}

// ticketOrder queues A's 20-chunk job and then B's 1-chunk job, lets a
// scheduler of policy send every ticket, and returns the position of B's.
func ticketOrder(t *testing.T, policy string) int {
	in, _ := natstest.Infra(t)
	ctx := context.Background()
	batchConsumer(t, in)
	jobs := store.NewJobs(in)
	now := time.Now()
	for i, j := range []struct {
		id, tenant string
		chunks     int
	}{{"ja", "A", 20}, {"jb", "B", 1}} {
		rec := &wire.JobRecord{ID: j.id, Tenant: j.tenant, Model: "m", Version: "1", ChunkSize: 10, Total: 10 * j.chunks,
			Chunks: j.chunks, State: wire.StateQueued, CreatedAt: now.Add(time.Duration(i) * time.Millisecond)}
		if err := jobs.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	s := New(Config{Policy: policy, QueueChunks: 100}, in, prometheus.NewRegistry(), zerolog.Nop())
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	waitTickets(t, in, 21)
	for seq := uint64(1); seq <= 21; seq++ {
		m, err := in.Infer.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(m.Header.Get(wire.HdrMsgID), "jb.") {
			return int(seq)
		}
	}
	t.Fatal("B's ticket not sent")
	return 0
}

// waitTickets waits until n tickets are in the work queue.
func waitTickets(t *testing.T, in *natsx.Infra, n uint64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second) // a busy machine: the lease, then the tickets
	for {
		info, err := in.Infer.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d tickets sent, want %d", info.State.Msgs, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
