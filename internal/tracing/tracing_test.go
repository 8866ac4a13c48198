package tracing

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"batchinfer/internal/config"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// The OTEL_* variables configure tracing, which is off without them.
func TestSettingsFromTheEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		on      bool
		invalid bool
	}{
		{name: "off by default", env: nil},
		{name: "none", env: map[string]string{"OTEL_TRACES_EXPORTER": "none"}},
		{name: "otlp", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, on: true},
		{name: "otlp grpc", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, on: true},
		{name: "console at 1 %", env: map[string]string{"OTEL_TRACES_EXPORTER": "console", "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.01"}, on: true},
		{name: "unknown exporter", env: map[string]string{"OTEL_TRACES_EXPORTER": "jaeger"}, invalid: true},
		{name: "unknown protocol", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, invalid: true},
		{name: "unknown sampler", env: map[string]string{"OTEL_TRACES_SAMPLER": "sometimes"}, invalid: true},
		{name: "ratio above 1", env: map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"}, invalid: true},
		{name: "ratio not a number", env: map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1%"}, invalid: true},
		{name: "endpoint without scheme", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, invalid: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_SERVICE_NAME"} {
				t.Setenv(k, tc.env[k])
			}
			var c Config
			s := config.New("test")
			c.Flags(s, "svc")
			if err := s.Parse(nil); err != nil {
				t.Fatal(err)
			}
			err := c.Validate()
			if tc.invalid != (err != nil) {
				t.Fatalf("Validate: %v, want invalid %v", err, tc.invalid)
			}
			if err != nil {
				if !errors.Is(err, config.ErrInvalid) {
					t.Fatalf("%v does not wrap config.ErrInvalid", err)
				}
				return
			}
			if c.Enabled() != tc.on {
				t.Fatalf("Enabled %v, want %v", c.Enabled(), tc.on)
			}
			tr, err := New(c, "svc", "test", "i1")
			if err != nil || (tr != nil) != tc.on {
				t.Fatalf("New: %v, %v; want a tracer %v", tr, err, tc.on)
			}
			if err := tr.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A nil Tracer (tracing off) makes no spans and allocates nothing.
func TestOffCostsNothing(t *testing.T) {
	var tr *Tracer
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		c, span := tr.Start(ctx, "x")
		span.End()
		if c != ctx || span.IsRecording() || tr.On() {
			t.Fatal("a span from a nil tracer")
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per span with tracing off", allocs)
	}
}

// The trace context goes through NATS headers, job records and HTTP
// headers unchanged.
func TestCarriers(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr, err := New(Config{SpanExporter: exp, Sampler: SamplerAlwaysOn}, "svc", "test", "i1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, span := tr.Start(context.Background(), "parent")
	defer span.End()
	want := span.SpanContext()

	h := nats.Header{"Bi-Job": []string{"j1"}}
	Inject(ctx, h)
	if got := FromHeader(h); !same(got, want) || !got.IsRemote() {
		t.Fatalf("through NATS headers: %v, want %v", got, want)
	}
	if got := trace.SpanContextFromContext(Extract(context.Background(), h)); !same(got, want) {
		t.Fatalf("Extract: %v", got)
	}
	if h.Get("Bi-Job") != "j1" {
		t.Fatal("other headers changed")
	}
	rec := Record(ctx)
	if got := FromRecord(rec); !same(got, want) {
		t.Fatalf("through a record: %v", got)
	}
	ticket := nats.Header{}
	CopyRecord(rec, ticket)
	if got := FromHeader(ticket); !same(got, want) {
		t.Fatalf("record to ticket: %v", got)
	}
	hh := http.Header{}
	InjectHTTP(ctx, hh)
	if hh.Get(HdrTraceID) != want.TraceID().String() {
		t.Fatalf("X-Trace-Id %q", hh.Get(HdrTraceID))
	}
	if got := trace.SpanContextFromContext(ExtractHTTP(context.Background(), hh)); !same(got, want) {
		t.Fatalf("through HTTP headers: %v", got)
	}
}

// No context: nothing is written, nothing is read.
func TestCarriersWithoutContext(t *testing.T) {
	h := nats.Header{}
	Inject(context.Background(), h)
	if len(h) != 0 || Record(context.Background()) != nil || FromHeader(h).IsValid() || FromRecord(nil).IsValid() {
		t.Fatal("a trace context from nothing")
	}
	if got := FromHeader(nats.Header{HdrTraceparent: []string{"00-zz-00-01"}}); got.IsValid() {
		t.Fatalf("a malformed traceparent was taken: %v", got)
	}
	log := zerolog.Nop()
	if TraceID(context.Background()) != "" || IDOf(trace.SpanContext{}) != "" {
		t.Fatal("a trace id from nothing")
	}
	_ = LogSC(trace.SpanContext{}, log)
}

func same(a, b trace.SpanContext) bool {
	return a.TraceID() == b.TraceID() && a.SpanID() == b.SpanID() && a.TraceFlags() == b.TraceFlags()
}
