package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"batchinfer/internal/benchcpu"
)

// randomResult is a chunk result with every kind of item a worker writes
// and values at the edges: predictions whose score and top scores are (or
// are not) among their probabilities, errors, skips, lines and ids,
// indexes off their position, strings needing escapes, zeros of both
// signs, NaN, infinities, no items and an empty list.
func randomResult(r *rand.Rand, n int) *ChunkResult {
	floats := []float32{0, float32(math.Copysign(0, -1)), 1, 0.5, 1e-7, 3.8355765e-07, 1e-45, 0.99999917, 2e21,
		float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	str := func(opts ...string) string { return opts[r.Intn(len(opts))] }
	c := &ChunkResult{Job: str("j0123", `"q"\<é>`, ""), Chunk: r.Intn(1000), Start: r.Intn(100000) - 10, Done: r.Intn(300),
		Failed: r.Intn(300) - 1, Skipped: r.Intn(2) * r.Intn(300), Worker: str("", "w-1", "hôte ü")}
	if n%4 == 1 {
		c.Redrive = r.Uint64()
	}
	switch n % 9 {
	case 0:
		return c // no items at all
	case 1:
		c.Items = []ItemResult{}
		return c
	}
	for i := 0; i < r.Intn(40); i++ {
		it := ItemResult{Index: c.Start + i, Line: r.Intn(2) * (r.Intn(2000000) - 1), ID: str("", "row-7", `"q" é`, strings.Repeat("x", 300))}
		if r.Intn(10) == 0 {
			it.Index = r.Intn(1<<40) - 1<<39
		}
		switch r.Intn(4) {
		case 0:
			it.Error = str("job cancelled", `image: "bad" <x> & ü`, "")
			it.Skipped = r.Intn(2) == 0
		default:
			randomPrediction(r, &it, floats, str)
		}
		c.Items = append(c.Items, it)
	}
	return c
}

func randomPrediction(r *rand.Rand, it *ItemResult, floats []float32, str func(...string) string) {
	for k := 0; k < r.Intn(3)*r.Intn(12); k++ {
		f := floats[r.Intn(len(floats))]
		if r.Intn(2) == 0 {
			f = r.Float32() * float32(math.Pow(10, float64(-r.Intn(12))))
		}
		it.Probabilities = append(it.Probabilities, f)
	}
	if r.Intn(8) > 0 {
		cl := r.Intn(14) - 1
		it.Class = &cl
	}
	it.Label = str("7", "benign", "naïve", "", `a"b`)
	switch {
	case it.Class != nil && *it.Class >= 0 && *it.Class < len(it.Probabilities) && r.Intn(4) > 0:
		it.Score = it.Probabilities[*it.Class]
	default:
		it.Score = floats[r.Intn(len(floats))]
	}
	for k := 0; k < r.Intn(6); k++ {
		cl := r.Intn(14) - 1
		score := r.Float32()
		if cl >= 0 && cl < len(it.Probabilities) && r.Intn(3) > 0 {
			score = it.Probabilities[cl]
		}
		it.Top = append(it.Top, Class{Label: str("x", "", "ü", fmt.Sprint(cl)), Class: cl, Score: score})
	}
}

// TestCompactResultRendersAsJSON: the compact form, rendered, is byte for
// byte the JSON the worker wrote before it (AppendJSON, itself
// encoding/json's bytes), and decodes to a result that writes the same.
func TestCompactResultRendersAsJSON(t *testing.T) {
	r := rand.New(rand.NewSource(23))
	for n := 0; n < 3000; n++ {
		c := randomResult(r, n)
		want := c.AppendJSON(nil)
		compact := c.AppendCompact(nil)
		if !IsCompactResult(compact) {
			t.Fatalf("case %d: not recognised as compact", n)
		}
		got, err := ResultJSON(compact)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("case %d: %v\n got %s\nwant %s", n, err, got, want)
		}
		dec, err := DecodeResult(compact)
		if err != nil {
			t.Fatalf("case %d: decode: %v", n, err)
		}
		if again := dec.AppendJSON(nil); !bytes.Equal(again, want) {
			t.Fatalf("case %d: decoded\n got %s\nwant %s", n, again, want)
		}
		if re := dec.AppendCompact(nil); !bytes.Equal(re, compact) {
			t.Fatalf("case %d: re-encoding the decoded result differs", n)
		}
	}
}

