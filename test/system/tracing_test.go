package system

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"batchinfer/gateway"
	"batchinfer/worker"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// A synchronous prediction and a job each make one trace that goes from
// the gateway over NATS to the worker, with the right parents and links;
// a client's traceparent is honoured and the trace id comes back in the
// response headers and in the log lines about the job.
func TestTracingAcrossNATS(t *testing.T) {
	gexp, wexp := tracetest.NewInMemoryExporter(), tracetest.NewInMemoryExporter()
	logs := &syncBuffer{}
	s := Start(t, Options{
		Gateway:    func(c *gateway.Config) { c.Tracing.SpanExporter = gexp },
		Worker:     func(c *worker.Config) { c.Tracing.SpanExporter = wexp },
		GatewayLog: logs,
	})
	t.Run("prediction", func(t *testing.T) { checkPredictionTrace(t, s, gexp, wexp) })
	t.Run("job", func(t *testing.T) { checkJobTrace(t, s, gexp, wexp, logs) })
}

// clientParent is the span of a client that sends its traceparent.
const (
	clientTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientSpan   = "00f067aa0ba902b7"
	clientHeader = "00-" + clientTrace + "-" + clientSpan + "-01"
)

func checkPredictionTrace(t *testing.T, s *System, gexp, wexp *tracetest.InMemoryExporter) {
	inputs, _ := DigitInputs(t, 2)
	b, _ := json.Marshal(map[string]any{"inputs": inputs})
	code, hdr, body := s.Do(http.MethodPost, "/v1/models/digits/predict", "application/json", b, nil, "traceparent", clientHeader)
	if code != http.StatusOK {
		t.Fatalf("predict: %d %s", code, body)
	}
	if got := hdr.Get("X-Trace-Id"); got != clientTrace {
		t.Fatalf("X-Trace-Id %q, want the client's trace %s", got, clientTrace)
	}
	if got := hdr.Get("Traceparent"); !strings.HasPrefix(got, "00-"+clientTrace+"-") || strings.Contains(got, clientSpan) {
		t.Fatalf("traceparent %q: want the client's trace and the gateway's span", got)
	}
	var g, w spanSet
	Eventually(t, 10*time.Second, func() error {
		g, w = spanSet(gexp.GetSpans()).trace(clientTrace), spanSet(wexp.GetSpans()).trace(clientTrace)
		// The send span ends after the calls are answered: wait for it too.
		if err := g.need("predict.send"); err != nil {
			return err
		}
		return w.need("chunk", "batch", "batch.infer", "chunk.queue_wait")
	})
	server := g.one(t, "POST /v1/models/{name}/predict")
	if server.Parent.SpanID().String() != clientSpan || !server.Parent.IsRemote() {
		t.Fatalf("server span's parent %v, want the client's span %s", server.Parent, clientSpan)
	}
	predict := g.one(t, "predict")
	g.childOf(t, predict, server)
	g.childOf(t, g.one(t, "predict.validate"), predict)
	send := g.one(t, "predict.send")
	g.childOf(t, send, predict)
	chunk := w.one(t, "chunk")
	if chunk.Parent.SpanID() != send.SpanContext.SpanID() || !chunk.Parent.IsRemote() {
		t.Fatalf("worker's chunk span's parent %v, want the gateway's send span %v", chunk.Parent.SpanID(), send.SpanContext.SpanID())
	}
	if chunk.SpanKind != trace.SpanKindConsumer || send.SpanKind != trace.SpanKindProducer {
		t.Fatalf("kinds: send %v, chunk %v", send.SpanKind, chunk.SpanKind)
	}
	checkBatch(t, w, chunk)
}

