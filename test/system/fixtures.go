package system

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// DigitSample is one test-split digit with its true label.
type DigitSample struct {
	Pixels []float32 `json:"pixels"`
	Label  int       `json:"label"`
}

// DigitSamples reads model/testdata/digits_samples.json.
func DigitSamples(tb testing.TB) []DigitSample {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(RepoRoot(), "model", "testdata", "digits_samples.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var s []DigitSample
	if err := json.Unmarshal(b, &s); err != nil {
		tb.Fatal(err)
	}
	return s
}

// DigitInputs repeats the samples to n items and returns inputs and labels.
func DigitInputs(tb testing.TB, n int) ([][]float32, []int) {
	s := DigitSamples(tb)
	in := make([][]float32, n)
	labels := make([]int, n)
	for i := range in {
		in[i] = s[i%len(s)].Pixels
		labels[i] = s[i%len(s)].Label
	}
	return in, labels
}
