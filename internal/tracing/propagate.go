package tracing

import (
	"context"
	"net/http"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// propagator is the W3C trace context (traceparent, tracestate): the one
// format clients, NATS headers and job records carry.
var propagator = propagation.TraceContext{}

// Header names of the trace context, and the response header that gives
// a client its trace id alone.
const (
	HdrTraceparent = "traceparent"
	HdrTracestate  = "tracestate"
	HdrTraceID     = "X-Trace-Id"
)

// HeaderCarrier carries a trace context in NATS message headers (whose
// keys, unlike HTTP's, are not canonicalised: the lower-case W3C names are
// used as they are).
type HeaderCarrier nats.Header

// Get returns the first value of key.
func (c HeaderCarrier) Get(key string) string {
	if v := c[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set replaces key's values with value.
func (c HeaderCarrier) Set(key, value string) { c[key] = []string{value} }

// Keys lists the header names.
func (c HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

var _ propagation.TextMapCarrier = HeaderCarrier(nil)

// Inject writes ctx's span context into h (nothing when ctx has none).
func Inject(ctx context.Context, h nats.Header) {
	if h == nil || !trace.SpanContextFromContext(ctx).IsValid() {
		return
	}
	propagator.Inject(ctx, HeaderCarrier(h))
}

// Extract returns ctx with the remote span context h carries, if any.
func Extract(ctx context.Context, h nats.Header) context.Context {
	if h == nil {
		return ctx
	}
	return propagator.Extract(ctx, HeaderCarrier(h))
}

// ExtractHTTP returns ctx with the span context of a client's traceparent
// (an invalid one is ignored: a new trace starts).
func ExtractHTTP(ctx context.Context, h http.Header) context.Context {
	return propagator.Extract(ctx, propagation.HeaderCarrier(h))
}

// InjectHTTP writes ctx's span context into h: traceparent (tracestate)
// and X-Trace-Id.
func InjectHTTP(ctx context.Context, h http.Header) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return
	}
	propagator.Inject(ctx, propagation.HeaderCarrier(h))
	h.Set(HdrTraceID, sc.TraceID().String())
}

// InjectRequest writes ctx's span context into an outgoing request's
// headers (traceparent, tracestate).
func InjectRequest(ctx context.Context, h http.Header) {
	if trace.SpanContextFromContext(ctx).IsValid() {
		propagator.Inject(ctx, propagation.HeaderCarrier(h))
	}
}

// Record is ctx's span context as a job record keeps it (nil when none).
func Record(ctx context.Context) map[string]string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return nil
	}
	m := propagation.MapCarrier{}
	propagator.Inject(ctx, m)
	return m
}

// FromRecord is the span context a job record keeps (invalid when none).
func FromRecord(m map[string]string) trace.SpanContext {
	if len(m) == 0 {
		return trace.SpanContext{}
	}
	return trace.SpanContextFromContext(propagator.Extract(context.Background(), propagation.MapCarrier(m)))
}

// FromHeader is the span context h carries (invalid when none).
func FromHeader(h nats.Header) trace.SpanContext {
	if h == nil || h.Get(HdrTraceparent) == "" {
		return trace.SpanContext{}
	}
	return trace.SpanContextFromContext(propagator.Extract(context.Background(), HeaderCarrier(h)))
}

// CopyRecord writes a kept span context into h (a scheduler's ticket).
func CopyRecord(m map[string]string, h nats.Header) {
	for k, v := range m {
		if k == HdrTraceparent || k == HdrTracestate {
			h[k] = []string{v}
		}
	}
}

// ContextOf is ctx with the remote span context a job record keeps as
// its parent span (ctx itself when none).
func ContextOf(ctx context.Context, m map[string]string) context.Context {
	if len(m) == 0 {
		return ctx
	}
	return propagator.Extract(ctx, propagation.MapCarrier(m))
}

// Remote is a context whose parent span is the remote sc.
func Remote(sc trace.SpanContext) context.Context {
	return trace.ContextWithRemoteSpanContext(context.Background(), sc)
}

// TraceID is ctx's trace id ("" when none).
func TraceID(ctx context.Context) string {
	return IDOf(trace.SpanContextFromContext(ctx))
}

// IDOf is sc's trace id ("" when sc is invalid).
func IDOf(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	return sc.TraceID().String()
}

// Log is log with the trace_id of ctx (log itself when none), the child
// logger of a request or job.
func Log(ctx context.Context, log zerolog.Logger) zerolog.Logger {
	return LogSC(trace.SpanContextFromContext(ctx), log)
}

// LogSC is log with sc's trace_id (log itself when sc is invalid).
func LogSC(sc trace.SpanContext, log zerolog.Logger) zerolog.Logger {
	if !sc.IsValid() {
		return log
	}
	return log.With().Str("trace_id", sc.TraceID().String()).Logger()
}

// Event adds sc's trace_id to a log event (nothing when sc is invalid).
func Event(e *zerolog.Event, sc trace.SpanContext) *zerolog.Event {
	if sc.IsValid() {
		e = e.Str("trace_id", sc.TraceID().String())
	}
	return e
}
