package tracing

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// scope is the instrumentation scope of every span.
const scope = "batchinfer"

// Tracer makes one service's spans. A nil *Tracer is tracing off: Start
// returns a no-op span and On is false, so a hot path pays a branch (build
// attributes only under On).
type Tracer struct {
	tp *sdktrace.TracerProvider
	tr trace.Tracer
}

// New starts the TracerProvider c asks for, naming the service (unless c
// does) and its instance; it returns nil when tracing is off. Shut it down
// with Shutdown, which flushes the spans not sent yet.
func New(c Config, service, version, instance string) (*Tracer, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if !c.Enabled() {
		return nil, nil
	}
	sampler, _ := c.sampler()
	exp, batch, err := c.exporter()
	if err != nil {
		return nil, err
	}
	name := c.ServiceName
	if name == "" {
		name = service
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", name), attribute.String("service.version", version),
		attribute.String("service.instance.id", instance)))
	if err != nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(sampler), sdktrace.WithResource(res)}
	if batch {
		opts = append(opts, sdktrace.WithBatcher(exp))
	} else {
		opts = append(opts, sdktrace.WithSyncer(exp))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	return &Tracer{tp: tp, tr: tp.Tracer(scope)}, nil
}

// exporter is where the spans go; batch says whether they are sent in
// batches (not a test's exporter, which sees each span as it ends).
func (c Config) exporter() (sdktrace.SpanExporter, bool, error) {
	if c.SpanExporter != nil {
		return c.SpanExporter, false, nil
	}
	if c.Exporter == ExporterConsole {
		exp, err := stdouttrace.New(stdouttrace.WithWriter(os.Stdout))
		if err != nil {
			return nil, false, fmt.Errorf("console trace exporter: %w", err)
		}
		return exp, true, nil
	}
	// Creating it connects nothing: a collector that is away loses spans,
	// never stops the service.
	exp, err := c.otlp()
	if err != nil {
		return nil, false, fmt.Errorf("otlp trace exporter: %w", err)
	}
	return exp, true, nil
}

// otlp is the OTLP exporter of c's protocol; the exporter reads the other
// OTEL_EXPORTER_OTLP_* variables (headers, timeout, certificates) itself.
func (c Config) otlp() (sdktrace.SpanExporter, error) {
	if c.Protocol == ProtocolGRPC {
		var opts []otlptracegrpc.Option
		if c.Endpoint != "" {
			opts = append(opts, otlptracegrpc.WithEndpointURL(c.Endpoint))
		}
		return otlptracegrpc.New(context.Background(), opts...)
	}
	var opts []otlptracehttp.Option
	if c.Endpoint != "" {
		opts = append(opts, otlptracehttp.WithEndpointURL(strings.TrimRight(c.Endpoint, "/")+"/v1/traces"))
	}
	return otlptracehttp.New(context.Background(), opts...)
}

// On says whether tracing is on.
func (t *Tracer) On() bool { return t != nil }

// Start starts a span as the child of ctx's span (a new trace when none).
func (t *Tracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if t == nil {
		return ctx, noopSpan
	}
	return t.tr.Start(ctx, name, opts...)
}

// Shutdown sends the spans not sent yet and stops the provider.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	if err := t.tp.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing shutdown: %w", err)
	}
	return nil
}

// noopSpan is the span of a nil Tracer.
var noopSpan = trace.SpanFromContext(context.Background())

// Fail records err on span and marks it failed (nothing when err is nil).
func Fail(span trace.Span, err error) {
	if err == nil || !span.IsRecording() {
		return
	}
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
}

// FailMsg marks span failed with a reason (no error value at hand).
func FailMsg(span trace.Span, reason string) {
	if span.IsRecording() {
		span.SetStatus(codes.Error, reason)
	}
}
