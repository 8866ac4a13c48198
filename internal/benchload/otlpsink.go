package benchload

import (
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// maxExportBytes bounds one OTLP export request the sink reads.
const maxExportBytes = 64 << 20

// SpanSink is a minimal OTLP/HTTP trace receiver for the bench: it takes
// POST /v1/traces (protobuf, gzip or not), counts the spans and answers
// as a collector would, so that the services export over the network as
// they would to a real collector; GET /count reports the counts. It keeps
// nothing else.
type SpanSink struct {
	spans, requests, rejected atomic.Int64
	srv                       *http.Server
	ln                        net.Listener
}

// SinkCounts are what the sink received.
type SinkCounts struct {
	Spans    int64 `json:"spans"`
	Requests int64 `json:"requests"`
	Rejected int64 `json:"rejected"`
}

// StartSpanSink listens on addr (e.g. 127.0.0.1:0).
func StartSpanSink(addr string) (*SpanSink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("span sink: %w", err)
	}
	s := &SpanSink{ln: ln}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", s.export)
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"spans":%d,"requests":%d,"rejected":%d}`+"\n", s.spans.Load(), s.requests.Load(), s.rejected.Load())
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the sink's address.
func (s *SpanSink) Addr() string { return s.ln.Addr().String() }

// Counts returns what was received so far.
func (s *SpanSink) Counts() SinkCounts {
	return SinkCounts{Spans: s.spans.Load(), Requests: s.requests.Load(), Rejected: s.rejected.Load()}
}

// Close stops the sink.
func (s *SpanSink) Close() error { return s.srv.Close() }

func (s *SpanSink) export(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = http.MaxBytesReader(w, r.Body, maxExportBytes)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			s.reject(w, err)
			return
		}
		defer zr.Close()
		body = io.LimitReader(zr, maxExportBytes)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		s.reject(w, err)
		return
	}
	var req coltrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		s.reject(w, err)
		return
	}
	n := 0
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			n += len(ss.GetSpans())
		}
	}
	s.spans.Add(int64(n))
	s.requests.Add(1)
	out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (s *SpanSink) reject(w http.ResponseWriter, err error) {
	s.rejected.Add(1)
	http.Error(w, err.Error(), http.StatusBadRequest)
}
