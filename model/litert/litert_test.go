package litert_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"batchinfer/model"
	"batchinfer/model/litert"
)

// repoDir is the repository's model directory, found from this file's path
// so that tests work from any working directory.
func repoDir(t testing.TB, elem ...string) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot find the test file's path")
	}
	return filepath.Join(append([]string{filepath.Dir(file), ".."}, elem...)...)
}

// load loads models/<name>/1's TFLite model and closes it when the test ends.
func load(t testing.TB, name string) *litert.Model {
	t.Helper()
	m, err := litert.Load(repoDir(t, "models", name, "1"), litert.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

type sample struct {
	input         []float32
	label         int
	probabilities []float32
}

// loadSamples reads model/testdata/<file>: [{"<key>": [...], "label": n,
// "probabilities": [...]}], probabilities from the SavedModel in Python.
func loadSamples(t testing.TB, file, key string) []sample {
	t.Helper()
	b, err := os.ReadFile(repoDir(t, "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	out := make([]sample, len(raw))
	for i, r := range raw {
		for k, dst := range map[string]any{key: &out[i].input, "label": &out[i].label, "probabilities": &out[i].probabilities} {
			if err := json.Unmarshal(r[k], dst); err != nil {
				t.Fatalf("%s[%d].%s: %v", file, i, k, err)
			}
		}
	}
	return out
}

var sampleModels = []struct{ name, file, key string }{
	{"digits", "digits_samples.json", "pixels"},
	{"breast_cancer", "breast_cancer_samples.json", "features"},
}

func flatten(samples []sample) []float32 {
	var in []float32
	for _, s := range samples {
		in = append(in, s.input...)
	}
	return in
}

func argmax(p []float32) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

func TestPredictSamples(t *testing.T) {
	for _, tc := range sampleModels {
		t.Run(tc.name, func(t *testing.T) {
			m := load(t, tc.name)
			samples := loadSamples(t, tc.file, tc.key)
			out, err := m.Predict(flatten(samples), len(samples))
			if err != nil {
				t.Fatal(err)
			}
			k := m.Meta().OutputSize()
			for i, s := range samples {
				got := out[i*k : (i+1)*k]
				if c := argmax(got); c != s.label {
					t.Errorf("sample %d: predicted %d, label %d (%v)", i, c, s.label, got)
				}
				for j := range got {
					if d := math.Abs(float64(got[j] - s.probabilities[j])); d > 1e-4 {
						t.Errorf("sample %d class %d: probability %g, exported %g", i, j, got[j], s.probabilities[j])
					}
				}
			}
		})
	}
}

// TestBatchSizes runs the same items in batches of changing sizes (the
// input is resized for each) and alone; every way gives the same scores.
func TestBatchSizes(t *testing.T) {
	m := load(t, "digits")
	samples := loadSamples(t, "digits_samples.json", "pixels")
	in, k, size := flatten(samples), m.Meta().OutputSize(), m.Meta().ItemSize()
	want, err := m.Predict(in, len(samples))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 7, 20, 3, 1, 20, 2} {
		for start := 0; start < len(samples); start += n {
			c := min(n, len(samples)-start)
			out, err := m.Predict(in[start*size:(start+c)*size], c)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range out {
				if d := math.Abs(float64(v - want[start*k+i])); d > 1e-6 {
					t.Fatalf("batch of %d: item %d class %d: %g, %g in one batch", c, start+i/k, i%k, v, want[start*k+i])
				}
			}
		}
	}
}

// TestConcurrentPredict runs Predict from 8 goroutines with different batch
// sizes (run it with -race).
func TestConcurrentPredict(t *testing.T) {
	m := load(t, "digits")
	samples := loadSamples(t, "digits_samples.json", "pixels")
	in := flatten(samples)
	want, err := m.Predict(in, len(samples))
	if err != nil {
		t.Fatal(err)
	}
	k, size := m.Meta().OutputSize(), m.Meta().ItemSize()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for iter := range 20 {
				start := (g + iter) % len(samples)
				n := 1 + (g*3+iter)%(len(samples)-start)
				out, err := m.Predict(in[start*size:(start+n)*size], n)
				if err != nil {
					t.Error(err)
					return
				}
				for i := range out {
					if d := math.Abs(float64(out[i] - want[start*k+i])); d > 1e-6 {
						t.Errorf("goroutine %d: item %d class %d: %g, want %g", g, start+i/k, i%k, out[i], want[start*k+i])
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestPredictErrors(t *testing.T) {
	m := load(t, "digits")
	for _, tc := range []struct {
		name  string
		input []float32
		n     int
		want  string
	}{
		{"short", make([]float32, 63), 1, "63 input values for 1 items of 64"},
		{"long", make([]float32, 129), 2, "129 input values for 2 items of 64"},
		{"zero items", nil, 0, "batch size 0 must be positive"},
		{"negative items", nil, -1, "batch size -1 must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := m.Predict(tc.input, tc.n); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestClose(t *testing.T) {
	m, err := litert.Load(repoDir(t, "models", "digits", "1", model.TFLiteFile), litert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := m.Predict(make([]float32, 64), 1); !errors.Is(err, litert.ErrClosed) {
		t.Fatalf("Predict after Close: %v, want ErrClosed", err)
	}
}

// TestLoadCloseReturnsToBaseline loads and closes a model many times, with
// predictions of changing batch sizes, and checks that the process's memory
// comes back: Close frees what Load and Predict took in C.
func TestLoadCloseReturnsToBaseline(t *testing.T) {
	dir := repoDir(t, "models", "digits", "1")
	cycle := func() {
		m, err := litert.Load(dir, litert.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 64, 3} {
			if _, err := m.Predict(make([]float32, n*64), n); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// The C allocator's arenas take a few hundred cycles to reach their
	// size (measured: +7 MiB by cycle 500, flat after); a leak of what one
	// cycle takes (a compiled model, its buffers: over 100 KiB) would add
	// hundreds of MiB over the measured cycles.
	for range 1000 {
		cycle()
	}
	before := rssKiB(t)
	for range 3000 {
		cycle()
	}
	if grown := rssKiB(t) - before; grown > 6<<10 {
		t.Fatalf("resident memory grew by %d KiB over 3000 loads and closes", grown)
	}
}

// rssKiB is the process's resident set size from /proc/self/status.
func rssKiB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			if kb, err := strconv.Atoi(f[1]); err == nil {
				return kb
			}
		}
	}
	t.Skip("no VmRSS in /proc/self/status")
	return 0
}
