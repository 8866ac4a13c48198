package loader_test

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"batchinfer/model"
	"batchinfer/model/litert"
	"batchinfer/model/loader"
	"batchinfer/model/tfmodel"
)

// modelsDir is the repository's model/models.
func modelsDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot find the test file's path")
	}
	return filepath.Join(filepath.Dir(file), "..", "models")
}

var (
	tf = loader.Runtime{Name: "tensorflow", File: model.SavedModelFile, Load: func(dir string) (loader.Model, error) {
		return tfmodel.Load(dir, tfmodel.Options{IntraOpThreads: 1, InterOpThreads: 1})
	}}
	lite = loader.Runtime{Name: "litert", File: model.TFLiteFile, Load: func(dir string) (loader.Model, error) { return litert.Load(dir, litert.Options{Threads: 1}) }}
)

// copyVersion copies the named files of models/<src>/1 to root/<name>/<version>.
func copyVersion(t *testing.T, root, src, name, version string, files ...string) {
	t.Helper()
	dst := filepath.Join(root, name, version)
	if err := os.CopyFS(dst, os.DirFS(filepath.Join(modelsDir(t), src, "1"))); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dst)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !slices.Contains(files, e.Name()) {
			if err := os.RemoveAll(filepath.Join(dst, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
}

var savedModel = []string{model.SavedModelFile, "variables"}

// testRoot has digits:1 in both formats, digits:2 as TFLite only (no
// metadata), breast_cancer:1 as a SavedModel only.
func testRoot(t *testing.T) string {
	root := t.TempDir()
	copyVersion(t, root, "digits", "digits", "1", append(savedModel, model.TFLiteFile, model.MetadataFile)...)
	copyVersion(t, root, "digits", "digits", "2", model.TFLiteFile)
	copyVersion(t, root, "breast_cancer", "breast_cancer", "1", append(savedModel, model.MetadataFile)...)
	return root
}

func TestRuntimeFollowsFiles(t *testing.T) {
	root := testRoot(t)
	for _, tc := range []struct {
		name     string
		runtimes []loader.Runtime
		only     []string
		want     []string // id=runtime
	}{
		{"TF first", []loader.Runtime{tf, lite}, nil, []string{"breast_cancer:1=tensorflow", "digits:1=tensorflow", "digits:2=litert"}},
		{"LiteRT first", []loader.Runtime{lite, tf}, nil, []string{"breast_cancer:1=tensorflow", "digits:1=litert", "digits:2=litert"}},
		{"LiteRT only", []loader.Runtime{lite}, nil, []string{"digits:1=litert", "digits:2=litert"}},
		{"LiteRT only, one model", []loader.Runtime{lite}, []string{"digits:2"}, []string{"digits:2=litert"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, err := loader.LoadDir(root, tc.runtimes, loader.Options{Only: tc.only, Warmup: model.Warmup{Rounds: 1, Batches: []int{1, 4}}})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := reg.Close(); err != nil {
					t.Error(err)
				}
			}()
			var got []string
			for _, m := range reg.Models() {
				got = append(got, m.Meta().ID()+"="+m.Runtime)
				if _, err := m.Predict(make([]float32, m.Meta().ItemSize()), 1); err != nil {
					t.Error(err)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("loaded %v, want %v", got, tc.want)
			}
			if l, ok := reg.Get("digits", ""); ok && l.Meta().Version != "2" {
				t.Errorf("Get(digits) = %s, want the highest version", l.Meta().ID())
			}
		})
	}
}

func TestLoadDirErrors(t *testing.T) {
	root := testRoot(t)
	for _, tc := range []struct {
		name     string
		runtimes []loader.Runtime
		only     []string
		want     string
	}{
		{"no runtime for a named model", []loader.Runtime{lite}, []string{"breast_cancer"}, `breast_cancer:1 has no files that litert (model.tflite) load`},
		{"unknown model", []loader.Runtime{lite, tf}, []string{"digits:3"}, `no model "digits:3"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, err := loader.LoadDir(root, tc.runtimes, loader.Options{Only: tc.only})
			if err == nil {
				reg.Close()
				t.Fatal("LoadDir succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\ndoes not contain %q", err, tc.want)
			}
		})
	}

	// A version that fails to load closes those loaded before it.
	bad := filepath.Join(root, "zzz", "1")
	if err := os.MkdirAll(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, model.TFLiteFile), []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loader.LoadDir(root, []loader.Runtime{tf, lite}, loader.Options{}); err == nil || !strings.Contains(err.Error(), `litert: load model "zzz:1": read TFLite model`) {
		t.Fatalf("bad version: %v", err)
	}
}
