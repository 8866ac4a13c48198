// Package tracing owns the services' OpenTelemetry tracing: its settings
// (the standard OTEL_* variables), a TracerProvider per service, and the
// W3C trace context carried in NATS message headers, job records and HTTP
// headers. Tracing is off by default; a nil *Tracer is the tracer of a
// service with tracing off, and every method of it costs a branch.
package tracing

import (
	"fmt"
	"strconv"
	"strings"

	"batchinfer/internal/config"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Exporters (OTEL_TRACES_EXPORTER).
const (
	ExporterNone    = "none"    // tracing off (the default)
	ExporterOTLP    = "otlp"    // OTLP over HTTP (protobuf) to Endpoint
	ExporterConsole = "console" // JSON spans on standard output
)

// OTLP protocols (OTEL_EXPORTER_OTLP_PROTOCOL).
const (
	ProtocolHTTP = "http/protobuf"
	ProtocolGRPC = "grpc"
)

// Samplers (OTEL_TRACES_SAMPLER), as the OpenTelemetry specification
// names them.
const (
	SamplerAlwaysOn        = "always_on"
	SamplerAlwaysOff       = "always_off"
	SamplerRatio           = "traceidratio"
	SamplerParentAlwaysOn  = "parentbased_always_on"
	SamplerParentAlwaysOff = "parentbased_always_off"
	SamplerParentRatio     = "parentbased_traceidratio"
)

// Bounds of the settings.
const (
	maxServiceNameBytes = 256
	maxEndpointBytes    = 2048
)

// Config says whether and where a service sends its spans. Zero fields
// take Defaults (ServiceName the service's own name).
type Config struct {
	// Exporter is none (off), otlp or console.
	Exporter string
	// Endpoint is the collector's OTLP base URL (e.g.
	// http://collector:4318 over HTTP, whose /v1/traces the spans go to;
	// http://collector:4317 over gRPC). Empty: the exporter's own default
	// (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else localhost:4318 or 4317).
	Endpoint string
	// Protocol is http/protobuf or grpc.
	Protocol string
	// Sampler and SamplerArg choose which traces are recorded.
	Sampler    string
	SamplerArg string
	// ServiceName is the service.name of the spans.
	ServiceName string
	// SpanExporter, when set (tests), receives every span as it ends,
	// whatever Exporter says: tracing is on.
	SpanExporter sdktrace.SpanExporter
}

// Defaults are the settings' defaults: tracing off.
func Defaults() Config {
	return Config{Exporter: ExporterNone, Protocol: ProtocolHTTP, Sampler: SamplerParentAlwaysOn}
}

// Flags registers the OTEL_* settings on s; service is the default
// service.name.
func (c *Config) Flags(s *config.Set, service string) {
	d := Defaults()
	s.String(&c.Exporter, "otel-traces-exporter", "OTEL_TRACES_EXPORTER", d.Exporter, "where spans go: none (tracing off), otlp (OTLP/HTTP to the endpoint) or console (standard output)")
	s.String(&c.Endpoint, "otel-exporter-otlp-endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP base URL of the trace collector, e.g. http://otel-collector:4318 (http/protobuf: spans go to its /v1/traces) or http://otel-collector:4317 (grpc); empty: localhost on the protocol's port")
	s.String(&c.Protocol, "otel-exporter-otlp-protocol", "OTEL_EXPORTER_OTLP_PROTOCOL", d.Protocol, "OTLP protocol: http/protobuf or grpc")
	s.String(&c.Sampler, "otel-traces-sampler", "OTEL_TRACES_SAMPLER", d.Sampler, "which traces are recorded: always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio (parentbased: a client's sampled traceparent is followed)")
	s.String(&c.SamplerArg, "otel-traces-sampler-arg", "OTEL_TRACES_SAMPLER_ARG", "", "the ratio of the traceidratio samplers, in [0, 1] (0.01: 1 % of traces); empty: 1")
	s.String(&c.ServiceName, "otel-service-name", "OTEL_SERVICE_NAME", service, "service.name of the spans")
}

// Enabled says whether spans are made at all.
func (c Config) Enabled() bool {
	return c.SpanExporter != nil || (c.Exporter != "" && c.Exporter != ExporterNone)
}

// Validate reports the first setting out of range; every error wraps
// config.ErrInvalid.
func (c Config) Validate() error {
	switch c.Exporter {
	case "", ExporterNone, ExporterOTLP, ExporterConsole:
	default:
		return invalid("OTEL_TRACES_EXPORTER %q: want none, otlp or console", c.Exporter)
	}
	if c.Protocol != "" && c.Protocol != ProtocolHTTP && c.Protocol != ProtocolGRPC {
		return invalid("OTEL_EXPORTER_OTLP_PROTOCOL %q: want http/protobuf or grpc", c.Protocol)
	}
	if len(c.Endpoint) > maxEndpointBytes {
		return invalid("OTEL_EXPORTER_OTLP_ENDPOINT longer than %d bytes", maxEndpointBytes)
	}
	if c.Endpoint != "" && !strings.HasPrefix(c.Endpoint, "http://") && !strings.HasPrefix(c.Endpoint, "https://") {
		return invalid("OTEL_EXPORTER_OTLP_ENDPOINT %q: want an http:// or https:// URL", c.Endpoint)
	}
	if len(c.ServiceName) > maxServiceNameBytes {
		return invalid("OTEL_SERVICE_NAME longer than %d bytes", maxServiceNameBytes)
	}
	_, err := c.sampler()
	return err
}

// sampler is the configured sampler.
func (c Config) sampler() (sdktrace.Sampler, error) {
	ratio := 1.0
	if c.SamplerArg != "" {
		r, err := strconv.ParseFloat(c.SamplerArg, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, invalid("OTEL_TRACES_SAMPLER_ARG %q: want a number in [0, 1]", c.SamplerArg)
		}
		ratio = r
	}
	switch c.Sampler {
	case SamplerAlwaysOn:
		return sdktrace.AlwaysSample(), nil
	case SamplerAlwaysOff:
		return sdktrace.NeverSample(), nil
	case SamplerRatio:
		return sdktrace.TraceIDRatioBased(ratio), nil
	case "", SamplerParentAlwaysOn:
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case SamplerParentAlwaysOff:
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case SamplerParentRatio:
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	}
	return nil, invalid("OTEL_TRACES_SAMPLER %q: want always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio", c.Sampler)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: tracing: %s", config.ErrInvalid, fmt.Sprintf(format, args...))
}
