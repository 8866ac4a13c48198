package output

import (
	"encoding/csv"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"batchinfer/internal/wire"
)

// randomItem is an item with a random choice of fields, strings included
// that need JSON escapes or CSV quotes.
func randomItem(rng *rand.Rand) wire.ItemResult {
	strs := []string{"", "7", "cat", `dog, "big"`, "é ü", "a\nb", "<&>", " lead", `back\slash`, "tab\there", "\u2028"}
	it := wire.ItemResult{Index: rng.IntN(1 << 30)}
	if rng.IntN(2) == 0 {
		c := rng.IntN(12)
		it.Class, it.Label, it.Score = &c, strs[rng.IntN(len(strs))], rng.Float32()
		for k := 0; k < rng.IntN(4); k++ {
			it.Top = append(it.Top, wire.Class{Label: strs[rng.IntN(len(strs))], Class: k, Score: rng.Float32() / 1e7})
		}
		for k := 0; k < rng.IntN(12); k++ {
			it.Probabilities = append(it.Probabilities, rng.Float32()*[]float32{1, 1e-9, 1e6}[rng.IntN(3)])
		}
	} else {
		it.Error, it.Skipped = strs[rng.IntN(len(strs))]+" failed", rng.IntN(2) == 0
	}
	it.Line, it.ID = rng.IntN(3)*rng.IntN(1<<20), strs[rng.IntN(len(strs))]
	return it
}

// The fast decoder reads every item the worker's encoder (or
// encoding/json) writes exactly as encoding/json does.
func TestDecodeItemAgreesWithEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var got wire.ItemResult
	for k := 0; k < 5000; k++ {
		it := randomItem(rng)
		cr := wire.ChunkResult{Items: []wire.ItemResult{it}}
		enc := cr.AppendJSON(nil)
		_ = wire.EachItem(enc, func(item []byte) error {
			var want wire.ItemResult
			if err := json.Unmarshal(item, &want); err != nil {
				t.Fatal(err)
			}
			if err := decodeItem(item, &got); err != nil {
				t.Fatalf("%s: %v", item, err)
			}
			g := got
			want.Top, g.Top = nil, nil // files do not show it
			if len(want.Probabilities) == 0 {
				want.Probabilities = g.Probabilities[:0]
			}
			if !reflect.DeepEqual(g, want) {
				t.Fatalf("%s:\n got %+v\nwant %+v", item, got, want)
			}
			return nil
		})
	}
}

func FuzzDecodeItem(f *testing.F) {
	f.Add([]byte(`{"index":1,"label":"7","class":7,"score":0.5,"top":[{"label":"7","class":7,"score":0.5}],"probabilities":[0.5,1e-07],"line":2,"id":"x"}`))
	f.Add([]byte(`{"index":3,"error":"bad \"x\"","skipped":true}`))
	f.Add([]byte(`{"index":01}`))
	f.Add([]byte("{\"index\":1,\"label\":\"\xff\"}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast wire.ItemResult
		if !fastDecode(b, &fast, nil) {
			return
		}
		var slow wire.ItemResult
		if json.Unmarshal(b, &slow) != nil {
			return // not JSON: the fast path may be lenient, never wrong
		}
		slow.Top, fast.Top = nil, nil
		if len(slow.Probabilities) == 0 && len(fast.Probabilities) == 0 {
			slow.Probabilities = fast.Probabilities
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%s:\nfast %+v\nslow %+v", b, fast, slow)
		}
	})
}

// A field reads back as itself with encoding/csv, and is quoted exactly
// when encoding/csv would quote it.
func FuzzAppendField(f *testing.F) {
	for _, s := range []string{"", "a", `a,b`, `"`, "a\nb", "a\r\nb", " x", `\.`, "é", "\u00a0x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, '\r') || !isValidUTF8(s) {
			return // encoding/csv reads CR LF inside quotes as LF, and invalid UTF-8 as U+FFFD
		}
		row := string(appendRow(nil, []string{s, "z"}))
		var want strings.Builder
		w := csv.NewWriter(&want)
		_ = w.Write([]string{s, "z"})
		w.Flush()
		if row != want.String() {
			t.Fatalf("%q: wrote %q, encoding/csv %q", s, row, want.String())
		}
		rec, err := csv.NewReader(strings.NewReader(row)).Read()
		if s != "" && (err != nil || len(rec) != 2 || rec[0] != s) {
			t.Fatalf("%q: read back %q %v", s, rec, err)
		}
	})
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "") == s }
