package tfmodel

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func ids(ms []*Model) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Meta().ID())
	}
	return out
}

func TestLoadDir(t *testing.T) {
	root := t.TempDir()
	copyModel(t, root, "digits", "1", nil)
	copyModel(t, root, "digits", "2", nil)
	copyModel(t, root, "digits", "10", nil)
	copyModel(t, root, "breast_cancer", "1", nil)
	copyModelAs(t, root, "breast_cancer", "tab_bench", "1", func(m map[string]any) { m["benchmark_only"] = true })

	for _, tc := range []struct {
		name string
		only []string
		want []string
	}{
		{"all but benchmarks", nil, []string{"breast_cancer:1", "digits:1", "digits:2", "digits:10"}},
		{"one version", []string{"digits:2"}, []string{"digits:2"}},
		{"one model", []string{"digits"}, []string{"digits:1", "digits:2", "digits:10"}},
		{"benchmark named", []string{"tab_bench"}, []string{"tab_bench:1"}},
		{"mixed", []string{"tab_bench:1", "breast_cancer", "digits:10"}, []string{"breast_cancer:1", "digits:10", "tab_bench:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := LoadDir(root, Options{IntraOpThreads: 1, InterOpThreads: 1}, tc.only...)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := r.Close(); err != nil {
					t.Error(err)
				}
			}()
			if got := ids(r.Models()); !slices.Equal(got, tc.want) {
				t.Fatalf("Models() = %v, want %v", got, tc.want)
			}
		})
	}

	r, err := LoadDir(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, tc := range []struct {
		name, version string
		want          string // "" for not found
	}{
		{"digits", "", "digits:10"},
		{"digits", "2", "digits:2"},
		{"digits", "3", ""},
		{"breast_cancer", "", "breast_cancer:1"},
		{"tab_bench", "", ""},
		{"nope", "", ""},
	} {
		m, ok := r.Get(tc.name, tc.version)
		if got := ""; ok {
			got = m.Meta().ID()
			if got != tc.want {
				t.Errorf("Get(%q, %q) = %s, want %q", tc.name, tc.version, got, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("Get(%q, %q) found nothing, want %s", tc.name, tc.version, tc.want)
		}
	}
	if _, err := r.Models()[0].Predict(make([]float32, 30), 1); err != nil {
		t.Fatal(err)
	}
}

func TestLoadDirErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		prep     func(t *testing.T, root string)
		only     []string
		mismatch bool
		want     string
	}{
		{"unknown only", func(t *testing.T, root string) { copyModel(t, root, "digits", "1", nil) }, []string{"digits:2"}, false, `no model "digits:2"`},
		{"directory name", func(t *testing.T, root string) {
			copyModel(t, root, "digits", "1", func(m map[string]any) { m["version"] = "7" })
		}, nil, false, "says digits:7, its directory digits:1"},
		{"bad model", func(t *testing.T, root string) {
			copyModel(t, root, "breast_cancer", "1", nil)
			copyModel(t, root, "digits", "1", func(m map[string]any) { m["input"].(map[string]any)["key"] = "x" })
		}, nil, true, `load model "digits:1": input "x": key not in SavedModel signature`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			tc.prep(t, root)
			r, err := LoadDir(root, Options{}, tc.only...)
			if err == nil {
				r.Close()
				t.Fatal("LoadDir succeeded")
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

// TestLoadDirRepo loads the committed models (benchmark-only ones are
// skipped).
func TestLoadDirRepo(t *testing.T) {
	r, err := LoadDir(repoDir(t, "models"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, name := range []string{"digits", "breast_cancer"} {
		if _, ok := r.Get(name, ""); !ok {
			t.Errorf("%s not loaded", name)
		}
	}
	for _, m := range r.Models() {
		if m.Meta().BenchmarkOnly {
			t.Errorf("benchmark-only %s loaded", m.Meta().ID())
		}
	}
}
