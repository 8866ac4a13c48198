package service

import (
	"context"
	"fmt"
	"time"

	"batchinfer/internal/natsx"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Retries of a chunk the stream refused because its ingest queue was full
// (JetStream answers 429 beyond 128 MiB queued, shared by every publisher).
const (
	publishRetries = 8
	publishBackoff = 50 * time.Millisecond
)

// publishWindow sends a job's chunks asynchronously with at most maxBytes
// of them unacknowledged: a large job (hundreds of MB of tensors) neither
// overruns the stream's ingest queue nor waits for each ack in turn. A
// chunk refused as "too many requests" is sent again after a pause; the
// message id makes a repeat harmless.
type publishWindow struct {
	js       jetstream.JetStream
	stream   string
	maxBytes int
	fullWait time.Duration // how long a full stream is waited for
	bytes    int
	pending  []pendingChunk
}

type pendingChunk struct {
	msg *nats.Msg
	id  string
	f   jetstream.PubAckFuture
}

// newPublishWindow sends to stream; a message the stream refuses as full
// is sent again for up to fullWait. A message refused because its subject
// already holds one (the input stream) is already stored: not an error.
func newPublishWindow(js jetstream.JetStream, stream string, maxBytes int, fullWait time.Duration) *publishWindow {
	return &publishWindow{js: js, stream: stream, maxBytes: maxBytes, fullWait: fullWait}
}

func (w *publishWindow) opts(id string) []jetstream.PublishOpt {
	o := []jetstream.PublishOpt{jetstream.WithExpectStream(w.stream)}
	if id != "" {
		o = append(o, jetstream.WithMsgID(id))
	}
	return o
}

// publish sends msg once the window has room for it.
func (w *publishWindow) publish(ctx context.Context, msg *nats.Msg, id string) error {
	for len(w.pending) > 0 && w.bytes+len(msg.Data) > w.maxBytes {
		if err := w.awaitOldest(ctx); err != nil {
			return err
		}
	}
	f, err := w.js.PublishMsgAsync(msg, w.opts(id)...)
	if err != nil {
		return err
	}
	w.pending = append(w.pending, pendingChunk{msg: msg, id: id, f: f})
	w.bytes += len(msg.Data)
	return nil
}

// drain waits for every chunk still unacknowledged.
func (w *publishWindow) drain(ctx context.Context) error {
	for len(w.pending) > 0 {
		if err := w.awaitOldest(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (w *publishWindow) awaitOldest(ctx context.Context) error {
	p := w.pending[0]
	w.pending = w.pending[1:]
	w.bytes -= len(p.msg.Data)
	timeout := time.NewTimer(natsOpTimeout)
	defer timeout.Stop()
	select {
	case <-p.f.Ok():
		return nil
	case err := <-p.f.Err():
		switch {
		case natsx.IsSubjectTaken(err):
			return nil
		case natsx.IsTooManyRequests(err), natsx.IsFull(err):
			return w.retry(ctx, p)
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-timeout.C:
		return fmt.Errorf("no ack after %s", natsOpTimeout)
	}
}

// retry sends a refused chunk again, synchronously, with a growing pause:
// a few times when the stream's ingest queue was full, for up to fullWait
// when the stream itself was (then errQueueFull).
func (w *publishWindow) retry(ctx context.Context, p pendingChunk) error {
	delay := publishBackoff
	tries, full := 0, time.Now().Add(w.fullWait)
	for {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
		// A fresh message: the refused one may still be referenced by the client.
		m := &nats.Msg{Subject: p.msg.Subject, Header: p.msg.Header, Data: p.msg.Data}
		_, err := w.js.PublishMsg(ctx, m, w.opts(p.id)...)
		switch {
		case err == nil || natsx.IsSubjectTaken(err):
			return nil
		case natsx.IsFull(err) && time.Now().Before(full):
		case natsx.IsFull(err):
			return fmt.Errorf("%w for %s: %w", errQueueFull, w.fullWait, err)
		case !natsx.IsTooManyRequests(err) || tries >= publishRetries:
			return err
		}
		tries++
		delay = min(2*delay, time.Second)
	}
}