// checkBatch checks that a batch span links to chunk and chunk back to it,
// with the model's run as the batch's child.
func checkBatch(t *testing.T, w spanSet, chunk tracetest.SpanStub) {
	t.Helper()
	for _, b := range w.named("batch") {
		if !linked(b, chunk.SpanContext) {
			continue
		}
		if !linked(chunk, b.SpanContext) {
			t.Fatalf("chunk %v does not link back to its batch %v", chunk.SpanContext.SpanID(), b.SpanContext.SpanID())
		}
		for _, r := range w.named("batch.infer") {
			if r.Parent.SpanID() == b.SpanContext.SpanID() {
				return
			}
		}
		t.Fatalf("batch %v has no batch.infer child", b.SpanContext.SpanID())
	}
	t.Fatalf("no batch span links to chunk %v", chunk.SpanContext.SpanID())
}

func checkJobTrace(t *testing.T, s *System, gexp, wexp *tracetest.InMemoryExporter, logs *syncBuffer) {
	inputs, _ := DigitInputs(t, 2100) // three chunks of the model's 1024
	b, _ := json.Marshal(map[string]any{"model": "digits", "inputs": inputs})
	code, hdr, body := s.Do(http.MethodPost, "/v1/jobs", "application/json", b, nil)
	if code != http.StatusAccepted {
		t.Fatalf("submit: %d %s", code, body)
	}
	var r submitResp
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	traceID := hdr.Get("X-Trace-Id")
	if len(traceID) != 32 || traceID == clientTrace {
		t.Fatalf("X-Trace-Id %q: want a new trace", traceID)
	}
	st := s.waitJob(t, r.Job.ID, 30*time.Second)
	if st.Chunks < 2 {
		t.Fatalf("job of %d chunks: want several", st.Chunks)
	}
	var g, w spanSet
	Eventually(t, 10*time.Second, func() error {
		g, w = spanSet(gexp.GetSpans()).trace(traceID), spanSet(wexp.GetSpans()).trace(traceID)
		if n := len(w.named("chunk")); n < st.Chunks {
			return fmt.Errorf("%d chunk spans of %d", n, st.Chunks)
		}
		if err := g.need("job.submit", "job.ingest", "job.publish", "job.queue"); err != nil {
			return err
		}
		return w.need("chunk.store", "chunk.read_input")
	})
	submit := g.one(t, "job.submit")
	g.childOf(t, submit, g.one(t, "POST /v1/jobs"))
	ingest := g.one(t, "job.ingest")
	g.childOf(t, ingest, submit)
	g.childOf(t, g.one(t, "job.publish"), ingest)
	g.childOf(t, g.one(t, "job.queue"), submit)
	checkJobChunks(t, g, w, submit, st.Chunks)
	checkLogged(t, logs, r.Job.ID, traceID)
	if path := os.Getenv("SYSTEMTEST_TRACE_DUMP"); path != "" { // the walk-through of docs/operations.md
		dumpTrace(t, path, g, w)
	}
}

