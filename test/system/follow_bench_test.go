package system

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/natsx/natstest"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkFollowDesigns compares, on one embedded JetStream server, the two
// ways a gateway can read a job's stored results from a cursor: an ordered
// consumer per subscription (the old design; deleted at the end here, which
// the old code did not even do) and batched direct gets by sequence (the
// design in use). One op = one subscription reading a finished job of
// `chunks` result messages of ~85 KB (256 digits results) from the start.
// cpu/op is the process's CPU (server and client side) per subscription.
//
//	go test -run '^$' -bench FollowDesigns ./internal/systemtest
func BenchmarkFollowDesigns(b *testing.B) {
	nc, js := natstest.JetStream(b)
	ctx := context.Background()
	if _, err := natsx.Setup(ctx, js, natsx.StreamConfig{}); err != nil {
		b.Fatal(err)
	}
	results, _ := js.Stream(ctx, wire.StreamResults)
	payload := make([]byte, 85<<10)
	for i := range payload {
		payload[i] = 'x'
	}
	for _, chunks := range []int{4, 64} {
		job := fmt.Sprintf("jbench%04d", chunks)
		for c := 0; c < chunks; c++ {
			if _, err := js.Publish(ctx, wire.ResultSubject(job, c), payload); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("chunks=%d/ordered-consumer", chunks), func(b *testing.B) {
			benchFollow(b, func() int { return followOrdered(b, js, job, chunks) })
		})
		b.Run(fmt.Sprintf("chunks=%d/direct-get", chunks), func(b *testing.B) {
			benchFollow(b, func() int { return followDirect(b, nc, results, job) })
		})
	}
}

func benchFollow(b *testing.B, f func() int) {
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if n := f(); n == 0 {
			b.Fatal("nothing read")
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

func followOrdered(b *testing.B, js jetstream.JetStream, job string, chunks int) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, wire.StreamResults, jetstream.OrderedConsumerConfig{FilterSubjects: []string{wire.ResultFilter(job)}})
	if err != nil {
		b.Fatal(err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(64))
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for n < chunks {
		if _, err := it.Next(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	it.Stop()
	if name := cons.CachedInfo().Name; name != "" {
		_ = js.DeleteConsumer(ctx, wire.StreamResults, name)
	}
	return n
}

func followDirect(b *testing.B, nc *nats.Conn, results jetstream.Stream, job string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	n := 0
	var seq uint64
	for {
		req, _ := json.Marshal(map[string]any{"seq": seq + 1, "next_by_subj": wire.ResultFilter(job), "batch": 64, "max_bytes": 2 << 20})
		if err := nc.PublishRequest("$JS.API.DIRECT.GET."+wire.StreamResults, inbox, req); err != nil {
			b.Fatal(err)
		}
		for {
			m, err := sub.NextMsgWithContext(ctx)
			if err != nil {
				b.Fatal(err)
			}
			st := m.Header.Get("Status")
			if st == "404" {
				return n
			}
			if st == "204" {
				if p, _ := strconv.Atoi(m.Header.Get("Nats-Num-Pending")); p == 0 {
					return n
				}
				break
			}
			seq, _ = strconv.ParseUint(m.Header.Get("Nats-Sequence"), 10, 64)
			n++
		}
	}
}
