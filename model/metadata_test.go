package model

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func imageMeta() Metadata {
	return Metadata{
		Name: "digits", Version: "1", Kind: KindImage, Signature: "serving_default",
		Input:  TensorSpec{Key: "pixels", DType: "float32", Shape: []int64{-1, 8, 8, 1}},
		Output: TensorSpec{Key: "probabilities", DType: "float32", Shape: []int64{-1, 3}},
		Labels: []string{"a", "b", "c"},
		Preprocessing: Preprocessing{Image: &ImagePreprocessing{
			Width: 8, Height: 8, Channels: 1, Invert: true, RangeMin: 0, RangeMax: 16,
		}},
	}
}

func tabularMeta() Metadata {
	return Metadata{
		Name: "breast_cancer", Version: "12", Kind: KindTabular, Signature: "serving_default",
		Input:    TensorSpec{Key: "features", DType: "float32", Shape: []int64{-1, 2}},
		Output:   TensorSpec{Key: "probabilities", DType: "float32", Shape: []int64{-1, 2}},
		Labels:   []string{"malignant", "benign"},
		Features: []string{"radius", "texture"},
	}
}

func withExamples() Metadata {
	m := tabularMeta()
	m.Input.Min = new(float64)
	m.FeatureRanges = []FeatureRange{{Min: 6.9, Typical: 13.4, Max: 28.1}, {Min: 9.7, Typical: 18.8, Max: 39.3}}
	m.Examples = []Example{{Label: "benign", Values: []float64{12.1, 17.9}}, {Label: "malignant", Values: []float64{17.9, 21.6}}}
	return m
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		base func() Metadata
		edit func(m *Metadata)
		want string // "" for valid
	}{
		{"image", imageMeta, func(m *Metadata) {}, ""},
		{"tabular", tabularMeta, func(m *Metadata) {}, ""},
		{"rgb image", imageMeta, func(m *Metadata) {
			m.Input.Shape = []int64{-1, 4, 2, 3}
			m.Preprocessing.Image.Width, m.Preprocessing.Image.Height, m.Preprocessing.Image.Channels = 2, 4, 3
		}, ""},
		{"name", imageMeta, func(m *Metadata) { m.Name = "Digits" }, `name "Digits" must match`},
		{"empty name", imageMeta, func(m *Metadata) { m.Name = "" }, `name "" must match`},
		{"name with dot", imageMeta, func(m *Metadata) { m.Name = "a.b" }, `name "a.b" must match`},
		{"version", imageMeta, func(m *Metadata) { m.Version = "v 1" }, `version "v 1" must match`},
		{"kind", imageMeta, func(m *Metadata) { m.Kind = "text" }, `kind "text" must be "image" or "tabular"`},
		{"input key", imageMeta, func(m *Metadata) { m.Input.Key = "" }, "input.key is empty"},
		{"output key", imageMeta, func(m *Metadata) { m.Output.Key = "" }, "output.key is empty"},
		{"input dtype", imageMeta, func(m *Metadata) { m.Input.DType = "float64" }, `input.dtype "float64": only float32 is supported`},
		{"output dtype", imageMeta, func(m *Metadata) { m.Output.DType = "int64" }, `output.dtype "int64": only float32 is supported`},
		{"input batch", imageMeta, func(m *Metadata) { m.Input.Shape = []int64{1, 8, 8, 1} }, "input.shape [1 8 8 1] must start with the batch dimension -1"},
		{"input rank", imageMeta, func(m *Metadata) { m.Input.Shape = []int64{-1} }, "input.shape [-1] must start with the batch dimension -1"},
		{"input dimension", imageMeta, func(m *Metadata) { m.Input.Shape = []int64{-1, 8, 0, 1} }, "input.shape [-1 8 0 1]: dimensions after the batch must be positive"},
		{"output rank", imageMeta, func(m *Metadata) { m.Output.Shape = []int64{-1, 3, 1} }, "output.shape [-1 3 1] must be [-1, classes]"},
		{"labels", imageMeta, func(m *Metadata) { m.Labels = m.Labels[:2] }, "2 labels for 3 output classes"},
		{"features", tabularMeta, func(m *Metadata) { m.Features = nil }, "0 feature names for an input of 2 elements"},
		{"image size", imageMeta, func(m *Metadata) { m.Preprocessing.Image.Width = 7 }, "preprocessing.image 7x8x1 does not match input of 64 elements"},
		{"image channels", imageMeta, func(m *Metadata) {
			m.Input.Shape = []int64{-1, 8, 8, 2}
			m.Preprocessing.Image.Channels = 2
		}, "preprocessing.image.channels 2 must be 1 or 3"},
		{"top_k", imageMeta, func(m *Metadata) { m.TopK = -1 }, "top_k, chunk_size and max_batch must not be negative"},
		{"chunk_size", imageMeta, func(m *Metadata) { m.ChunkSize = -5 }, "top_k, chunk_size and max_batch must not be negative"},
		{"max_batch", imageMeta, func(m *Metadata) { m.MaxBatch = -1 }, "top_k, chunk_size and max_batch must not be negative"},
		{"ranges and examples", withExamples, func(m *Metadata) {}, ""},
		{"ranges of an image model", imageMeta, func(m *Metadata) {
			m.FeatureRanges = slices.Repeat([]FeatureRange{{Min: 0, Typical: 3, Max: 16}}, 64)
		}, ""},
		{"a range per value", withExamples, func(m *Metadata) { m.FeatureRanges = m.FeatureRanges[:1] }, "1 feature_ranges for an input of 2 elements"},
		{"range min above max", withExamples, func(m *Metadata) { m.FeatureRanges[1] = FeatureRange{Min: 5, Typical: 5, Max: 4} }, "feature_ranges[1]: want min <= typical <= max"},
		{"typical outside the range", withExamples, func(m *Metadata) { m.FeatureRanges[0].Typical = 99 }, "feature_ranges[0]"},
		{"range not finite", withExamples, func(m *Metadata) { m.FeatureRanges[0].Max = math.Inf(1) }, "feature_ranges[0]"},
		{"range below the input's min", withExamples, func(m *Metadata) { m.FeatureRanges[0].Min = -1 }, "feature_ranges[0]"},
		{"example size", withExamples, func(m *Metadata) { m.Examples[0].Values = []float64{1} }, "examples[0]: 1 values for an input of 2 elements"},
		{"example label", withExamples, func(m *Metadata) { m.Examples[1].Label = "unsure" }, `examples[1]: label "unsure" is not one of the labels`},
		{"example value", withExamples, func(m *Metadata) { m.Examples[1].Values[1] = math.NaN() }, "examples[1]: value NaN is not finite"},
		{"example below the input's min", withExamples, func(m *Metadata) { m.Examples[0].Values[0] = -2 }, "examples[0]: value -2 is below the input's min 0"},
		{"too many examples", withExamples, func(m *Metadata) { m.Examples = slices.Repeat(m.Examples, 9) }, "18 examples, at most 16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.base()
			tc.edit(&m)
			err := m.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("no error, want %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestMetadataSizes(t *testing.T) {
	m := imageMeta()
	if got := m.ItemSize(); got != 64 {
		t.Errorf("ItemSize() = %d, want 64", got)
	}
	if got := m.OutputSize(); got != 3 {
		t.Errorf("OutputSize() = %d, want 3", got)
	}
	if got := m.ID(); got != "digits:1" {
		t.Errorf("ID() = %q", got)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadMetadata(t *testing.T) {
	good := `{"name":"m","version":"1","kind":"tabular","signature":"serving_default",
		"input":{"key":"x","dtype":"float32","shape":[-1,2]},
		"output":{"key":"y","dtype":"float32","shape":[-1,2]},
		"labels":["a","b"],"features":["f","g"]}`
	for _, tc := range []struct {
		name    string
		content string // "" for no file
		want    string
	}{
		{"good", good, ""},
		{"missing", "", "read metadata"},
		{"not JSON", "{", "parse "},
		{"invalid", strings.Replace(good, `"kind":"tabular"`, `"kind":"audio"`, 1), `kind "audio"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.content != "" {
				writeFile(t, filepath.Join(dir, MetadataFile), tc.content)
			}
			m, err := ReadMetadata(dir)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if m.ID() != "m:1" || m.ItemSize() != 2 {
					t.Fatalf("read %+v", m)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{
		"b/1/metadata.json",
		"a/2/metadata.json",
		"a/1/metadata.json",
		"a/10/metadata.json",
		"c/1/saved_model.pb",       // a SavedModel without metadata
		"g/2/model.tflite",         // a TFLite model without metadata
		"h/1/README.md",            // no model files
		"d/metadata.json",          // too shallow
		"e/1/extra/metadata.json",  // too deep
		"f/1/metadata.json.backup", // other name
	} {
		writeFile(t, filepath.Join(root, p), "{}")
	}
	got, err := Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, d := range got {
		r, err := filepath.Rel(root, d)
		if err != nil {
			t.Fatal(err)
		}
		rel = append(rel, filepath.ToSlash(r))
	}
	if want := []string{"a/1", "a/10", "a/2", "b/1", "c/1", "g/2"}; !slices.Equal(rel, want) {
		t.Fatalf("Discover = %v, want %v", rel, want)
	}

	if got, err := Discover(filepath.Join(root, "nothing-here")); err != nil || len(got) != 0 {
		t.Fatalf("Discover(missing dir) = %v, %v; want none", got, err)
	}
}

// TestCommittedModels checks that every committed model's metadata is valid
// and that its directory names its name and version.
func TestCommittedModels(t *testing.T) {
	dirs, err := Discover("models")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Skip("no models under models/")
	}
	for _, dir := range dirs {
		m, err := ReadMetadata(dir)
		if err != nil {
			t.Error(err)
			continue
		}
		if want := filepath.Base(filepath.Dir(dir)) + ":" + filepath.Base(dir); m.ID() != want {
			t.Errorf("%s: metadata says %s", dir, m.ID())
		}
		// A tabular model says what its inputs look like: clients start
		// from typical values and check ranges (the web UI's Try page).
		if m.Kind == KindTabular && len(m.FeatureRanges) != m.ItemSize() {
			t.Errorf("%s: %d feature_ranges for %d features", dir, len(m.FeatureRanges), m.ItemSize())
		}
		for _, label := range m.Labels {
			if m.Kind == KindTabular && !slices.ContainsFunc(m.Examples, func(e Example) bool { return e.Label == label }) {
				t.Errorf("%s: no example of %s", dir, label)
			}
		}
	}
}
