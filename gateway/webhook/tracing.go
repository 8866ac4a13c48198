package webhook

import (
	"context"
	"net/http"

	"batchinfer/internal/tracing"
	"batchinfer/internal/wire"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// startAttempt starts the span of one delivery attempt, in its job's
// trace (a no-op span when tracing is off).
func (d *Dispatcher) startAttempt(ev *wire.WebhookEvent) (context.Context, trace.Span) {
	if !d.Tracer.On() {
		return context.Background(), trace.SpanFromContext(context.Background())
	}
	return d.Tracer.Start(tracing.ContextOf(context.Background(), ev.Trace), "webhook.deliver",
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
			attribute.String("batchinfer.job", ev.Job.ID), attribute.String("batchinfer.tenant", ev.Tenant),
			attribute.String("batchinfer.webhook_event", ev.Type), attribute.String("http.request.method", http.MethodPost)))
}

// endAttempt ends an attempt's span with its outcome.
func endAttempt(span trace.Span, res result) {
	if !span.IsRecording() {
		span.End()
		return
	}
	if res.status != 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", res.status))
	}
	if !res.ok() {
		span.SetStatus(codes.Error, res.errorText())
	}
	span.End()
}
