package natsx

import (
	"context"
	"testing"
	"time"

	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// A result retention shorter than the duplicate window (the soak's 2 m)
// still declares every stream: the window follows it.
func TestSetupWithShortRetention(t *testing.T) {
	ns, err := RunEmbedded(EmbeddedConfig{Port: -1, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown()
	ctx := context.Background()
	nc, err := Connect(ctx, ConnConfig{URL: ns.ClientURL()}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for _, ttl := range []time.Duration{time.Minute, 2 * time.Minute, time.Hour} {
		if _, err := Setup(ctx, js, StreamConfig{ResultTTL: ttl}); err != nil {
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
