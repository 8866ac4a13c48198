package natsx

import (
	"context"
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// The classification is checked against a real server's refusals.
func TestRefusalsAreClassified(t *testing.T) {
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
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "SMALL", Subjects: []string{"small.>"}, MaxBytes: 1024, Discard: jetstream.DiscardNew,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "ONE", Subjects: []string{"one.>"}, MaxMsgsPerSubject: 1, Discard: jetstream.DiscardNew, DiscardNewPerSubject: true,
	}); err != nil {
		t.Fatal(err)
	}
	var full error
	for i := 0; i < 10 && full == nil; i++ {
		_, full = js.Publish(ctx, "small.x", make([]byte, 300))
	}
	if !IsFull(full) || IsSubjectTaken(full) {
		t.Fatalf("a full stream's refusal %v: IsFull %v, IsSubjectTaken %v", full, IsFull(full), IsSubjectTaken(full))
	}
	if _, err := js.Publish(ctx, "one.a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	_, taken := js.Publish(ctx, "one.a", []byte("2"))
	if !IsSubjectTaken(taken) || IsFull(taken) {
		t.Fatalf("a second message on a subject %v: IsSubjectTaken %v, IsFull %v", taken, IsSubjectTaken(taken), IsFull(taken))
	}
	for _, err := range []error{nil, errors.New("maximum bytes exceeded"), context.DeadlineExceeded} {
		if IsFull(err) || IsSubjectTaken(err) {
			t.Fatalf("%v classified as a refusal", err)
		}
	}
}
