package benchload

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"batchinfer/internal/tracing"
)

// The sink counts the spans a service's OTLP/HTTP exporter sends it.
func TestSpanSinkCountsExportedSpans(t *testing.T) {
	sink, err := StartSpanSink("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	tr, err := tracing.New(tracing.Config{Exporter: tracing.ExporterOTLP, Endpoint: "http://" + sink.Addr(), Sampler: tracing.SamplerAlwaysOn}, "bench", "test", "i1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, parent := tr.Start(context.Background(), "parent")
	for range 9 {
		_, s := tr.Start(ctx, "child")
		s.End()
	}
	parent.End()
	if err := tr.Shutdown(context.Background()); err != nil { // flushes
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + sink.Addr() + "/count")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c SinkCounts
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	if c.Spans != 10 || c.Requests < 1 || c.Rejected != 0 {
		t.Fatalf("counts %+v, want 10 spans", c)
	}
}
