package service

import (
	"context"

	"batchinfer/internal/tracing"
	"batchinfer/internal/wire"
	"batchinfer/model"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Span attributes of jobs and predictions.
const (
	attrModel   = attribute.Key("batchinfer.model")
	attrVersion = attribute.Key("batchinfer.version")
	attrTenant  = attribute.Key("batchinfer.tenant")
	attrJob     = attribute.Key("batchinfer.job")
	attrItems   = attribute.Key("batchinfer.items")
	attrChunks  = attribute.Key("batchinfer.chunks")
)

// startSubmit starts a submission's span (its job's trace: the record
// keeps its context).
func (s *Service) startSubmit(ctx context.Context, sub Submission) (context.Context, trace.Span) {
	if !s.Tracer.On() {
		return ctx, trace.SpanFromContext(context.Background())
	}
	return s.Tracer.Start(ctx, "job.submit", trace.WithAttributes(attrModel.String(sub.Model), attrTenant.String(caller(ctx).Tenant)))
}

// endSubmit ends a submission's span with what became of it.
func endSubmit(span trace.Span, st wire.JobStatus, replayed bool, err error) {
	if span.IsRecording() {
		span.SetAttributes(attrJob.String(st.ID), attrVersion.String(st.Version), attrItems.Int(st.Total),
			attrChunks.Int(st.Chunks), attribute.Bool("batchinfer.replayed", replayed))
		tracing.Fail(span, err)
	}
	span.End()
}

// startIngest starts the span of reading a job's items into its chunks
// (validation and publishing; per job, never per item).
func (s *Service) startIngest(ctx context.Context, rec *wire.JobRecord) (context.Context, trace.Span) {
	if !s.Tracer.On() {
		return ctx, trace.SpanFromContext(context.Background())
	}
	return s.Tracer.Start(ctx, "job.ingest", trace.WithAttributes(attrJob.String(rec.ID), attrModel.String(rec.Model),
		attrVersion.String(rec.Version), attrTenant.String(rec.Tenant)))
}

// endIngest ends an ingestion's span with its counts.
func endIngest(span trace.Span, r reading, written int, err error) {
	if span.IsRecording() {
		span.SetAttributes(attrItems.Int(r.items), attrChunks.Int(written), attribute.Bool("batchinfer.invalid_stop", r.stopped))
		if r.dec != nil {
			span.SetAttributes(attribute.Int("batchinfer.items_read", r.dec.Count()))
		}
		tracing.Fail(span, err)
	}
	span.End()
}

// startSpan starts a plain child span (a no-op when tracing is off).
func (s *Service) startSpan(ctx context.Context, name string) (context.Context, trace.Span) {
	return s.Tracer.Start(ctx, name)
}

// startPredict starts a synchronous prediction's span.
func (s *Service) startPredict(ctx context.Context, req PredictRequest) (context.Context, trace.Span) {
	if !s.Tracer.On() {
		return ctx, trace.SpanFromContext(context.Background())
	}
	return s.Tracer.Start(ctx, "predict", trace.WithAttributes(attrModel.String(req.Model), attrTenant.String(caller(ctx).Tenant)))
}

// endPredict ends a prediction's span.
func endPredict(span trace.Span, meta *model.Metadata, items int, err error) {
	if span.IsRecording() {
		if meta != nil {
			span.SetAttributes(attrVersion.String(meta.Version))
		}
		span.SetAttributes(attrItems.Int(items))
		tracing.Fail(span, err)
	}
	span.End()
}

// traceSend starts the span of one coalesced message of predictions (the
// NATS hop to a worker): the child of a sampled call's span (the first
// one's when none is), linked to every call's, its context carried in h.
// It is nil when tracing is off.
func (c *coalescer) traceSend(calls []*predictCall, items int, h map[string][]string) trace.Span {
	if !c.s.Tracer.On() {
		return nil
	}
	parent := calls[0].sc
	links := make([]trace.Link, 0, len(calls))
	for _, p := range calls {
		if p.sc.IsSampled() && !parent.IsSampled() {
			parent = p.sc
		}
		links = append(links, trace.Link{SpanContext: p.sc})
	}
	ctx, span := c.s.Tracer.Start(tracing.Remote(parent), "predict.send", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithLinks(links...), trace.WithAttributes(attrModel.String(c.meta.Name), attrVersion.String(c.meta.Version),
			attrItems.Int(items), attribute.Int("batchinfer.calls", len(calls))))
	tracing.Inject(ctx, h)
	return span
}

// traceFollow starts a follower's span: in its job's trace (the record's
// context), linked to the request that follows (an NDJSON stream, a
// WebSocket).
func (s *Service) traceFollow(ctx context.Context, rec *wire.JobRecord) trace.Span {
	if !s.Tracer.On() {
		return nil
	}
	var opts []trace.SpanStartOption
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
	}
	parent := context.Background()
	if sc := tracing.FromRecord(rec.Trace); sc.IsValid() {
		parent = tracing.Remote(sc)
	}
	opts = append(opts, trace.WithAttributes(attrJob.String(rec.ID), attrModel.String(rec.Model), attrVersion.String(rec.Version),
		attrTenant.String(rec.Tenant)))
	_, span := s.Tracer.Start(parent, "job.follow", opts...)
	return span
}

// endSend ends a coalesced message's span (nil when tracing is off).
func endSend(span trace.Span, err error) {
	if span != nil {
		tracing.Fail(span, err)
		span.End()
	}
}

// endFollow ends a follower's span; finished: it sent the job's end.
func endFollow(span trace.Span, finished bool) {
	if span != nil {
		span.SetAttributes(attribute.Bool("batchinfer.finished", finished))
		span.End()
	}
}
