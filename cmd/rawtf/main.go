// Command rawtf measures a raw in-process runtime: one model's Predict at
// one batch size, back to back, with nothing else in the process, on
// TensorFlow (the SavedModel) or LiteRT (model.tflite). It is the reference
// the end-to-end benchmarks (scripts/bench.sh) compare with, run as its own
// process on the same machine in the same run. It prints one JSON line:
// items/s and the process's CPU per item.
//
//	rawtf -model digits -batch 256 -duration 5s [-runtime litert]
package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"batchinfer/cmd/internal/modelflags"
	"batchinfer/cmd/internal/tfflags"
	"batchinfer/internal/config"
	"batchinfer/model"
	"batchinfer/model/loader"
)

// Result is what rawtf prints.
type Result struct {
	Model        string  `json:"model"`
	Batch        int     `json:"batch"`
	Items        int     `json:"items"`
	Seconds      float64 `json:"seconds"`
	ItemsPerSec  float64 `json:"items_per_s"`
	CPUMicrosPer float64 `json:"cpu_us_per_item"`
	Threads      int     `json:"intra_op_threads"`
	Runtime      string  `json:"runtime"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "rawtf:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	var (
		mf       modelflags.Flags
		tf       tfflags.Flags
		rt       string
		name     string
		batch    int
		duration time.Duration
		samples  string
	)
	s := config.New("rawtf")
	mf.Register(s)
	tf.Register(s)
	s.String(&rt, "runtime", "RAWTF_RUNTIME", "tensorflow", "runtime: tensorflow (the SavedModel) or litert (model.tflite)")
	s.String(&name, "model", "RAWTF_MODEL", "digits", "model to run")
	s.Int(&batch, "batch", "RAWTF_BATCH", 256, "items per Predict call")
	s.Duration(&duration, "duration", "RAWTF_DURATION", 5*time.Second, "how long to measure (after a warm-up)")
	s.String(&samples, "samples", "RAWTF_SAMPLES", "model/testdata", "directory of NAME_samples.json inputs (random inputs for models without)")
	if err := s.Parse(args); err != nil {
		return err
	}
	runtimes := map[string]loader.Runtime{"tensorflow": tf.Runtime(), "litert": mf.LiteRT()}
	if _, ok := runtimes[rt]; !ok {
		return fmt.Errorf("runtime %q: want tensorflow or litert", rt)
	}
	reg, err := loader.LoadDir(mf.Dir, []loader.Runtime{runtimes[rt]}, loader.Options{Only: []string{name}})
	if err != nil {
		return err
	}
	defer reg.Close()
	m, ok := reg.Get(name, "")
	if !ok {
		return fmt.Errorf("model %s not found in %s", name, mf.Dir)
	}
	in, err := batchOf(m, samples, batch)
	if err != nil {
		return err
	}
	r, err := measure(m, in, batch, duration)
	if err != nil {
		return err
	}
	r.Threads, r.Runtime = tf.Options().IntraOpThreads, rt
	if rt == "litert" {
		r.Threads = mf.LiteThreads
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// measure runs Predict for a tenth of d to warm up, then for d.
func measure(m model.Predictor, in []float32, batch int, d time.Duration) (Result, error) {
	loop := func(d time.Duration) (int, error) {
		n := 0
		for end := time.Now().Add(d); time.Now().Before(end); n += batch {
			if _, err := m.Predict(in, batch); err != nil {
				return 0, err
			}
		}
		return n, nil
	}
	if _, err := loop(d / 10); err != nil {
		return Result{}, err
	}
	cpu0, t0 := cpuTime(), time.Now()
	n, err := loop(d)
	if err != nil {
		return Result{}, err
	}
	sec, cpu := time.Since(t0).Seconds(), cpuTime()-cpu0
	return Result{
		Model: m.Meta().Name, Batch: batch, Items: n, Seconds: sec,
		ItemsPerSec: float64(n) / sec, CPUMicrosPer: float64(cpu.Microseconds()) / float64(n),
	}, nil
}

// batchOf is batch inputs taken in turn from the model's samples file, or
// random ones in the model's input range.
func batchOf(m model.Predictor, dir string, batch int) ([]float32, error) {
	size := m.Meta().ItemSize()
	items, err := samplesOf(filepath.Join(dir, m.Meta().Name+"_samples.json"))
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		r := rand.New(rand.NewPCG(1, 2))
		lo, hi := 0.0, 1.0
		if in := m.Meta().Input; in.Min != nil && in.Max != nil {
			lo, hi = *in.Min, *in.Max
		}
		for range 8 {
			it := make([]float32, size)
			for j := range it {
				it[j] = float32(lo + (hi-lo)*r.Float64())
			}
			items = append(items, it)
		}
	}
	in := make([]float32, 0, batch*size)
	for i := range batch {
		in = append(in, items[i%len(items)]...)
	}
	return in, nil
}

// samplesOf reads the inputs of a samples file: objects whose one array
// field ("pixels", "features") is the input; none when there is no file.
func samplesOf(path string) ([][]float32, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var items [][]float32
	for _, r := range raw {
		for _, k := range []string{"pixels", "features"} {
			var v []float32
			if json.Unmarshal(r[k], &v) == nil && len(v) > 0 {
				items = append(items, v)
			}
		}
	}
	return items, nil
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
