package service

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// split gives each call its own items, renumbered from 0, byte for byte
// what the worker encoded otherwise.
func TestSplitRenumbers(t *testing.T) {
	one := 1
	cr := wire.ChunkResult{Job: wire.SyncJob}
	for i := range 5 {
		cr.Items = append(cr.Items, wire.ItemResult{Index: i, Label: fmt.Sprint("l", i), Class: &one, Score: 0.5})
	}
	cr.Items[3] = wire.ItemResult{Index: 3, Error: `bad {"index":9}`}
	calls := []*predictCall{
		{items: make([]wire.Item, 2), done: make(chan predictAnswer, 1)},
		{items: make([]wire.Item, 1), done: make(chan predictAnswer, 1)},
		{items: make([]wire.Item, 2), done: make(chan predictAnswer, 1)},
	}
	split(calls, cr.AppendJSON(nil))
	want := [][]string{{"l0", "l1"}, {"l2"}, {"", "l4"}}
	for k, p := range calls {
		a := <-p.done
		var items []wire.ItemResult
		if a.err != nil || json.Unmarshal(a.items, &items) != nil || len(items) != len(want[k]) {
			t.Fatalf("call %d: %s, %v", k, a.items, a.err)
		}
		for i, it := range items {
			if it.Index != i || it.Label != want[k][i] {
				t.Errorf("call %d item %d: %+v", k, i, it)
			}
		}
	}
	bad := &predictCall{items: make([]wire.Item, 1), done: make(chan predictAnswer, 1)}
	split([]*predictCall{bad}, []byte(`{"job":"x"`))
	if a := <-bad.done; a.err == nil {
		t.Fatal("a malformed reply was split")
	}
}

// Concurrent predictions each get their own answer, sharing messages to
// the workers; with no worker listening they wait in the durable sync
// queue, where a worker that comes later finds them.
func TestPredictCoalescesAndFallsBack(t *testing.T) {
	e := start(t, testConfig())
	ctx := context.Background()
	var msgs atomic.Int64
	sub, err := e.in.NC.QueueSubscribe(wire.SyncSubject("tiny", "1"), wire.SyncQueueGroup, func(m *nats.Msg) {
		msgs.Add(1)
		h, _ := wire.ParseChunkHeader(m.Header)
		items, _ := wire.DecodeChunk(m.Data)
		_ = m.Respond(fakeAnswer(h, items))
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	const calls = 64
	for k := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := []json.RawMessage{[]byte(fmt.Sprintf("[%d,0]", k%10)), []byte(fmt.Sprintf("[%d,1]", k%10))}
			resp, err := e.svc.Predict(ctx, PredictRequest{Model: "tiny", Inputs: in})
			var items []wire.ItemResult
			if err != nil || json.Unmarshal(resp.Items, &items) != nil || len(items) != 2 {
				t.Errorf("call %d: %v %+v", k, err, resp)
				return
			}
			for i, it := range items {
				if it.Index != i || it.Label != fmt.Sprintf("%d,%d", k%10, i) {
					t.Errorf("call %d item %d: %+v", k, i, it)
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d predictions in %d messages", calls, msgs.Load())
	_ = sub.Unsubscribe()

	// No worker listens: the request goes to the durable sync queue.
	done := make(chan error, 1)
	go func() {
		_, err := e.svc.Predict(ctx, PredictRequest{Model: "tiny", Inputs: []json.RawMessage{[]byte("[3,4]")}, Timeout: 900 * time.Millisecond})
		done <- err
	}()
	cons, err := e.in.JS.CreateOrUpdateConsumer(ctx, wire.StreamInfer, jetstream.ConsumerConfig{
		Durable: "test_sync", FilterSubject: wire.InferSubject(wire.PrioritySync, "tiny", "1"), AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := cons.Next(jetstream.FetchMaxWait(800 * time.Millisecond))
	if err != nil {
		t.Fatalf("no request in the durable queue: %v", err)
	}
	h, _ := wire.ParseChunkHeader(m.Headers())
	items, _ := wire.DecodeChunk(m.Data())
	if err := e.in.NC.Publish(h.Reply, fakeAnswer(h, items)); err != nil {
		t.Fatal(err)
	}
	_ = m.Ack()
	if err := <-done; err != nil {
		t.Fatalf("prediction through the durable queue: %v", err)
	}
}

// fakeAnswer labels each item with its two values.
func fakeAnswer(h wire.ChunkHeader, items []wire.Item) []byte {
	cr := wire.ChunkResult{Job: h.Job}
	for i, it := range items {
		var v [2]float32
		_ = it.Tensor(v[:]) // float32s, or one byte a value
		cr.Items = append(cr.Items, wire.ItemResult{Index: i, Label: fmt.Sprintf("%g,%g", v[0], v[1])})
	}
	return cr.AppendJSON(nil)
}
