package worker

import (
	"context"
	"time"

	"batchinfer/internal/tracing"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// tracingShutdown bounds flushing the last spans at Stop.
const tracingShutdown = 5 * time.Second

// Span attributes of chunks and batches.
const (
	attrModel   = attribute.Key("batchinfer.model")
	attrVersion = attribute.Key("batchinfer.version")
	attrJob     = attribute.Key("batchinfer.job")
	attrChunk   = attribute.Key("batchinfer.chunk")
	attrItems   = attribute.Key("batchinfer.items")
)

// startTracing starts the worker's TracerProvider when tracing is on; it
// is flushed at Stop, after the last chunk.
func (w *Worker) startTracing() error {
	t, err := tracing.New(w.cfg.Tracing, "batchinfer-worker", w.cfg.Version, w.cfg.ID)
	if err != nil || t == nil {
		return err
	}
	w.tracer = t
	w.teardown.Add("tracing", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), tracingShutdown)
		defer cancel()
		return t.Shutdown(ctx)
	})
	return nil
}

// traceTask starts a chunk's span as the worker takes it, the child of
// the context its message carries (the scheduler's ticket, a prediction's
// message), with the span of its wait in the queue before it (from its
// enqueue time); the span ends when the chunk is released. Nothing when
// tracing is off: a chunk costs a branch.
func (l *lane) traceTask(t *task, h nats.Header) {
	if !l.d.tracer.On() {
		return
	}
	t.sc = tracing.FromHeader(h)
	parent := tracing.Remote(t.sc)
	attrs := trace.WithAttributes(attrJob.String(t.job), attrChunk.Int(t.chunk), attrModel.String(l.meta.Name),
		attrVersion.String(l.meta.Version), attrItems.Int(max(t.count, len(t.items))),
		attribute.String("batchinfer.priority", t.priority), attribute.Int64("batchinfer.delivered", int64(t.delivered)))
	if !t.enqueued.IsZero() {
		_, wait := l.d.tracer.Start(parent, "chunk.queue_wait", trace.WithTimestamp(t.enqueued), attrs)
		wait.End()
	}
	_, t.span = l.d.tracer.Start(parent, "chunk", trace.WithSpanKind(trace.SpanKindConsumer), attrs)
	if !t.sc.IsValid() {
		t.sc = t.span.SpanContext() // the chunk starts the trace: its logs name it
	}
	release := t.release
	t.release = func() {
		t.span.End()
		release()
	}
}

// child starts a span under t's (nil when t has none).
func (t *task) child(tr *tracing.Tracer, name string) trace.Span {
	if t.span == nil {
		return nil
	}
	_, s := tr.Start(trace.ContextWithSpan(context.Background(), t.span), name)
	return s
}

// endChild ends a span child returned, recording err.
func endChild(s trace.Span, err error) {
	if s != nil {
		tracing.Fail(s, err)
		s.End()
	}
}

// spanError records err on t's span.
func (t *task) spanError(err error) {
	if t.span != nil {
		tracing.Fail(t.span, err)
	}
}

// batchTrace is the span of one batch (nil: not traced).
type batchTrace struct {
	tr   *tracing.Tracer
	ctx  context.Context
	span trace.Span
}

// traceBatch starts a batch's span, back-dated to the start of its
// assembly: the child of one of its chunks' spans (a sampled one first),
// linked to every chunk's, each of which links back to it (one batch
// serves many chunks, a chunk may span several batches). Its assembly is
// a child span from start until now.
func (b *batcher) traceBatch(bt *batch, start time.Time) *batchTrace {
	if !b.d.tracer.On() || start.IsZero() {
		return nil
	}
	var parent trace.SpanContext
	var links []trace.Link
	var last *task
	for _, s := range bt.slots {
		if s.t == last || s.t.span == nil {
			continue
		}
		last = s.t
		sc := s.t.span.SpanContext()
		if !parent.IsSampled() && (sc.IsSampled() || !parent.IsValid()) {
			parent = sc
		}
		links = append(links, trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{attrJob.String(s.t.job), attrChunk.Int(s.t.chunk)}})
	}
	ctx, span := b.d.tracer.Start(tracing.Remote(parent), "batch", trace.WithTimestamp(start), trace.WithLinks(links...),
		trace.WithAttributes(attrModel.String(b.d.meta.Name), attrVersion.String(b.d.meta.Version), attrItems.Int(len(bt.slots)),
			attribute.Int("batchinfer.chunks", len(links))))
	_, asm := b.d.tracer.Start(ctx, "batch.assemble", trace.WithTimestamp(start))
	asm.End()
	last = nil
	for _, s := range bt.slots {
		if s.t != last && s.t.span != nil {
			s.t.span.AddLink(trace.Link{SpanContext: span.SpanContext()})
		}
		last = s.t
	}
	return &batchTrace{tr: b.d.tracer, ctx: ctx, span: span}
}

// ran records the model's run, from start until now.
func (bt *batchTrace) ran(start time.Time, n int, err error) {
	if bt == nil {
		return
	}
	_, s := bt.tr.Start(bt.ctx, "batch.infer", trace.WithTimestamp(start), trace.WithAttributes(attrItems.Int(n)))
	tracing.Fail(s, err)
	s.End()
}

// end ends the batch's span once its results are delivered.
func (bt *batchTrace) end(err error) {
	if bt == nil {
		return
	}
	tracing.Fail(bt.span, err)
	bt.span.End()
}

// endStore ends a chunk's store span (nil: not traced) with its outcome
// (stored, duplicate, unstored) and size.
func endStore(s trace.Span, outcome string, bytes int, err error) {
	if s == nil {
		return
	}
	s.SetAttributes(attribute.String("batchinfer.outcome", outcome), attribute.Int("batchinfer.result_bytes", bytes))
	endChild(s, err)
}

// publishReply answers a synchronous prediction; a traced one's reply
// carries its chunk span's context.
func (f *finisher) publishReply(t *task, data []byte) error {
	if t.span == nil {
		return f.nc.Publish(t.reply, data)
	}
	m := &nats.Msg{Subject: t.reply, Data: data, Header: nats.Header{}}
	tracing.Inject(trace.ContextWithSpan(context.Background(), t.span), m.Header)
	return f.nc.PublishMsg(m)
}
