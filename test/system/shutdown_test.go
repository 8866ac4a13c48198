package system

import (
	"context"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// A worker stopped gracefully in the middle of a job finishes, stores and
// acks what it holds; a new worker takes the rest; every item once.
func TestWorkerGracefulStopFinishesInFlight(t *testing.T) {
	gate := newGate()
	s := Start(t, Options{Models: gate.wrap})
	gate.close()
	inputs, labels := DigitInputs(t, 3000)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	<-gate.entered
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		stopped <- s.Workers[0].Stop(ctx)
	}()
	gate.open()
	if err := <-stopped; err != nil {
		t.Fatalf("stop: %v", err)
	}
	var st jobStatus
	s.GetJSON("/v1/jobs/"+job.ID, &st)
	if st.Done == 0 || st.Failed != 0 {
		t.Fatalf("after a graceful stop the held chunks are done: %+v", st)
	}
	s.opts.Models = nil
	s.AddWorker()
	st = s.waitJob(t, job.ID, 60*time.Second)
	if st.Done != 3000 {
		t.Fatalf("status %+v", st)
	}
	for _, it := range s.allResults(t, job.ID, 3000) {
		if it.Class == nil || *it.Class != labels[it.Index] {
			t.Fatalf("item %d: %+v", it.Index, it)
		}
	}
}

// A gateway shutting down tells WebSocket clients it is going away.
func TestGatewayStopClosesWebSocketsGoingAway(t *testing.T) {
	s := Start(t, Options{})
	w := s.MustDialWS()
	ctxStop(t, s.Gateway)
	if c := closeCode(t, w); c != websocket.CloseGoingAway {
		t.Fatalf("close %d, want 1001", c)
	}
}
