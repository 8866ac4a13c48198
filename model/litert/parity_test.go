package litert_test

import (
	"bufio"
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"batchinfer/model/tfmodel"
)

// digitsAll reads testdata/digits_all.txt: all 1,797 scikit-learn digits,
// one a line, "label pixels" with the 64 pixels (0..16) as base-17 digits.
func digitsAll(t *testing.T) (inputs []float32, labels []int) {
	t.Helper()
	f, err := os.Open(repoDir(t, "testdata", "digits_all.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		label, px, ok := strings.Cut(sc.Text(), " ")
		l, err := strconv.Atoi(label)
		if !ok || err != nil || len(px) != 64 {
			t.Fatalf("digits_all.txt line %d: %q", len(labels)+1, sc.Text())
		}
		for _, c := range px {
			v, err := strconv.ParseInt(string(c), 17, 8)
			if err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, float32(v))
		}
		labels = append(labels, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return inputs, labels
}

// breastCancerTest reads testdata/breast_cancer_test.csv: the test split,
// 30 feature columns and the target.
func breastCancerTest(t *testing.T) (inputs []float32, labels []int) {
	t.Helper()
	f, err := os.Open(repoDir(t, "testdata", "breast_cancer_test.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows[1:] {
		for _, v := range row[:30] {
			x, err := strconv.ParseFloat(v, 32)
			if err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, float32(x))
		}
		l, err := strconv.Atoi(row[30])
		if err != nil {
			t.Fatal(err)
		}
		labels = append(labels, l)
	}
	return inputs, labels
}

// TestParity runs the 1,797 digits and the breast_cancer test split
// through the SavedModel (TensorFlow) and the TFLite model (LiteRT), in
// batches of the worker's largest size and of one: same classes, scores
// within 1e-5.
func TestParity(t *testing.T) {
	for _, tc := range []struct {
		name  string
		data  func(*testing.T) ([]float32, []int)
		items int
	}{
		{"digits", digitsAll, 1797},
		{"breast_cancer", breastCancerTest, 143},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inputs, labels := tc.data(t)
			if len(labels) != tc.items {
				t.Fatalf("%d items, want %d", len(labels), tc.items)
			}
			tfm, err := tfmodel.Load(repoDir(t, "models", tc.name, "1"), tfmodel.Options{IntraOpThreads: 1, InterOpThreads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer tfm.Close()
			lite := load(t, tc.name)
			for _, batch := range []int{256, 1} {
				want := predictAll(t, tfm.Predict, inputs, tfm.Meta().ItemSize(), batch)
				got := predictAll(t, lite.Predict, inputs, lite.Meta().ItemSize(), batch)
				compare(t, got, want, lite.Meta().OutputSize(), labels, batch)
			}
		})
	}
}

func predictAll(t *testing.T, predict func([]float32, int) ([]float32, error), inputs []float32, size, batch int) []float32 {
	t.Helper()
	var out []float32
	for start := 0; start < len(inputs); start += batch * size {
		end := min(len(inputs), start+batch*size)
		o, err := predict(inputs[start:end], (end-start)/size)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o...)
	}
	return out
}

// compare checks got (TFLite) against want (SavedModel); the accuracy of
// both against the labels is logged.
func compare(t *testing.T, got, want []float32, k int, labels []int, batch int) {
	t.Helper()
	var maxDiff float64
	correct := 0
	for i := range labels {
		g, w := got[i*k:(i+1)*k], want[i*k:(i+1)*k]
		if argmax(g) != argmax(w) {
			t.Errorf("batch %d: item %d: class %d from TFLite, %d from the SavedModel (%v, %v)", batch, i, argmax(g), argmax(w), g, w)
		}
		if argmax(w) == labels[i] {
			correct++
		}
		for j := range g {
			maxDiff = max(maxDiff, math.Abs(float64(g[j]-w[j])))
		}
	}
	if maxDiff > 1e-5 {
		t.Errorf("batch %d: scores differ by up to %g, over 1e-5", batch, maxDiff)
	}
	t.Logf("batch %d: %d items, max |TFLite - SavedModel| = %.2g, accuracy %.4f", batch, len(labels), maxDiff, float64(correct)/float64(len(labels)))
}
