package natsx_test

import (
	"context"
	"testing"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/natsx/natstest"
	"batchinfer/internal/wire"
)

// A stream max age shorter than the duplicate window still declares every
// stream: the window follows it.
func TestSetupWithShortRetention(t *testing.T) {
	_, js := natstest.JetStream(t)
	ctx := context.Background()
	for _, ttl := range []time.Duration{time.Minute, 2 * time.Minute, time.Hour} {
		if _, err := natsx.Setup(ctx, js, natsx.StreamConfig{ResultTTL: ttl, MaxAge: ttl}); err != nil {
			t.Fatalf("ttl %s: %v", ttl, err)
		}
		s, err := js.Stream(ctx, wire.StreamInfer)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.CachedInfo().Config.Duplicates, min(ttl, wire.DefaultDuplicateWindow); got != want {
			t.Errorf("ttl %s: duplicate window %s, want %s", ttl, got, want)
		}
	}
}

// The streams' reservations in the file store: both queues, and the
// dead-letter stream's default when unset; unlimited streams none.
func TestReserved(t *testing.T) {
	for _, tc := range []struct {
		c    natsx.StreamConfig
		want int64
	}{
		{natsx.StreamConfig{QueueMaxBytes: 10, ResultMaxBytes: 5, UploadMaxBytes: 3, RegistryMaxBytes: 2, DeadLetterMaxBytes: 1}, 31},
		{natsx.StreamConfig{QueueMaxBytes: -1, ResultMaxBytes: -1, UploadMaxBytes: -1, RegistryMaxBytes: -1, DeadLetterMaxBytes: -1}, 0},
		{natsx.StreamConfig{}, natsx.DefaultDeadLetterMaxBytes},
	} {
		if got := tc.c.Reserved(); got != tc.want {
			t.Errorf("%+v: %d, want %d", tc.c, got, tc.want)
		}
	}
}
