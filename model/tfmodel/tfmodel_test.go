package tfmodel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"batchinfer/model"
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

type sample struct {
	input         []float32
	label         int
	probabilities []float32
}

// loadSamples reads model/testdata/<file>: [{"<key>": [...], "label": n,
// "probabilities": [...]}].
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
	if len(out) == 0 {
		t.Fatalf("%s: no samples", file)
	}
	return out
}

var sampleModels = []struct {
	name, file, key string
}{
	{"digits", "digits_samples.json", "pixels"},
	{"breast_cancer", "breast_cancer_samples.json", "features"},
}

// loadModel loads models/<name>/1 and closes it when the test ends.
func loadModel(t testing.TB, name string) *Model {
	t.Helper()
	m, err := Load(repoDir(t, "models", name, "1"), Options{IntraOpThreads: 2, InterOpThreads: 2})
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
			m := loadModel(t, tc.name)
			samples := loadSamples(t, tc.file, tc.key)
			out, err := m.Predict(flatten(samples), len(samples))
			if err != nil {
				t.Fatal(err)
			}
			k := m.Meta().OutputSize()
			if len(out) != len(samples)*k {
				t.Fatalf("got %d outputs, want %d", len(out), len(samples)*k)
			}
			for i, s := range samples {
				got := out[i*k : (i+1)*k]
				if c := argmax(got); c != s.label {
					t.Errorf("sample %d: predicted %s, label %s (%v)", i, m.Meta().Labels[c], m.Meta().Labels[s.label], got)
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

// TestBatchEqualsSingles checks that a batch of n gives what n batches of one
// give. TensorFlow's CPU kernels may block a batch differently from a single
// row, so the results are compared within float32 rounding, not bit for bit.
func TestBatchEqualsSingles(t *testing.T) {
	for _, tc := range sampleModels {
		t.Run(tc.name, func(t *testing.T) {
			m := loadModel(t, tc.name)
			samples := loadSamples(t, tc.file, tc.key)
			batch, err := m.Predict(flatten(samples), len(samples))
			if err != nil {
				t.Fatal(err)
			}
			k := m.Meta().OutputSize()
			for i, s := range samples {
				one, err := m.Predict(s.input, 1)
				if err != nil {
					t.Fatal(err)
				}
				for j := range one {
					if d := math.Abs(float64(one[j] - batch[i*k+j])); d > 1e-6 {
						t.Errorf("sample %d class %d: %g alone, %g in a batch", i, j, one[j], batch[i*k+j])
					}
				}
			}
		})
	}
}

// TestConcurrentPredict runs Predict from 8 goroutines with different batch
// sizes (run it with -race).
func TestConcurrentPredict(t *testing.T) {
	m := loadModel(t, "digits")
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
	m := loadModel(t, "digits")
	size := m.Meta().ItemSize()
	for _, tc := range []struct {
		name  string
		input []float32
		n     int
		want  string
	}{
		{"short", make([]float32, size-1), 1, "63 input values for 1 items of 64"},
		{"long", make([]float32, 2*size+1), 2, "129 input values for 2 items of 64"},
		{"zero items", nil, 0, "batch size 0 must be positive"},
		{"negative items", nil, -1, "batch size -1 must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Predict(tc.input, tc.n)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestClose(t *testing.T) {
	m, err := Load(repoDir(t, "models", "digits", "1"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := m.Predict(make([]float32, 64), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Predict after Close: %v, want ErrClosed", err)
	}
}

// copyModel copies models/<name>/1 to root/<name>/<version>, with the new
// version in its metadata, and applies edit to the metadata (decoded as JSON
// objects) before writing it.
func copyModel(t *testing.T, root, name, version string, edit func(m map[string]any)) string {
	t.Helper()
	return copyModelAs(t, root, name, name, version, edit)
}

// copyModelAs is copyModel that also renames the model.
func copyModelAs(t *testing.T, root, src, name, version string, edit func(m map[string]any)) string {
	t.Helper()
	dst := filepath.Join(root, name, version)
	src = repoDir(t, "models", src, "1")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dst, model.MetadataFile))
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	meta["name"], meta["version"] = name, version
	if edit != nil {
		edit(meta)
	}
	if b, err = json.Marshal(meta); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, model.MetadataFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestLoadSignatureMismatch(t *testing.T) {
	spec := func(m map[string]any, which string) map[string]any { return m[which].(map[string]any) }
	for _, tc := range []struct {
		name     string
		edit     func(m map[string]any)
		mismatch bool   // the error must match ErrSignatureMismatch
		want     string // the error must contain this
	}{
		{
			name:     "input shape",
			edit:     func(m map[string]any) { spec(m, "input")["shape"] = []int{-1, 64} },
			mismatch: true,
			want:     `load model "digits:1": input "pixels": shape [-1 64] in metadata, [-1 8 8 1] in SavedModel`,
		},
		{
			name:     "input dimension",
			edit:     func(m map[string]any) { spec(m, "input")["shape"] = []int{-1, 8, 4, 2} },
			mismatch: true,
			want:     `input "pixels": shape [-1 8 4 2] in metadata, [-1 8 8 1] in SavedModel`,
		},
		{
			name:     "input key",
			edit:     func(m map[string]any) { spec(m, "input")["key"] = "image" },
			mismatch: true,
			want:     `input "image": key not in SavedModel signature (it has ["pixels"])`,
		},
		{
			name:     "output key",
			edit:     func(m map[string]any) { spec(m, "output")["key"] = "logits" },
			mismatch: true,
			want:     `output "logits": key not in SavedModel signature (it has ["probabilities"])`,
		},
		{
			name: "output shape",
			edit: func(m map[string]any) {
				spec(m, "output")["shape"] = []int{-1, 11}
				m["labels"] = append(m["labels"].([]any), "10")
			},
			mismatch: true,
			want:     `output "probabilities": shape [-1 11] in metadata, [-1 10] in SavedModel`,
		},
		{
			name:     "signature",
			edit:     func(m map[string]any) { m["signature"] = "predict" },
			mismatch: true,
			want:     `signature "predict": not in SavedModel (it has ["serving_default"])`,
		},
		{
			// metadata.json may only say float32 (Validate); a SavedModel
			// with another dtype is covered by TestCheckSignature.
			name: "input dtype",
			edit: func(m map[string]any) { spec(m, "input")["dtype"] = "float64" },
			want: `input.dtype "float64": only float32 is supported`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyModel(t, t.TempDir(), "digits", "1", tc.edit)
			m, err := Load(dir, Options{})
			if err == nil {
				m.Close()
				t.Fatal("Load succeeded")
			}
			if errors.Is(err, ErrSignatureMismatch) != tc.mismatch {
				t.Errorf("errors.Is(err, ErrSignatureMismatch) = %v, want %v", !tc.mismatch, tc.mismatch)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		prep     func(t *testing.T, dir string)
		want     string
		mismatch bool // the error must match ErrSignatureMismatch
	}{
		{"no model files", func(t *testing.T, dir string) {}, `load model "digits:1": read SavedModel`, false},
		{"metadata not JSON", func(t *testing.T, dir string) {
			copyModel(t, dir, "digits", "1", nil)
			if err := os.WriteFile(filepath.Join(dir, "digits", "1", model.MetadataFile), []byte("{"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, `load model in "`, false},
		{"no serving_default", func(t *testing.T, dir string) {
			copyModel(t, dir, "digits", "1", func(m map[string]any) { delete(m, "signature") })
			// The committed SavedModel's only signature, renamed: the same
			// length keeps the protobuf valid.
			p := filepath.Join(dir, "digits", "1", "saved_model.pb")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, bytes.ReplaceAll(b, []byte("serving_default"), []byte("serving_other__")), 0o644); err != nil {
				t.Fatal(err)
			}
		}, `load model "digits:1": signature "serving_default": not in SavedModel (it has ["serving_other__"])`, true},
		{"no SavedModel", func(t *testing.T, dir string) {
			copyModel(t, dir, "digits", "1", nil)
			if err := os.Remove(filepath.Join(dir, "digits", "1", "saved_model.pb")); err != nil {
				t.Fatal(err)
			}
		}, `load model "digits:1": read SavedModel`, false},
		{"corrupt SavedModel", func(t *testing.T, dir string) {
			copyModel(t, dir, "digits", "1", nil)
			if err := os.WriteFile(filepath.Join(dir, "digits", "1", "saved_model.pb"), []byte("not a protobuf"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, `load model "digits:1": parse`, false},
		{"no variables", func(t *testing.T, dir string) {
			copyModel(t, dir, "digits", "1", nil)
			if err := os.RemoveAll(filepath.Join(dir, "digits", "1", "variables")); err != nil {
				t.Fatal(err)
			}
		}, `load model "digits:1": check prediction: run session: `, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			tc.prep(t, root)
			m, err := Load(filepath.Join(root, "digits", "1"), Options{})
			if err == nil {
				m.Close()
				t.Fatal("Load succeeded")
			}
			if errors.Is(err, ErrSignatureMismatch) != tc.mismatch {
				t.Errorf("errors.Is(%v, ErrSignatureMismatch) != %v", err, tc.mismatch)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tc.want)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	if _, err := Load(repoDir(t, "models", "digits", "1"), Options{IntraOpThreads: -1}); err == nil || !strings.Contains(err.Error(), "must not be negative") {
		t.Fatalf("negative intra-op threads: %v", err)
	}
	// A negative inter-op count is TensorFlow's "every op in the caller's
	// thread": field 5 = -1, a ten-byte varint.
	for _, inter := range []int{-1, -7} {
		so, err := Options{InterOpThreads: inter}.sessionOptions()
		if err != nil {
			t.Fatal(err)
		}
		if want := []byte{0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}; string(so.Config) != string(want) {
			t.Fatalf("inter-op %d: config % x, want % x", inter, so.Config, want)
		}
	}
	so, err := Options{IntraOpThreads: 3, InterOpThreads: 300}.sessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	// ConfigProto: field 2 (varint) = 3, field 5 (varint) = 300.
	if want := []byte{0x10, 3, 0x28, 0xac, 0x02}; string(so.Config) != string(want) {
		t.Fatalf("config % x, want % x", so.Config, want)
	}
	if so, _ := (Options{}).sessionOptions(); len(so.Config) != 0 {
		t.Fatalf("zero Options: config % x, want none", so.Config)
	}
}

// TestImageFixtures runs model/testdata/images.json ([{"file", "label"}])
// through model.DecodeImage with the digits preprocessing and the model.
func TestImageFixtures(t *testing.T) {
	b, err := os.ReadFile(repoDir(t, "testdata", "images.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fixtures []struct {
		File  string `json:"file"`
		Label int    `json:"label"`
	}
	if err := json.Unmarshal(b, &fixtures); err != nil {
		t.Fatal(err)
	}
	m := loadModel(t, "digits")
	for _, f := range fixtures {
		t.Run(f.File, func(t *testing.T) {
			data, err := os.ReadFile(repoDir(t, "testdata", f.File))
			if err != nil {
				t.Fatal(err)
			}
			in, err := model.DecodeImage(m.Meta().Preprocessing.Image, data)
			if err != nil {
				t.Fatal(err)
			}
			out, err := m.Predict(in, 1)
			if err != nil {
				t.Fatal(err)
			}
			if c := argmax(out); c != f.Label || out[c] < 0.9 {
				t.Errorf("predicted %d (p=%.3f), label %d: %v", c, out[c], f.Label, out)
			}
		})
	}
}

// The examples a model's metadata offers to try are predicted as their
// labels: the Try page starts from them.
func TestMetadataExamplesPredictTheirLabels(t *testing.T) {
	m := loadModel(t, "breast_cancer")
	meta := m.Meta()
	if len(meta.Examples) < len(meta.Labels) || len(meta.FeatureRanges) != meta.ItemSize() {
		t.Fatalf("%d examples and %d feature ranges", len(meta.Examples), len(meta.FeatureRanges))
	}
	for _, e := range meta.Examples {
		in := make([]float32, len(e.Values))
		for i, v := range e.Values {
			in[i] = float32(v)
		}
		out, err := m.Predict(in, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := meta.Labels[argmax(out)]; got != e.Label {
			t.Errorf("example of %s predicted %s (%v)", e.Label, got, out)
		}
	}
}

// TestInferredMetadata loads the committed SavedModels without their
// metadata.json: what the signature says must be what the committed
// metadata says.
func TestInferredMetadata(t *testing.T) {
	for _, name := range []string{"digits", "breast_cancer"} {
		t.Run(name, func(t *testing.T) {
			committed, err := model.ReadMetadata(repoDir(t, "models", name, "1"))
			if err != nil {
				t.Fatal(err)
			}
			dir := copyModel(t, t.TempDir(), name, "1", nil)
			if err := os.Remove(filepath.Join(dir, model.MetadataFile)); err != nil {
				t.Fatal(err)
			}
			m, err := Load(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			got := m.Meta()
			if got.ID() != committed.ID() || got.Signature != committed.Signature || got.Kind != committed.Kind {
				t.Errorf("inferred %s %s %s, committed %s %s %s", got.ID(), got.Signature, got.Kind, committed.ID(), committed.Signature, committed.Kind)
			}
			for _, p := range []struct {
				what      string
				got, want model.TensorSpec
			}{{"input", got.Input, committed.Input}, {"output", got.Output, committed.Output}} {
				if p.got.Key != p.want.Key || p.got.DType != p.want.DType || fmt.Sprint(p.got.Shape) != fmt.Sprint(p.want.Shape) {
					t.Errorf("%s: inferred %s %s %v, committed %s %s %v", p.what, p.got.Key, p.got.DType, p.got.Shape, p.want.Key, p.want.DType, p.want.Shape)
				}
			}
		})
	}
}

// TestCallerThreadPredictsTheSame runs the samples in a session whose ops
// run in the calling thread (InterOpThreads < 0, the workers' default) and
// in one with an inter-op pool: the outputs are the same, bit for bit, at
// every batch size, from goroutines calling at once.
func TestCallerThreadPredictsTheSame(t *testing.T) {
	for _, tc := range sampleModels {
		t.Run(tc.name, func(t *testing.T) {
			pooled := loadModel(t, tc.name)
			inline, err := Load(repoDir(t, "models", tc.name, "1"), Options{IntraOpThreads: 1, InterOpThreads: -1})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = inline.Close() })
			samples := loadSamples(t, tc.file, tc.key)
			in := flatten(samples)
			var wg sync.WaitGroup
			for n := 1; n <= len(samples); n++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					part := in[:n*len(samples[0].input)]
					want, err := pooled.Predict(part, n)
					if err != nil {
						t.Error(err)
						return
					}
					got, err := inline.Predict(part, n)
					if err != nil {
						t.Error(err)
						return
					}
					if !slices.Equal(got, want) {
						t.Errorf("batch %d: caller's thread gave %v, the pool %v", n, got, want)
					}
				}()
			}
			wg.Wait()
		})
	}
}
