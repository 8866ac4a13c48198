package service

import (
	"context"
	"fmt"
	"testing"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A window of three chunks' bytes: never more than three unacknowledged,
// and every chunk stored once, even when sent twice.
func TestPublishWindowBoundsUnacked(t *testing.T) {
	e := start(t, testConfig())
	ctx := context.Background()
	w := newPublishWindow(e.in.JS, wire.StreamInfer, 3<<10, time.Second)
	subject := wire.InferSubject(wire.PriorityBatch, "tiny", "1")
	for round := range 2 { // the second round repeats the message ids
		for i := range 50 {
			if err := w.publish(ctx, &nats.Msg{Subject: subject, Data: make([]byte, 1<<10)}, fmt.Sprintf("pw-%d", i)); err != nil {
				t.Fatalf("round %d chunk %d: %v", round, i, err)
			}
			if len(w.pending) > 3 || w.bytes > 3<<10 {
				t.Fatalf("%d chunks (%d bytes) unacknowledged, want at most 3", len(w.pending), w.bytes)
			}
		}
		if err := w.drain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	info, err := e.in.Infer.Info(ctx)
	if err != nil || info.State.Msgs != 50 {
		t.Fatalf("stream holds %d messages (%v), want 50", info.State.Msgs, err)
	}
}

func TestTooManyRequestsIsClassified(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&jetstream.APIError{Code: 429, ErrorCode: 10167, Description: "too many requests"}, true},
		{fmt.Errorf("queue: %w", &jetstream.APIError{Code: 429, ErrorCode: 10167}), true},
		{&jetstream.APIError{Code: 503, ErrorCode: 10077, Description: "maximum bytes exceeded"}, false},
		{context.DeadlineExceeded, false},
	} {
		if got := natsx.IsTooManyRequests(tc.err); got != tc.want {
			t.Errorf("IsTooManyRequests(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
