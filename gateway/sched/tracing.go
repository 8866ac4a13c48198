package sched

import (
	"time"

	"batchinfer/internal/tracing"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// traceTicket carries j's trace into the ticket m of its chunk c. With
// tracing on, the ticket carries a span of its own, the chunk's wait for
// the scheduler (from the job's creation until now), the parent of the
// worker's spans of the chunk; off, the job's context as it is.
func (s *Scheduler) traceTicket(j *job, c int, m *nats.Msg, now time.Time) {
	switch {
	case !j.sc.IsValid():
		return
	case !s.Tracer.On():
		tracing.CopyRecord(j.trace, m.Header)
		return
	}
	ctx, span := s.Tracer.Start(tracing.Remote(j.sc), "chunk.schedule", trace.WithTimestamp(j.created),
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(
			attribute.String("batchinfer.job", j.id), attribute.Int("batchinfer.chunk", c),
			attribute.String("batchinfer.tenant", j.tenant), attribute.String("batchinfer.model", j.name),
			attribute.String("batchinfer.version", j.version), attribute.Int("batchinfer.items", j.chunkItems(c))))
	tracing.Inject(ctx, m.Header)
	span.End(trace.WithTimestamp(now))
}
