package system

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"batchinfer/gateway"
	"batchinfer/worker"
)

// gate pauses inference of the real models it wraps: a way to hold a
// worker in the middle of a chunk.
type gate struct {
	mu      sync.Mutex
	ch      chan struct{} // closed while open
	entered chan struct{}
}

func newGate() *gate {
	g := &gate{ch: make(chan struct{}), entered: make(chan struct{}, 1)}
	close(g.ch)
	return g
}

func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.ch:
		g.ch = make(chan struct{})
	default:
	}
}

func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.ch:
	default:
		close(g.ch)
	}
}

func (g *gate) wait() {
	g.mu.Lock()
	ch := g.ch
	g.mu.Unlock()
	select {
	case g.entered <- struct{}{}:
	default:
	}
	<-ch
}

// replaceWorkerInInference waits until the system's first worker, whose
// models g wraps, is held inside inference, kills it, and starts a worker
// with the plain models in its place.
func (s *System) replaceWorkerInInference(t *testing.T, g *gate) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("worker never started inference")
	}
	s.Workers[0].Kill()
	g.open()
	s.opts.Models = nil
	s.AddWorker()
}

// finishedDigitsJob submits a job of n digits items and waits until it has
// finished: a job to subscribe to, again and again.
func (s *System) finishedDigitsJob(t *testing.T, n int) jobStatus {
	t.Helper()
	inputs, _ := DigitInputs(t, n)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	s.waitJob(t, job.ID, 30*time.Second)
	return job
}

func (g *gate) wrap(ps []worker.Predictor) []worker.Predictor {
	out := make([]worker.Predictor, len(ps))
	for i, p := range ps {
		out[i] = gated{p, g}
	}
	return out
}

type gated struct {
	worker.Predictor
	g *gate
}

func (p gated) Predict(in []float32, n int) ([]float32, error) {
	p.g.wait()
	return p.Predictor.Predict(in, n)
}

// failing wraps a model so every batch fails, as a broken runtime would.
type failing struct{ worker.Predictor }

func (failing) Predict([]float32, int) ([]float32, error) {
	return nil, errors.New("injected TensorFlow failure")
}

func ctxStop(t *testing.T, g *gateway.Gateway) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.Stop(ctx); err != nil {
		t.Fatalf("stop gateway: %v", err)
	}
}

func ctxStopWorker(t *testing.T, w *worker.Worker) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Stop(ctx); err != nil {
		t.Fatalf("stop worker: %v", err)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func decodeBody(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode body: %v", err)
	}
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// observed calls f with the size of each batch before the model runs it.
type observed struct {
	worker.Predictor
	f func(n int)
}

func (o observed) Predict(in []float32, n int) ([]float32, error) {
	o.f(n)
	return o.Predictor.Predict(in, n)
}

// observe wraps each model so that f sees each of its batches' sizes.
func observe(ps []worker.Predictor, f func(n int)) []worker.Predictor {
	out := make([]worker.Predictor, len(ps))
	for i, p := range ps {
		out[i] = observed{p, f}
	}
	return out
}
