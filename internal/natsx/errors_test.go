package natsx_test

import (
	"context"
	"errors"
	"testing"

	"batchinfer/internal/natsx"
	"batchinfer/internal/natsx/natstest"

	"github.com/nats-io/nats.go/jetstream"
)

// The classification is checked against a real server's refusals.
func TestRefusalsAreClassified(t *testing.T) {
	_, js := natstest.JetStream(t)
	ctx := context.Background()
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
	if !natsx.IsFull(full) || natsx.IsSubjectTaken(full) {
		t.Fatalf("a full stream's refusal %v: IsFull %v, IsSubjectTaken %v", full, natsx.IsFull(full), natsx.IsSubjectTaken(full))
	}
	if _, err := js.Publish(ctx, "one.a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	_, taken := js.Publish(ctx, "one.a", []byte("2"))
	if !natsx.IsSubjectTaken(taken) || natsx.IsFull(taken) {
		t.Fatalf("a second message on a subject %v: IsSubjectTaken %v, IsFull %v", taken, natsx.IsSubjectTaken(taken), natsx.IsFull(taken))
	}
	for _, err := range []error{nil, errors.New("maximum bytes exceeded"), context.DeadlineExceeded} {
		if natsx.IsFull(err) || natsx.IsSubjectTaken(err) {
			t.Fatalf("%v classified as a refusal", err)
		}
	}
}
