package system

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"batchinfer/model"
	"batchinfer/model/litert"
	"batchinfer/model/loader"
	"batchinfer/worker"
)

// itemCounter counts the items a worker's model runs.
type itemCounter struct {
	worker.Predictor
	items *atomic.Int64
}

func (c itemCounter) Predict(in []float32, n int) ([]float32, error) {
	c.items.Add(int64(n))
	return c.Predictor.Predict(in, n)
}

// TestTFAndLiteWorkersShareQueue runs a TensorFlow worker (the SavedModels)
// and a LiteRT worker (the same versions' model.tflite) side by side on one
// queue: a job's chunks go to both, every item finishes, and the results
// are the model's classes.
func TestTFAndLiteWorkersShareQueue(t *testing.T) {
	var tfItems, liteItems atomic.Int64
	s := Start(t, Options{
		Worker: func(c *worker.Config) { c.Prefetch, c.PrefetchMax = 1, 1 },
		Models: func(ps []worker.Predictor) []worker.Predictor {
			out := make([]worker.Predictor, len(ps))
			for i, p := range ps {
				out[i] = itemCounter{p, &tfItems}
			}
			return out
		},
	})
	reg, err := loader.LoadDir(filepath.Join(RepoRoot(), "model", "models"), []loader.Runtime{{
		Name: "litert", File: model.TFLiteFile,
		Load: func(dir string) (loader.Model, error) { return litert.Load(dir, litert.Options{Threads: 1}) },
	}}, loader.Options{Only: []string{"digits", "breast_cancer"}, Warmup: model.Warmup{Rounds: 1, Batches: []int{1, 256}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	var lite []worker.Predictor
	for _, m := range reg.Models() {
		lite = append(lite, itemCounter{m.Model, &liteItems})
	}
	w, err := worker.New(worker.Config{NATS: s.conn(), ID: "lite", Prefetch: 1, PrefetchMax: 1, HeartbeatInterval: 500 * time.Millisecond}, lite, Logger())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctxStopWorker(t, w) })

	inputs, labels := DigitInputs(t, 4096)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	st := s.waitJob(t, job.ID, 60*time.Second)
	if st.Done != len(inputs) || st.Failed != 0 {
		t.Fatalf("job %+v, want %d done", st, len(inputs))
	}
	if tfItems.Load() == 0 || liteItems.Load() == 0 {
		t.Fatalf("items run: %d by TensorFlow, %d by LiteRT; want both", tfItems.Load(), liteItems.Load())
	}
	wrong := 0
	for _, r := range s.allResults(t, job.ID, len(inputs)) {
		if r.Class == nil || *r.Class != labels[r.Index] {
			wrong++
		}
	}
	if acc := 1 - float64(wrong)/float64(len(inputs)); acc < 0.98 {
		t.Fatalf("accuracy %.4f over both runtimes", acc)
	}
	t.Logf("%d items: %d by TensorFlow, %d by LiteRT, %d misclassified", len(inputs), tfItems.Load(), liteItems.Load(), wrong)
}
