package system

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"batchinfer/gateway"
	"batchinfer/internal/wire"
	"batchinfer/worker"
)

// A model whose chunks hold one item each (as an image's do) runs full
// batches: the worker holds two batches' worth of chunks, not Prefetch (3).
func TestSmallChunksRunInFullBatches(t *testing.T) {
	const batch = 8
	g := newGate()
	var mu sync.Mutex
	var sizes []int
	s := Start(t, Options{
		Gateway: func(c *gateway.Config) {
			c.Service.MaxChunkBytes = 4*64 + 16 // one digits item a chunk
			c.Sched.QueueChunks = 64            // tickets wait for the worker to take them
		},
		Worker: func(c *worker.Config) { c.MaxBatch = batch },
		Models: func(ps []worker.Predictor) []worker.Predictor {
			return observe(g.wrap(ps), func(n int) { // every batch's size
				mu.Lock()
				sizes = append(sizes, n)
				mu.Unlock()
			})
		},
	})
	g.close()
	inputs, _ := DigitInputs(t, 64)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	<-g.entered // the first batch is held in TensorFlow
	held := s.consumerAckPending(t, wire.ConsumerName(wire.PriorityBatch, "digits", "1"))
	Eventually(t, 10*time.Second, func() error {
		if n := held(); n != 2*batch {
			return fmt.Errorf("the worker holds %d chunks, want %d", n, 2*batch)
		}
		return nil
	})
	g.open()
	if st := s.waitJob(t, job.ID, 30*time.Second); st.Done != 64 {
		t.Fatalf("job: %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if slices.Max(sizes) != batch {
		t.Fatalf("batches of %v: none full (%d)", sizes, batch)
	}
}

// consumerAckPending reads a consumer's chunks delivered and not acked yet.
func (s *System) consumerAckPending(t *testing.T, consumer string) func() int {
	t.Helper()
	js, _ := s.resultsStream(t) // a JetStream client for the test, closed at its end
	return func() int {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := js.Consumer(ctx, wire.StreamInfer, consumer)
		if err != nil {
			return -1
		}
		info, err := c.Info(ctx)
		if err != nil {
			return -1
		}
		return info.NumAckPending
	}
}