// dumpTrace writes a trace as a tree, one span a line: its start from the
// trace's, its duration, its service, name and attributes.
func dumpTrace(t *testing.T, path string, g, w spanSet) {
	all := append(append(spanSet{}, g...), w...)
	sort.Slice(all, func(i, j int) bool { return all[i].StartTime.Before(all[j].StartTime) })
	children := map[trace.SpanID]spanSet{}
	ids := map[trace.SpanID]bool{}
	for _, s := range all {
		ids[s.SpanContext.SpanID()] = true
	}
	var roots spanSet
	for _, s := range all {
		if ids[s.Parent.SpanID()] {
			children[s.Parent.SpanID()] = append(children[s.Parent.SpanID()], s)
		} else {
			roots = append(roots, s)
		}
	}
	var b strings.Builder
	var walk func(s tracetest.SpanStub, depth int)
	walk = func(s tracetest.SpanStub, depth int) {
		svc := "worker "
		if slices.ContainsFunc(g, func(x tracetest.SpanStub) bool { return x.SpanContext.SpanID() == s.SpanContext.SpanID() }) {
			svc = "gateway"
		}
		var attrs []string
		for _, a := range s.Attributes {
			attrs = append(attrs, string(a.Key)+"="+a.Value.Emit())
		}
		fmt.Fprintf(&b, "%9.1fms %9.1fms %s %s%s  %s links=%d\n", float64(s.StartTime.Sub(all[0].StartTime).Microseconds())/1000,
			float64(s.EndTime.Sub(s.StartTime).Microseconds())/1000, svc, strings.Repeat("  ", depth), s.Name, strings.Join(attrs, " "), len(s.Links))
		for _, c := range children[s.SpanContext.SpanID()] {
			walk(c, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkJobChunks checks each chunk's spans: the scheduler's ticket under
// the submission, the worker's chunk under its ticket, its reading and
// storing under it, and a batch linked to it.
func checkJobChunks(t *testing.T, g, w spanSet, submit tracetest.SpanStub, chunks int) {
	t.Helper()
	tickets := map[trace.SpanID]bool{}
	for _, sp := range g.named("chunk.schedule") {
		g.childOf(t, sp, submit)
		tickets[sp.SpanContext.SpanID()] = true
	}
	if len(tickets) < chunks {
		t.Fatalf("%d ticket spans for %d chunks", len(tickets), chunks)
	}
	for _, c := range w.named("chunk") {
		if !tickets[c.Parent.SpanID()] || !c.Parent.IsRemote() {
			t.Fatalf("chunk span %v: parent %v is no ticket of the job", c.SpanContext.SpanID(), c.Parent.SpanID())
		}
		for _, name := range []string{"chunk.read_input", "chunk.store"} {
			if !w.hasChild(name, c) {
				t.Fatalf("chunk span %v has no %s child", c.SpanContext.SpanID(), name)
			}
		}
		checkBatch(t, w, c)
	}
}

// checkLogged checks the gateway's log lines about the job name its trace.
func checkLogged(t *testing.T, logs *syncBuffer, job, traceID string) {
	t.Helper()
	n := 0
	for _, line := range strings.Split(logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil || m["job"] != job {
			continue
		}
		n++
		if m["trace_id"] != traceID {
			t.Fatalf("log line about job %s without its trace id %s: %s", job, traceID, line)
		}
	}
	if n == 0 {
		t.Fatalf("no log line about job %s", job)
	}
}

// spanSet is the spans an exporter holds.
type spanSet []tracetest.SpanStub

func (ss spanSet) trace(id string) spanSet {
	var out spanSet
	for _, s := range ss {
		if s.SpanContext.TraceID().String() == id {
			out = append(out, s)
		}
	}
	return out
}

func (ss spanSet) named(name string) spanSet {
	var out spanSet
	for _, s := range ss {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func (ss spanSet) need(names ...string) error {
	for _, n := range names {
		if len(ss.named(n)) == 0 {
			return fmt.Errorf("no %s span yet", n)
		}
	}
	return nil
}

func (ss spanSet) one(t *testing.T, name string) tracetest.SpanStub {
	t.Helper()
	got := ss.named(name)
	if len(got) != 1 {
		t.Fatalf("%d spans named %q, want 1 (spans: %v)", len(got), name, ss.names())
	}
	return got[0]
}

func (ss spanSet) names() []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

func (ss spanSet) childOf(t *testing.T, child, parent tracetest.SpanStub) {
	t.Helper()
	if child.Parent.SpanID() != parent.SpanContext.SpanID() || child.SpanContext.TraceID() != parent.SpanContext.TraceID() {
		t.Fatalf("span %q's parent is %v, want %q (%v)", child.Name, child.Parent.SpanID(), parent.Name, parent.SpanContext.SpanID())
	}
}

func (ss spanSet) hasChild(name string, parent tracetest.SpanStub) bool {
	for _, s := range ss.named(name) {
		if s.Parent.SpanID() == parent.SpanContext.SpanID() {
			return true
		}
	}
	return false
}

func linked(s tracetest.SpanStub, sc trace.SpanContext) bool {
	for _, l := range s.Links {
		if l.SpanContext.SpanID() == sc.SpanID() && l.SpanContext.TraceID() == sc.TraceID() {
			return true
		}
	}
	return false
}

// syncBuffer collects log lines written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
