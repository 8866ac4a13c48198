package service

import (
	"context"
	"fmt"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

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
	maxBytes int
	bytes    int
	pending  []pendingChunk
}

type pendingChunk struct {
	msg *nats.Msg
	id  string
	f   jetstream.PubAckFuture
}

func newPublishWindow(js jetstream.JetStream, maxBytes int) *publishWindow {
	return &publishWindow{js: js, maxBytes: maxBytes}
}

func (w *publishWindow) opts(id string) []jetstream.PublishOpt {
	return []jetstream.PublishOpt{jetstream.WithMsgID(id), jetstream.WithExpectStream(wire.StreamInfer)}
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
		if natsx.IsTooManyRequests(err) {
			return w.retry(ctx, p)
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-timeout.C:
		return fmt.Errorf("no ack after %s", natsOpTimeout)
	}
}

// retry sends a refused chunk again, synchronously, with a growing pause.
func (w *publishWindow) retry(ctx context.Context, p pendingChunk) error {
	delay := publishBackoff
	var err error
	for range publishRetries {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
		// A fresh message: the refused one may still be referenced by the client.
		m := &nats.Msg{Subject: p.msg.Subject, Header: p.msg.Header, Data: p.msg.Data}
		if _, err = w.js.PublishMsg(ctx, m, w.opts(p.id)...); err == nil || !natsx.IsTooManyRequests(err) {
			return err
		}
		delay = min(2*delay, time.Second)
	}
	return err
}
