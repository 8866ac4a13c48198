package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"batchinfer/internal/benchcpu"
)

// EachItem yields exactly the items encoding/json would decode, for
// results with awkward strings (braces, quotes, escapes) and failures.
func TestEachItem(t *testing.T) {
	one := 1
	for _, tc := range []struct {
		name string
		cr   ChunkResult
	}{
		{"predictions", ChunkResult{Job: "j1", Chunk: 2, Start: 512, Done: 2, Worker: "w", Items: []ItemResult{
			{Index: 512, Label: "7", Class: &one, Score: 0.9, Top: []Class{{"7", 7, 0.9}, {"1", 1, 0.05}}, Probabilities: []float32{0.1, 0.9}},
			{Index: 513, Label: `br}ace"s {[`, Class: &one, Score: 1e-9},
		}}},
		{"failures", ChunkResult{Job: "j2", Failed: 2, Worker: `odd ,"items":[ worker`, Items: []ItemResult{
			{Index: 0, Error: `bad "input" \ {`}, {Index: 1, Error: "]}"},
		}}},
		{"empty", ChunkResult{Job: "j3", Items: []ItemResult{}}},
		{"null items", ChunkResult{Job: "j4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.cr.AppendJSON(nil)
			var got []ItemResult
			err := EachItem(data, func(item []byte) error {
				var it ItemResult
				if err := json.Unmarshal(item, &it); err != nil {
					t.Fatalf("item %q: %v", item, err)
				}
				if ItemIndex(item) != it.Index {
					t.Errorf("ItemIndex(%q) = %d, want %d", item, ItemIndex(item), it.Index)
				}
				got = append(got, it)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var want ChunkResult
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want.Items) {
				t.Fatalf("%d items, want %d", len(got), len(want.Items))
			}
			for i := range got {
				a, _ := json.Marshal(got[i])
				b, _ := json.Marshal(want.Items[i])
				if string(a) != string(b) {
					t.Errorf("item %d: %s, want %s", i, a, b)
				}
			}
		})
	}
}

func TestEachItemRejects(t *testing.T) {
	for _, data := range []string{``, `[]`, `{"job":"x"}`, `{"job":"x","items":[{"index":1`, `{"job":"x","items":[{"index":"}]`, `{"job":"x","items":[1]}`} {
		err := EachItem([]byte(data), func([]byte) error { return nil })
		if !errors.Is(err, ErrNotChunkResult) {
			t.Errorf("%q: %v", data, err)
		}
	}
	stop := errors.New("stop")
	data := (&ChunkResult{Job: "j", Items: []ItemResult{{Index: 1}, {Index: 2}}}).AppendJSON(nil)
	n := 0
	if err := EachItem(data, func([]byte) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("f's error: %v after %d items", err, n)
	}
	if strings.Count(string(data), "index") != 2 {
		t.Fatal(string(data))
	}
}

// BenchmarkEachItem is the gateway's cost per item of sending stored
// results on (the results stream, an output file in NDJSON): finding each
// item's bytes in a chunk's.
func BenchmarkEachItem(b *testing.B) {
	cl := 3
	c := ChunkResult{Job: "j0123456789", Chunk: 3, Items: make([]ItemResult, 256)}
	for i := range c.Items {
		c.Items[i] = ItemResult{Index: i, Label: "3", Class: &cl, Score: 0.99, Top: []Class{{"3", 3, 0.99}, {"5", 5, 0.001}},
			Probabilities: []float32{1e-7, 0.2, 0.3, 0.99, 0.01, 0.001, 1e-9, 0.5, 0.25, 0.125}, Line: i + 1}
	}
	data := c.AppendJSON(nil)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu := benchcpu.Start()
	for b.Loop() {
		n := 0
		if err := EachItem(data, func([]byte) error { n++; return nil }); err != nil || n != 256 {
			b.Fatal(err, n)
		}
	}
	cpu.Report(b, b.N*256, "item")
}
