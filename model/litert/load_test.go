package litert_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"batchinfer/model"
	"batchinfer/model/litert"
)

// copyVersion copies models/<name>/1's TFLite model to a temporary
// <name>/1 directory, with metadata.json edited by edit (nil: none).
func copyVersion(t *testing.T, name string, edit func(m map[string]any)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name, "1")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := repoDir(t, "models", name, "1")
	b, err := os.ReadFile(filepath.Join(src, model.TFLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, model.TFLiteFile), b)
	if edit == nil {
		return dir
	}
	if b, err = os.ReadFile(filepath.Join(src, model.MetadataFile)); err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	edit(meta)
	if b, err = json.Marshal(meta); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, model.MetadataFile), b)
	return dir
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestInferredMetadata loads the committed TFLite models without their
// metadata.json: what the model file says must be what the committed
// metadata says.
func TestInferredMetadata(t *testing.T) {
	for _, name := range []string{"digits", "breast_cancer"} {
		t.Run(name, func(t *testing.T) {
			committed, err := model.ReadMetadata(repoDir(t, "models", name, "1"))
			if err != nil {
				t.Fatal(err)
			}
			m, err := litert.Load(copyVersion(t, name, nil), litert.Options{})
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
				if p.got.Key != p.want.Key || p.got.DType != p.want.DType || !slices.Equal(p.got.Shape, p.want.Shape) {
					t.Errorf("%s: inferred %s %s %v, committed %s %s %v", p.what, p.got.Key, p.got.DType, p.got.Shape, p.want.Key, p.want.DType, p.want.Shape)
				}
			}
			if len(got.Labels) != len(committed.Labels) || got.Labels[0] != "0" {
				t.Errorf("labels %v", got.Labels)
			}
		})
	}
}

// TestSmallMetadata gives only what a model file cannot say.
func TestSmallMetadata(t *testing.T) {
	dir := copyVersion(t, "digits", nil)
	writeFile(t, filepath.Join(dir, model.MetadataFile), []byte(`{"description": "digits", "labels": ["zero","one","two","three","four","five","six","seven","eight","nine"],
		"input": {"min": 0, "max": 16}, "top_k": 2}`))
	m, err := litert.Load(dir, litert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	meta := m.Meta()
	if meta.Labels[9] != "nine" || *meta.Input.Max != 16 || meta.TopK != 2 || meta.Input.Key != "pixels" || meta.ItemSize() != 64 {
		t.Fatalf("metadata %+v", meta)
	}
}

func TestLoadErrors(t *testing.T) {
	in := func(m map[string]any) map[string]any { return m["input"].(map[string]any) }
	for _, tc := range []struct {
		name     string
		path     func(t *testing.T) string
		mismatch bool
		want     string
	}{
		{"no file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "digits", "1") }, false, "TFLite model: stat "},
		{"no model.tflite", func(t *testing.T) string {
			dir := filepath.Join(t.TempDir(), "digits", "1")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			return dir
		}, false, `load model "digits:1": read TFLite model: stat `},
		{"not .tflite", func(t *testing.T) string { return repoDir(t, "models", "digits", "1", "metadata.json") }, false, "not a directory or a .tflite file"},
		{"corrupt", func(t *testing.T) string {
			dir := copyVersion(t, "digits", nil)
			writeFile(t, filepath.Join(dir, model.TFLiteFile), []byte("TFL3 but not a flatbuffer at all"))
			return dir
		}, false, `not a valid .tflite file: identifier " but", want "TFL3"`},
		{"root past the end", func(t *testing.T) string {
			dir := copyVersion(t, "digits", nil)
			writeFile(t, filepath.Join(dir, model.TFLiteFile), []byte("\xff\x00\x00\x00TFL3 and little else"))
			return dir
		}, false, "not a valid .tflite file: an offset points outside the file"},
		{"shorter than a header", func(t *testing.T) string {
			dir := copyVersion(t, "digits", nil)
			writeFile(t, filepath.Join(dir, model.TFLiteFile), []byte("TFL"))
			return dir
		}, false, "not a valid .tflite file: 3 bytes"},
		{"truncated", func(t *testing.T) string {
			dir := copyVersion(t, "digits", nil)
			b, err := os.ReadFile(filepath.Join(dir, model.TFLiteFile))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, model.TFLiteFile), b[:len(b)/2])
			return dir
		}, false, `load model "digits:1": read TFLite model `},
		{"unsupported op", func(t *testing.T) string {
			dir := filepath.Join(t.TempDir(), "erfinv", "1")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(repoDir(t, "testdata", "unsupported_op.tflite"))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, model.TFLiteFile), b)
			return dir
		}, false, `load model "erfinv:1": unsupported custom ops "Erfinv" (LiteRT runs TFLite builtin ops only`},
		{"metadata not JSON", func(t *testing.T) string {
			dir := copyVersion(t, "digits", nil)
			writeFile(t, filepath.Join(dir, model.MetadataFile), []byte("{"))
			return dir
		}, false, "parse "},
		{"metadata unknown field", func(t *testing.T) string {
			dir := copyVersion(t, "digits", nil)
			writeFile(t, filepath.Join(dir, model.MetadataFile), []byte(`{"lables": ["a"]}`))
			return dir
		}, false, `unknown field "lables"`},
		{"no serving_default", func(t *testing.T) string {
			return copyVersion(t, "digits", func(m map[string]any) { m["signature"] = "predict" })
		}, true, `load model "digits:1": signature "predict": not in TFLite model (it has ["serving_default"])`},
		{"input key", func(t *testing.T) string {
			return copyVersion(t, "digits", func(m map[string]any) { in(m)["key"] = "image" })
		}, true, `input "image": key not in TFLite model signature (it has ["pixels"])`},
		{"input shape", func(t *testing.T) string {
			return copyVersion(t, "digits", func(m map[string]any) { in(m)["shape"] = []int{-1, 64} })
		}, true, `input "pixels": shape [-1 64] in metadata, [-1 8 8 1] in TFLite model`},
		{"output shape", func(t *testing.T) string {
			return copyVersion(t, "digits", func(m map[string]any) {
				m["output"].(map[string]any)["shape"] = []int{-1, 11}
			})
		}, true, `output "probabilities": shape [-1 11] in metadata, [-1 10] in TFLite model`},
		{"labels", func(t *testing.T) string {
			return copyVersion(t, "digits", func(m map[string]any) { m["labels"] = []string{"a", "b"} })
		}, false, "2 labels for 10 output classes"},
		{"input dtype", func(t *testing.T) string {
			return copyVersion(t, "digits", func(m map[string]any) { in(m)["dtype"] = "float64" })
		}, false, `input.dtype "float64": only float32 is supported`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := litert.Load(tc.path(t), litert.Options{})
			if err == nil {
				m.Close()
				t.Fatal("Load succeeded")
			}
			if errors.Is(err, model.ErrSignatureMismatch) != tc.mismatch {
				t.Errorf("errors.Is(%v, ErrSignatureMismatch) != %v", err, tc.mismatch)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tc.want)
			}
		})
	}
	if _, err := litert.Load(repoDir(t, "models", "digits", "1"), litert.Options{Threads: -1}); err == nil || !strings.Contains(err.Error(), "threads -1 must not be negative") {
		t.Errorf("negative threads: %v", err)
	}
}
