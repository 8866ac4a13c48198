package service

import (
	"bytes"
	"context"
	"strconv"
	"sync"
	"time"

	"batchinfer/api"
	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/trace"
)

// Coalescing bounds: the items and the requests waiting per model version.
const (
	coalesceMaxItems = 256
	coalesceQueue    = 4096
)

// predictCall is one synchronous prediction waiting for its answer.
type predictCall struct {
	items   []wire.Item
	size    int // bytes of the items
	expires time.Time
	done    chan predictAnswer // buffered: the sender never blocks
	sc      trace.SpanContext  // the call's span (tracing on)
}

// predictAnswer is a call's items (a JSON array of ItemResult, indexes
// from 0) or its error.
type predictAnswer struct {
	items []byte
	err   error
}

// coalescer sends the synchronous predictions of one model version to the
// workers, putting those that wait at the same time into one message: a
// request that arrives while the previous message is being sent goes out
// with the others that arrived meanwhile (never waiting for more), so
// under load NATS and the workers handle one message per batch of
// requests, not one per request.
type coalescer struct {
	s    *Service
	meta *model.Metadata
	ch   chan *predictCall
}

// coalescerFor returns the model version's coalescer, started on first use
// and stopped with the service.
func (s *Service) coalescerFor(meta *model.Metadata) *coalescer {
	s.coalMu.Lock()
	defer s.coalMu.Unlock()
	if s.coal == nil {
		s.coal = map[string]*coalescer{}
	}
	c := s.coal[meta.ID()]
	if c == nil {
		c = &coalescer{s: s, meta: meta, ch: make(chan *predictCall, coalesceQueue)}
		s.coal[meta.ID()] = c
		go c.run(s.ctx)
	}
	return c
}

// enqueue hands a call over, or answers busy when too many wait.
func (c *coalescer) enqueue(p *predictCall) error {
	select {
	case c.ch <- p:
		return nil
	default:
		return api.RetryLater(api.CodeBusy, 100*time.Millisecond, nil, "%d predictions of %s wait to be sent: retry later", coalesceQueue, c.meta.ID())
	}
}

func (c *coalescer) run(ctx context.Context) {
	var next *predictCall
	for {
		calls := []*predictCall{next}
		if next == nil {
			select {
			case p := <-c.ch:
				calls[0] = p
			case <-ctx.Done():
				return
			}
		}
		calls, next = c.gather(calls)
		c.send(ctx, calls)
	}
}

// gather adds the calls that wait now, within the bounds of one message;
// the first that does not fit is returned for the next message.
func (c *coalescer) gather(calls []*predictCall) ([]*predictCall, *predictCall) {
	n, size := len(calls[0].items), calls[0].size
	for {
		select {
		case p := <-c.ch:
			if n+len(p.items) > coalesceMaxItems || size+p.size > c.s.cfg.MaxChunkBytes {
				return calls, p
			}
			calls = append(calls, p)
			n, size = n+len(p.items), size+p.size
		default:
			return calls, nil
		}
	}
}

// send publishes one message with the calls' items and answers them from
// its reply, on a goroutine of its own.
func (c *coalescer) send(ctx context.Context, calls []*predictCall) {
	var items []wire.Item
	expires := calls[0].expires
	for _, p := range calls {
		items = append(items, p.items...)
		if p.expires.After(expires) {
			expires = p.expires
		}
	}
	subject, replies, done := c.s.inbox.Register(2)
	h := wire.ChunkHeader{Job: wire.SyncJob, Count: len(items), Reply: subject, Enqueued: time.Now(), Expires: expires}
	msg := &nats.Msg{Subject: wire.SyncSubject(c.meta.Name, c.meta.Version), Reply: subject, Header: h.Header(), Data: wire.EncodeChunk(nil, items)}
	span := c.traceSend(calls, len(items), msg.Header)
	if err := c.s.in.NC.PublishMsg(msg); err != nil {
		done()
		answerAll(calls, queueErr(err))
		endSend(span, err)
		return
	}
	c.s.metrics.syncMessages.Inc()
	go c.await(ctx, calls, msg, replies, done, expires, span)
}

// await waits for the reply (queueing the message durably when no worker
// took it) until the last call's deadline, and answers every call.
func (c *coalescer) await(ctx context.Context, calls []*predictCall, msg *nats.Msg, replies <-chan *nats.Msg, done func(), expires time.Time, span trace.Span) {
	defer done()
	defer endSend(span, nil)
	ctx, cancel := context.WithDeadline(ctx, expires)
	defer cancel()
	for {
		select {
		case m := <-replies:
			if !refused(m) {
				split(calls, m.Data)
				return
			}
			if err := c.s.queueSync(ctx, c.meta, msg, time.Until(expires)); err != nil {
				answerAll(calls, err)
				return
			}
		case <-ctx.Done():
			return // every caller has given up by now
		}
	}
}

func answerAll(calls []*predictCall, err error) {
	for _, p := range calls {
		p.done <- predictAnswer{err: err}
	}
}

// split gives each call its items of a chunk result, renumbered from 0,
// without decoding them.
func split(calls []*predictCall, data []byte) {
	bufs := make([]bytes.Buffer, len(calls))
	k, at := 0, 0 // the call, and the first index of its items
	err := wire.EachItem(data, func(item []byte) error {
		i := wire.ItemIndex(item)
		for k < len(calls) && i >= at+len(calls[k].items) {
			at += len(calls[k].items)
			k++
		}
		if i < at || k == len(calls) {
			return wire.ErrNotChunkResult
		}
		b := &bufs[k]
		if b.Len() == 0 {
			b.WriteByte('[')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(`{"index":`)
		b.WriteString(strconv.Itoa(i - at))
		b.Write(item[len(`{"index":`)+len(strconv.Itoa(i)):])
		return nil
	})
	for j, p := range calls {
		switch {
		case err != nil:
			p.done <- predictAnswer{err: err}
		case bufs[j].Len() == 0:
			p.done <- predictAnswer{items: []byte("[]")}
		default:
			bufs[j].WriteByte(']')
			p.done <- predictAnswer{items: bufs[j].Bytes()}
		}
	}
}

// coalescers are the service's, by model id.
type coalescers struct {
	coalMu sync.Mutex
	coal   map[string]*coalescer
}
