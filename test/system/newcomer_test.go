package system

import (
	"context"
	"fmt"
	"testing"
	"time"

	"batchinfer/internal/wire"
	"batchinfer/worker"

	"github.com/nats-io/nats.go/jetstream"
)

// A job entering while a large one runs takes the newcomers' queue: its
// chunk is delivered from there, and every item of both jobs is done once.
// With the worker's newcomer slots off, the queue is not created and both
// jobs still end (the newcomer's ticket goes to the batch queue).
func TestNewcomerQueue(t *testing.T) {
	for _, tc := range []struct {
		name      string
		slots     int
		delivered int // chunks delivered from the newcomers' queue: the large job's first, the newcomer's
	}{
		{"on", 0, 2},
		{"off", -1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Start(t, Options{Worker: func(c *worker.Config) { c.NewcomerSlots = tc.slots }})
			first := s.firstQueue(t)
			big, _ := DigitInputs(t, 20*1024)
			a := s.submit(t, map[string]any{"model": "digits", "inputs": big})
			if tc.slots >= 0 { // its first chunk done, the worker pulls the newcomers' queue again
				Eventually(t, 30*time.Second, func() error {
					if info := first(); info == nil || info.NumWaiting == 0 || info.Delivered.Consumer == 0 || info.NumAckPending > 0 {
						return fmt.Errorf("the newcomers' queue: %+v", info)
					}
					return nil
				})
			}
			inputs, labels := DigitInputs(t, 256)
			b := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
			if st := s.waitJob(t, b.ID, 30*time.Second); st.Done != 256 {
				t.Fatalf("the newcomer: %+v", st)
			}
			for _, it := range s.allResults(t, b.ID, 256) {
				if it.Class == nil || *it.Class != labels[it.Index] {
					t.Fatalf("the newcomer's item %d: %+v, want %d", it.Index, it, labels[it.Index])
				}
			}
			if st := s.waitJob(t, a.ID, 60*time.Second); st.Done != len(big) {
				t.Fatalf("the large job: %+v", st)
			}
			info, got := first(), -1
			if info != nil {
				got = int(info.Delivered.Consumer)
			}
			if got != tc.delivered {
				t.Fatalf("%d chunks delivered from the newcomers' queue, want %d", got, tc.delivered)
			}
		})
	}
}

// firstQueue reads the digits model's newcomers' queue (nil: it does not
// exist).
func (s *System) firstQueue(t *testing.T) func() *jetstream.ConsumerInfo {
	t.Helper()
	js, _ := s.resultsStream(t) // a JetStream client for the test, closed at its end
	return func() *jetstream.ConsumerInfo {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := js.Consumer(ctx, wire.StreamInfer, wire.ConsumerName(wire.PriorityFirst, "digits", "1"))
		if err != nil {
			return nil
		}
		info, err := c.Info(ctx)
		if err != nil {
			return nil
		}
		return info
	}
}
