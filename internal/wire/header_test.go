package wire

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestChunkHeaderRoundTrip(t *testing.T) {
	at := time.Unix(0, 1764633600123456789)
	for _, h := range []ChunkHeader{
		{Job: "j0123456789abcdefghjkmn", Chunk: 3, Start: 768, Count: 256, Enqueued: at},
		{Job: SyncJob, Count: 1, Reply: "_INBOX.x.y", Enqueued: at, Expires: at.Add(time.Second)},
		{Job: "j1", Chunk: 0, Start: 0, Count: 0},
	} {
		got, err := ParseChunkHeader(h.Header())
		if err != nil {
			t.Fatal(err)
		}
		if got.Job != h.Job || got.Chunk != h.Chunk || got.Start != h.Start || got.Count != h.Count ||
			got.Reply != h.Reply || !got.Enqueued.Equal(h.Enqueued) || !got.Expires.Equal(h.Expires) {
			t.Fatalf("round trip of %+v gave %+v", h, got)
		}
	}
}

func TestParseChunkHeaderErrors(t *testing.T) {
	good := ChunkHeader{Job: "j1", Chunk: 1, Start: 2, Count: 3}.Header()
	for _, tc := range []struct {
		name   string
		mutate func(nats.Header)
	}{
		{"no job", func(h nats.Header) { h.Del(HdrJob) }},
		{"no chunk", func(h nats.Header) { h.Del(HdrChunk) }},
		{"bad start", func(h nats.Header) { h.Set(HdrStart, "x") }},
		{"negative count", func(h nats.Header) { h.Set(HdrCount, "-1") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := nats.Header{}
			for k, v := range good {
				h[k] = append([]string(nil), v...)
			}
			tc.mutate(h)
			if _, err := ParseChunkHeader(h); !errors.Is(err, ErrBadHeader) {
				t.Fatalf("error %v, want ErrBadHeader", err)
			}
		})
	}
	// A bad enqueue time is ignored: it only feeds a metric.
	h := ChunkHeader{Job: "j1"}.Header()
	h.Set(HdrEnqueue, "soon")
	if got, err := ParseChunkHeader(h); err != nil || !got.Enqueued.IsZero() {
		t.Fatalf("%+v %v", got, err)
	}
}
