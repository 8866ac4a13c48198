package gateway

import (
	"context"
	"net/http"
	"strings"
	"time"

	"batchinfer/api"
	"batchinfer/internal/tracing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// tracingShutdown bounds flushing the last spans at Stop.
const tracingShutdown = 5 * time.Second

// startTracing starts the gateway's TracerProvider when tracing is on;
// Stop flushes it, after everything else.
func (g *Gateway) startTracing() error {
	t, err := tracing.New(g.cfg.Tracing, "batchinfer-gateway", g.cfg.Version, g.id)
	if err != nil || t == nil {
		return err
	}
	g.tracer = t
	g.teardown.Add("tracing", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), tracingShutdown)
		defer cancel()
		return t.Shutdown(ctx)
	})
	return nil
}

// endNothing ends the span of a request that is not traced.
func endNothing(*http.Request, int) {}

// traceRequest starts the server span of an API request, as the child of
// the client's traceparent (or a new trace), and sets traceparent and
// X-Trace-Id on the response; end names the span by its route and ends
// it. Health, readiness and metrics are not traced.
func (g *Gateway) traceRequest(w http.ResponseWriter, r *http.Request) (*http.Request, func(*http.Request, int)) {
	if !g.tracer.On() || !(strings.HasPrefix(r.URL.Path, "/v1/") || strings.HasPrefix(r.URL.Path, "/v2/")) {
		return r, endNothing
	}
	ctx := tracing.ExtractHTTP(r.Context(), r.Header)
	ctx, span := g.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", g.audit.Path(r.URL.Path))))
	tracing.InjectHTTP(ctx, w.Header())
	return r.WithContext(ctx), func(r *http.Request, status int) {
		if r.Pattern != "" {
			span.SetName(r.Pattern)
			span.SetAttributes(attribute.String("http.route", r.Pattern))
		}
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		span.End()
	}
}

// spanError records an API error on the request's span: a server fault
// fails it, a client's mistake is an event (the request was served).
func spanError(r *http.Request, e *api.Error) {
	span := trace.SpanFromContext(r.Context())
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.String("error.type", string(e.Code)))
	if e.Code.HTTPStatus() >= 500 && !e.Code.Capacity() {
		span.SetStatus(codes.Error, e.Message)
		return
	}
	span.AddEvent("refused", trace.WithAttributes(attribute.String("code", string(e.Code)), attribute.String("message", e.Message)))
}