// TestJSONResultsReadAsStored: results stored as JSON (before the compact
// form, or by a worker told to keep it) are read as they are.
func TestJSONResultsReadAsStored(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for n := 0; n < 200; n++ {
		c := randomResult(r, n)
		stored := c.AppendJSON(nil)
		got, err := ResultJSON(stored)
		if err != nil || &got[0] != &stored[0] || len(got) != len(stored) {
			t.Fatalf("case %d: JSON not returned as stored: %v", n, err)
		}
		dec, err := DecodeResult(stored)
		if err != nil {
			t.Fatalf("case %d: %v", n, err)
		}
		var want ChunkResult
		if err := json.Unmarshal(stored, &want); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(dec.AppendJSON(nil), want.AppendJSON(nil)) {
			t.Fatalf("case %d: decoded differently", n)
		}
	}
}

// TestCompactResultRefusesDamage: every cut of a valid result, a byte
// added, and data of neither form are errors, never a panic.
func TestCompactResultRefusesDamage(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	for n := 2; n < 60; n++ {
		compact := randomResult(r, n).AppendCompact(nil)
		for cut := 0; cut < len(compact); cut++ {
			if _, err := ResultJSON(compact[:cut]); err == nil && cut >= len(resultMagic) {
				t.Fatalf("case %d: cut at %d of %d rendered", n, cut, len(compact))
			}
			if _, err := DecodeResult(compact[:cut]); err == nil {
				t.Fatalf("case %d: cut at %d of %d decoded", n, cut, len(compact))
			}
		}
		if _, err := ResultJSON(append(compact, 0)); err == nil {
			t.Fatalf("case %d: a byte added was not noticed", n)
		}
	}
	for _, bad := range []string{"BIR\x01", "BIR\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "BIR\x01\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x05"} {
		if _, err := ResultJSON([]byte(bad)); err == nil {
			t.Errorf("%q: rendered", bad)
		}
	}
	for _, other := range []string{"", "[1]", "BIR\x02"} { // not the compact form: as stored
		if got, err := ResultJSON([]byte(other)); err != nil || string(got) != other {
			t.Errorf("%q: %q, %v", other, got, err)
		}
		if _, err := DecodeResult([]byte(other)); err == nil {
			t.Errorf("%q: decoded", other)
		}
	}
}

// TestCompactResultSize: a digits item (10 probabilities, top 3, a line)
// stored compact takes a fifth of its JSON or less.
func TestCompactResultSize(t *testing.T) {
	c := digitsResult(256)
	js, compact := len(c.AppendJSON(nil)), len(c.AppendCompact(nil))
	t.Logf("256 digits items: JSON %d bytes, compact %d (%.1f a item)", js, compact, float64(compact)/256)
	if compact*5 > js {
		t.Fatalf("compact %d bytes, JSON %d", compact, js)
	}
}

func FuzzCompactResult(f *testing.F) {
	r := rand.New(rand.NewSource(3))
	for n := 0; n < 12; n++ {
		f.Add(randomResult(r, n).AppendCompact(nil))
	}
	f.Add([]byte("BIR\x01"))
	f.Add([]byte("BIR\x01\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x80\x80\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		js, err := ResultJSON(b)
		dec, derr := DecodeResult(b)
		if !IsCompactResult(b) {
			return // JSON: encoding/json's business
		}
		if (err == nil) != (derr == nil) {
			t.Fatalf("render: %v, decode: %v", err, derr)
		}
		if err != nil {
			return
		}
		if again := dec.AppendJSON(nil); !bytes.Equal(again, js) {
			t.Fatalf("decoded %s, rendered %s", again, js)
		}
		if !json.Valid(js) {
			t.Fatalf("rendered invalid JSON: %s", js)
		}
	})
}

// digitsResult is a chunk of n digits items as the worker writes them:
// softmax outputs of full precision, the score and top 3 among them.
func digitsResult(n int) *ChunkResult {
	r := rand.New(rand.NewSource(1))
	d := &ChunkResult{Job: "j0123456789", Chunk: 3, Start: 768, Done: n, Worker: "worker-1", Items: make([]ItemResult, n)}
	labels := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	for i := range d.Items {
		probs, sum := make([]float32, 10), float32(0)
		for k := range probs {
			probs[k] = float32(math.Exp(r.NormFloat64() * 6))
			sum += probs[k]
		}
		best := 0
		for k := range probs {
			if probs[k] /= sum; probs[k] > probs[best] {
				best = k
			}
		}
		it := ItemResult{Index: 768 + i, Label: labels[best], Class: &best, Score: probs[best], Probabilities: probs, Line: 769 + i}
		for k := 0; k < 3; k++ {
			cl := (best + k) % 10
			it.Top = append(it.Top, Class{labels[cl], cl, probs[cl]})
		}
		d.Items[i] = it
	}
	return d
}

func BenchmarkChunkResultCompact(b *testing.B) {
	d := digitsResult(256)
	compact := d.AppendCompact(nil)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 64<<10)
		cpu := benchcpu.Start()
		for b.Loop() {
			buf = d.AppendCompact(buf[:0])
		}
		cpu.Report(b, b.N*len(d.Items), "item")
	})
	b.Run("render", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 128<<10)
		cpu := benchcpu.Start()
		for b.Loop() {
			var err error
			if buf, err = AppendCompactJSON(buf[:0], compact); err != nil {
				b.Fatal(err)
			}
		}
		cpu.Report(b, b.N*len(d.Items), "item")
	})
}

// TestResultEstimateBounds: what admission reserves for a chunk (n items
// of ResultBytes and ResultChunkBytes; ResultJSONBytes and
// ResultChunkJSONBytes as JSON) holds what a worker stores for it, in each form,
// for models of few and many classes, with and without labels and full
// probabilities, each item naming the labels and classes at the far end.
func TestResultEstimateBounds(t *testing.T) {
	r := rand.New(rand.NewSource(17))
	many := make([]string, 1000)
	for i := range many {
		many[i] = fmt.Sprintf("n%08d a rather long class name, number %d", i, i)
	}
	for _, m := range []struct {
		name    string
		labels  []string
		outputs int
		topK    int
		chunk   int
	}{
		{"digits", []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, 10, 3, 256},
		{"breast_cancer", []string{"malignant", "benign"}, 2, 0, 512},
		{"imagenet", many, 1000, 5, 1},
		{"imagenet chunks", many, 1000, 5, 64},
		{"no labels", nil, 40, 5, 100},
	} {
		topK := m.topK
		if topK == 0 {
			topK = min(m.outputs, 5)
		}
		c := &ChunkResult{Job: strings.Repeat("j", 40), Chunk: 1 << 30, Start: 1<<31 - 1, Done: m.chunk, Worker: strings.Repeat("w", 64), Redrive: 1 << 40}
		for i := 0; i < m.chunk; i++ {
			cl := m.outputs - 1 - r.Intn(min(m.outputs, 3))
			label := func(k int) string {
				if len(m.labels) == 0 {
					return ""
				}
				return m.labels[len(m.labels)-1-(i*(topK+1)+k)%len(m.labels)]
			}
			it := ItemResult{Index: c.Start + i, Label: label(0), Class: &cl, Score: 0.123456789, Line: 999_999_999}
			for k := 0; k < topK; k++ {
				it.Top = append(it.Top, Class{Label: label(k + 1), Class: cl, Score: r.Float32()})
			}
			if m.outputs <= MaxProbabilities {
				for k := 0; k < m.outputs; k++ {
					it.Probabilities = append(it.Probabilities, r.Float32())
				}
			}
			c.Items = append(c.Items, it)
		}
		got := len(c.AppendCompact(nil))
		est := m.chunk*ResultBytes(m.labels, m.outputs, m.topK) + ResultChunkBytes(m.labels, m.topK, m.chunk)
		t.Logf("%s: %d items stored in %d bytes, estimated %d", m.name, m.chunk, got, est)
		if got > est || est > 3*got+2048 {
			t.Errorf("%s: %d bytes stored, estimated %d", m.name, got, est)
		}
		got = len(c.AppendJSON(nil))
		est = m.chunk*ResultJSONBytes(m.labels, m.outputs, m.topK) + ResultChunkJSONBytes()
		t.Logf("%s: %d items stored as JSON in %d bytes, estimated %d", m.name, m.chunk, got, est)
		if got > est || est > 3*got+2048 {
			t.Errorf("%s as JSON: %d bytes stored, estimated %d", m.name, got, est)
		}
	}
}

// TestEachItemBothForms: the items EachItem yields are the same bytes from
// either stored form.
func TestEachItemBothForms(t *testing.T) {
	r := rand.New(rand.NewSource(31))
	collect := func(data []byte) ([]string, error) {
		var out []string
		err := EachItem(data, func(item []byte) error { out = append(out, string(item)); return nil })
		return out, err
	}
	for n := 0; n < 1000; n++ {
		c := randomResult(r, n)
		fromJSON, err1 := collect(c.AppendJSON(nil))
		fromCompact, err2 := collect(c.AppendCompact(nil))
		if err1 != nil || err2 != nil || fmt.Sprint(fromJSON) != fmt.Sprint(fromCompact) {
			t.Fatalf("case %d: %v %v\n json %q\n compact %q", n, err1, err2, fromJSON, fromCompact)
		}
	}
	compact := digitsResult(4).AppendCompact(nil)
	if err := EachItem(compact[:len(compact)-3], func([]byte) error { return nil }); err == nil {
		t.Fatal("a cut compact result yielded no error")
	}
}
