package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// itemsEqual compares items, a tensor stored one byte a value read as
// float32s.
func itemsEqual(a, b []Item) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i].Float32(), b[i].Float32()
		if x.Kind != y.Kind || !bytes.Equal(x.Data, y.Data) {
			return false
		}
	}
	return true
}

func TestChunkRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte{0xab, 0x01, 0x00}, 1<<20/3) // ~1 MiB: a multi-byte length
	many := make([]Item, 300)                              // a multi-byte count
	for i := range many {
		many[i] = Item{Kind: ItemTensor, Data: []byte{byte(i)}}
	}
	tests := []struct {
		name  string
		items []Item
	}{
		{"empty", nil},
		{"one tensor", []Item{{Kind: ItemTensor, Data: []byte{0, 0, 128, 63}}}},
		{"one empty item", []Item{{Kind: ItemImage}}},
		{"mixed kinds", []Item{
			{Kind: ItemTensor, Data: make([]byte, 256)},
			{Kind: ItemImage, Data: []byte("\x89PNG\r\n\x1a\n")},
			{Kind: ItemTensor, Data: []byte{1, 2, 3, 4}},
			{Kind: 0xff, Data: []byte("unknown kinds pass through")},
		}},
		{"big item", []Item{{Kind: ItemImage, Data: big}, {Kind: ItemTensor, Data: []byte{9}}}},
		{"300 items", many},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefix := []byte("prefix")
			enc := EncodeChunk(append([]byte(nil), prefix...), tc.items)
			if !bytes.HasPrefix(enc, prefix) {
				t.Fatal("EncodeChunk did not append to dst")
			}
			b := enc[len(prefix):]
			if !bytes.HasPrefix(b, []byte{'B', 'I', 'C', 1}) {
				t.Fatalf("no magic: % x", b[:4])
			}
			got, err := DecodeChunk(b)
			if err != nil {
				t.Fatal(err)
			}
			if !itemsEqual(got, tc.items) {
				t.Fatalf("round trip changed the items")
			}
			if re := EncodeChunk(nil, got); !bytes.Equal(re, b) {
				t.Fatalf("re-encoding differs")
			}
		})
	}
}

func TestChunkEncoding(t *testing.T) {
	got := EncodeChunk(nil, []Item{{Kind: ItemTensor, Data: []byte{7, 8}}, {Kind: ItemImage}})
	want := []byte{'B', 'I', 'C', 1, 2, 1, 2, 7, 8, 2, 0}
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x, want % x", got, want)
	}
}

func TestDecodeChunkAliases(t *testing.T) {
	b := EncodeChunk(nil, []Item{{Kind: ItemTensor, Data: []byte{1, 2, 3}}})
	items, err := DecodeChunk(b)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] = 42
	if items[0].Data[2] != 42 {
		t.Fatal("item data does not alias the payload (as documented)")
	}
}

func TestDecodeChunkErrors(t *testing.T) {
	valid := EncodeChunk(nil, []Item{{Kind: ItemTensor, Data: []byte{1, 2, 3, 4}}, {Kind: ItemImage, Data: []byte{5}}})
	magic := []byte{'B', 'I', 'C', 1}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		in   []byte
		err  string
	}{
		{"nil", nil, "bad magic"},
		{"short magic", []byte("BIC"), "bad magic"},
		{"bad magic", cat([]byte("XIC\x01"), valid[4:]), "bad magic"},
		{"wrong version", cat([]byte("BIC\x03"), valid[4:]), "bad magic"},
		{"v2 bad flags", cat([]byte("BIC\x02\x08"), valid[4:]), "bad flags"},
		{"v2 lines missing", cat([]byte("BIC\x02\x01"), valid[4:]), "line of item"},
		{"v2 id truncated", cat([]byte("BIC\x02\x02"), valid[4:], []byte{5, 'a'}), "id of item"},
		{"magic only", magic, "bad item count"},
		{"count overflow varint", cat(magic, bytes.Repeat([]byte{0xff}, 10), []byte{1}), "bad item count"},
		{"count truncated varint", cat(magic, []byte{0x80}), "bad item count"},
		{"huge count", cat(magic, binary.AppendUvarint(nil, 1<<62), []byte{1, 0}), "bad item count"},
		{"count above remaining bytes", cat(magic, []byte{5, 1, 0}), "bad item count"},
		{"count exceeds items", cat(magic, []byte{2, 1, 0}), "item 1 truncated"},
		{"truncated data", valid[:len(valid)-1], "item 1 length"},
		{"truncated first item", valid[:8], "item 0 length"},
		{"missing length", cat(magic, []byte{1, 1}), "item 0 length"},
		{"length overflow varint", cat(magic, []byte{1, 1}, bytes.Repeat([]byte{0xff}, 10), []byte{1}), "item 0 length"},
		{"length too big", cat(magic, []byte{1, 1}, binary.AppendUvarint(nil, 1<<63), []byte{1}), "item 0 length"},
		{"length one past the end", cat(magic, []byte{1, 1, 3, 1, 2}), "item 0 length"},
		{"overlong count", cat(magic, []byte{0x80, 0x00}), "bad item count"},
		{"overlong count of one", cat(magic, []byte{0x81, 0x00, 1, 0}), "bad item count"},
		{"overlong length", cat(magic, []byte{1, 1, 0x80, 0x00}), "item 0 length"},
		{"overlong length of one", cat(magic, []byte{1, 1, 0x81, 0x80, 0x00, 7}), "item 0 length"},
		{"trailing bytes", cat(valid, []byte{0}), "1 trailing bytes"},
		{"trailing chunk", cat(valid, valid), "trailing bytes"},
		{"zero items trailing", cat(magic, []byte{0, 1}), "1 trailing bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, err := DecodeChunk(tc.in)
			if err == nil {
				t.Fatalf("decoded %d items from % x", len(items), tc.in)
			}
			if !errors.Is(err, ErrBadChunk) {
				t.Fatalf("error %v is not ErrBadChunk", err)
			}
			if !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %q does not contain %q", err, tc.err)
			}
			if items != nil {
				t.Fatal("items returned with an error")
			}
		})
	}
}

var (
	t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	t1 = t0.Add(10 * time.Second)
	t2 = t0.Add(20 * time.Second)
)

func TestJobRecordCount(t *testing.T) {
	r := &JobRecord{ID: "j1", Total: 25, Chunks: 3, ChunkSize: 10, CreatedAt: t0}
	if r.IsCounted(0) {
		t.Fatal("chunk 0 counted before Count")
	}
	if !r.Count(ChunkCount{Chunk: 1, Done: 9, Failed: 1}, t1) {
		t.Fatal("first count of chunk 1 did nothing")
	}
	if len(r.Counted) != 1 || !r.IsCounted(1) || r.IsCounted(0) || r.IsCounted(2) {
		t.Fatalf("counted bitset %08b", r.Counted)
	}
	if r.Done != 9 || r.Failed != 1 || r.StartedAt == nil || !r.StartedAt.Equal(t1) || !r.UpdatedAt.Equal(t1) {
		t.Fatalf("after one chunk: %+v", r)
	}
	before := *r
	if r.Count(ChunkCount{Chunk: 1, Done: 9, Failed: 1}, t2) {
		t.Fatal("counting chunk 1 twice changed the record")
	}
	if r.Done != before.Done || r.Failed != before.Failed || !r.UpdatedAt.Equal(t1) {
		t.Fatalf("second count changed %+v", r)
	}
	for _, c := range []int{-1, 3, 100} {
		if r.Count(ChunkCount{Chunk: c, Done: 1, Failed: 1}, t2) || r.IsCounted(c) {
			t.Fatalf("out-of-range chunk %d counted", c)
		}
	}
	if r.Done != 9 || r.Failed != 1 {
		t.Fatalf("out-of-range chunks changed totals: %+v", r)
	}
	if !r.Count(ChunkCount{Chunk: 0, Done: 10, Failed: 0}, t2) || !r.Count(ChunkCount{Chunk: 2, Done: 5, Failed: 0}, t2) {
		t.Fatal("chunks 0 and 2 not counted")
	}
	if !r.StartedAt.Equal(t1) || !r.UpdatedAt.Equal(t2) {
		t.Fatalf("started %v updated %v", r.StartedAt, r.UpdatedAt)
	}
	if r.Done != 24 || r.Failed != 1 || !r.Finished() {
		t.Fatalf("totals %d/%d finished %v", r.Done, r.Failed, r.Finished())
	}
}

func TestJobRecordCountBitsetGrows(t *testing.T) {
	r := &JobRecord{Total: 1000, Chunks: 20}
	if !r.Count(ChunkCount{Chunk: 19, Done: 1, Failed: 0}, t1) {
		t.Fatal("chunk 19 not counted")
	}
	if len(r.Counted) != 3 {
		t.Fatalf("bitset of %d bytes for 20 chunks", len(r.Counted))
	}
	for c := 0; c < 20; c++ {
		if r.IsCounted(c) != (c == 19) {
			t.Fatalf("chunk %d counted %v", c, r.IsCounted(c))
		}
	}
	// A record whose chunk count grew (or an old short bitset) grows again.
	r.Counted = r.Counted[:1]
	r.Chunks = 40
	if !r.Count(ChunkCount{Chunk: 39, Done: 1, Failed: 0}, t1) || len(r.Counted) != 5 || !r.IsCounted(39) {
		t.Fatalf("bitset %v", r.Counted)
	}
	// JSON keeps the bitset.
	var back JobRecord
	if err := json.Unmarshal(Marshal(r), &back); err != nil {
		t.Fatal(err)
	}
	if !back.IsCounted(39) || back.IsCounted(19) != r.IsCounted(19) || back.Count(ChunkCount{Chunk: 39, Done: 1}, t2) {
		t.Fatal("bitset lost in JSON")
	}
}

func TestJobRecordCountAllChunks(t *testing.T) {
	r := &JobRecord{Total: 17 * 3, Chunks: 17}
	for round := 0; round < 2; round++ {
		for c := 16; c >= 0; c-- {
			if changed := r.Count(ChunkCount{Chunk: c, Done: 2, Failed: 1}, t1); changed != (round == 0) {
				t.Fatalf("round %d chunk %d changed %v", round, c, changed)
			}
		}
	}
	if r.Done != 34 || r.Failed != 17 || !r.Finished() {
		t.Fatalf("%d done %d failed", r.Done, r.Failed)
	}
}

func ptr[T any](v T) *T { return &v }

func TestJobRecordStatus(t *testing.T) {
	now := t0.Add(time.Minute)
	tests := []struct {
		name       string
		rec        JobRecord
		state      string
		finished   *time.Time
		elapsedMS  int64
		itemsPerS  float64
		etaMS      *int64
		doneFailed [2]int
	}{
		{
			name:      "queued",
			rec:       JobRecord{Total: 100, Chunks: 4, CreatedAt: t0, State: StateQueued},
			state:     StateQueued,
			elapsedMS: 60000,
		},
		{
			name:      "accepting is shown as queued",
			rec:       JobRecord{Total: 100, Chunks: 4, CreatedAt: t0, State: StateAccepting},
			state:     StateQueued,
			elapsedMS: 60000,
		},
		{
			name:      "running, first chunk only",
			rec:       JobRecord{Total: 100, Chunks: 4, CreatedAt: t0, Done: 25, StartedAt: ptr(t1), UpdatedAt: ptr(t1)},
			state:     StateRunning,
			elapsedMS: 60000,
		},
		{
			name: "running with ETA",
			// 40 items in the 10 s between start and last update: 4/s, 60 left: 15 s.
			rec:       JobRecord{Total: 100, Chunks: 4, CreatedAt: t0, Done: 30, Failed: 10, StartedAt: ptr(t1), UpdatedAt: ptr(t2)},
			state:     StateRunning,
			elapsedMS: 60000,
			itemsPerS: 4,
			etaMS:     ptr(int64(15000)),
		},
		{
			name:      "completed",
			rec:       JobRecord{Total: 100, Chunks: 4, CreatedAt: t0, Done: 90, Failed: 10, StartedAt: ptr(t1), UpdatedAt: ptr(t2)},
			state:     StateCompleted,
			finished:  ptr(t2),
			elapsedMS: 20000,
			itemsPerS: 10,
		},
		{
			name: "small job finished in one count",
			// Its chunk started on a worker 100 ms after acceptance and was
			// counted 150 ms later: 10 items / 150 ms (queueing not counted).
			rec:       JobRecord{Name: "ten.csv", Total: 10, Chunks: 1, CreatedAt: t0, Done: 10, StartedAt: ptr(t0.Add(100 * time.Millisecond)), UpdatedAt: ptr(t0.Add(250 * time.Millisecond))},
			state:     StateCompleted,
			finished:  ptr(t0.Add(250 * time.Millisecond)),
			elapsedMS: 250,
			itemsPerS: 10 / 0.15,
		},
		{
			name:      "empty job is completed",
			rec:       JobRecord{Total: 0, CreatedAt: t0},
			state:     StateCompleted,
			elapsedMS: 60000,
		},
		{
			name:      "cancelled while running",
			rec:       JobRecord{Total: 100, Chunks: 4, CreatedAt: t0, Done: 20, StartedAt: ptr(t1), UpdatedAt: ptr(t1.Add(5 * time.Second)), CancelledAt: ptr(t2)},
			state:     StateCancelled,
			finished:  ptr(t2),
			elapsedMS: 20000,
			itemsPerS: 4,
		},
		{
			name:      "cancelled before starting",
			rec:       JobRecord{Total: 100, Chunks: 4, CreatedAt: t0, CancelledAt: ptr(t1)},
			state:     StateCancelled,
			finished:  ptr(t1),
			elapsedMS: 10000,
		},
		{
			name:      "cancelled then failed out",
			rec:       JobRecord{Total: 100, Chunks: 4, CreatedAt: t0, Done: 20, Failed: 80, StartedAt: ptr(t1), UpdatedAt: ptr(t2), CancelledAt: ptr(t1.Add(5 * time.Second))},
			state:     StateCancelled,
			finished:  ptr(t2),
			elapsedMS: 20000,
			itemsPerS: 10,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.rec.ID, tc.rec.Model, tc.rec.Version = "j1", "digits", "1"
			s := tc.rec.Status(now)
			if s.ID != "j1" || s.Model != "digits" || s.Version != "1" || s.Total != tc.rec.Total || s.Chunks != tc.rec.Chunks ||
				s.Done != tc.rec.Done || s.Failed != tc.rec.Failed || !s.CreatedAt.Equal(t0) {
				t.Fatalf("copied fields differ: %+v", s)
			}
			if s.State != tc.state {
				t.Fatalf("state %q, want %q", s.State, tc.state)
			}
			if (s.FinishedAt == nil) != (tc.finished == nil) || (s.FinishedAt != nil && !s.FinishedAt.Equal(*tc.finished)) {
				t.Fatalf("finished_at %v, want %v", s.FinishedAt, tc.finished)
			}
			if s.ElapsedMS != tc.elapsedMS {
				t.Fatalf("elapsed %d ms, want %d", s.ElapsedMS, tc.elapsedMS)
			}
			if s.ItemsPerSec != tc.itemsPerS {
				t.Fatalf("items/s %v, want %v", s.ItemsPerSec, tc.itemsPerS)
			}
			if (s.ETAMS == nil) != (tc.etaMS == nil) || (s.ETAMS != nil && *s.ETAMS != *tc.etaMS) {
				t.Fatalf("eta %v, want %v", s.ETAMS, tc.etaMS)
			}
			// The JSON has the documented state and omits what is unset.
			var m map[string]any
			if err := json.Unmarshal(Marshal(s), &m); err != nil {
				t.Fatal(err)
			}
			if m["state"] != tc.state {
				t.Fatalf("JSON state %v", m["state"])
			}
			if _, ok := m["eta_ms"]; ok != (tc.etaMS != nil) {
				t.Fatalf("eta_ms present %v", ok)
			}
			if _, ok := m["finished_at"]; ok != (tc.finished != nil) {
				t.Fatalf("finished_at present %v", ok)
			}
		})
	}
}

func TestNames(t *testing.T) {
	tests := []struct{ got, want string }{
		{ResultSubject("j0123456789abcdefghjkmn", 0), "res.j0123456789abcdefghjkmn.0"},
		{ResultSubject("j1", 7), "res.j1.7"},
		{ResultSubject("j1", 1234567890), "res.j1.1234567890"},
		{ResultFilter("j1"), "res.j1.*"},
		{ConsumerName(PriorityBatch, "digits", "1"), "batch_digits_1"},
		{ConsumerName(PrioritySync, "breast_cancer", "2"), "sync_breast_cancer_2"},
		{InferSubject(PriorityBatch, "digits", "1"), "infer.batch.digits.1"},
		{InferSubject(PrioritySync, "breast_cancer", "12"), "infer.sync.breast_cancer.12"},
		{ChunkMsgID("j1", 10), "j1.10"},
		{ModelKey("digits", "1"), "digits.1"},
		{itoa(0), "0"},
		{itoa(9), "9"},
		{itoa(10), "10"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
	// Every result subject of a job matches its filter (one token more).
	for _, c := range []int{0, 1, 99} {
		s, f := ResultSubject("j1", c), ResultFilter("j1")
		if !strings.HasPrefix(s, strings.TrimSuffix(f, "*")) || strings.Count(s, ".") != strings.Count(f, ".") {
			t.Fatalf("%q does not match %q", s, f)
		}
	}
}

// The bitset stays short: counted chunks at its front fold into
// CountedBelow, so a job of a million chunks counted in order keeps a
// record of a few bytes, and chunks counted out of order stay exact.
func TestJobRecordCountCompacts(t *testing.T) {
	const chunks = 1_000_000
	r := &JobRecord{Total: chunks, Chunks: chunks}
	rng := rand.New(rand.NewSource(1))
	window := make([]int, 0, 64) // counted out of order within a window
	for c := 0; c < chunks; c++ {
		window = append(window, c)
		if len(window) == cap(window) || c == chunks-1 {
			rng.Shuffle(len(window), func(i, j int) { window[i], window[j] = window[j], window[i] })
			for _, k := range window {
				if !r.Count(ChunkCount{Chunk: k, Done: 1}, t1) {
					t.Fatalf("chunk %d not counted", k)
				}
			}
			window = window[:0]
			if len(r.Counted) > 16 {
				t.Fatalf("bitset of %d bytes after chunk %d", len(r.Counted), c)
			}
		}
	}
	if r.Done != chunks || !r.Finished() || r.CountedBelow < chunks-8 || len(Marshal(r)) > 400 {
		t.Fatalf("done %d below %d bitset %d record %d bytes", r.Done, r.CountedBelow, len(r.Counted), len(Marshal(r)))
	}
	for _, c := range []int{0, 1, chunks / 2, chunks - 1} {
		if !r.IsCounted(c) || r.Count(ChunkCount{Chunk: c, Done: 1}, t2) {
			t.Fatalf("chunk %d counted again", c)
		}
	}
}

// Skipped items and unstored chunks are counted apart from failures, and
// the record says why each unstored chunk has no result.
func TestJobRecordSkippedAndUnstored(t *testing.T) {
	r := &JobRecord{Total: 50, Chunks: 5, ChunkSize: 10, RetentionMS: 1000}
	r.Count(ChunkCount{Chunk: 0, Done: 10, Bytes: 300}, t1)
	r.Count(ChunkCount{Chunk: 1, Failed: 10, Unstored: "results store full"}, t1)
	r.Count(ChunkCount{Chunk: 2, Failed: 10, Unstored: "results store full"}, t1)
	r.Count(ChunkCount{Chunk: 4, Skipped: 10, Unstored: "job cancelled", UnstoredSkipped: true}, t1)
	if r.Finished() {
		t.Fatal("finished with chunk 3 not counted")
	}
	r.Count(ChunkCount{Chunk: 3, Skipped: 10, Unstored: "job cancelled", UnstoredSkipped: true}, t2)
	if !r.Finished() || r.FinishedAt == nil || !r.FinishedAt.Equal(t2) || !r.ExpiresAt.Equal(t2.Add(time.Second)) {
		t.Fatalf("finish: %+v", r)
	}
	if r.Done != 10 || r.Failed != 20 || r.Skipped != 20 || r.ResultBytes != 300 || len(r.Unstored) != 2 {
		t.Fatalf("counts %+v", r)
	}
	for c, want := range []struct {
		reason  string
		skipped bool
	}{{"", false}, {"results store full", false}, {"results store full", false}, {"job cancelled", true}, {"job cancelled", true}} {
		if reason, skipped := r.UnstoredReason(c); reason != want.reason || skipped != want.skipped {
			t.Fatalf("chunk %d: %q %v", c, reason, skipped)
		}
	}
	if st := r.Status(t2); st.State != StateCompleted || st.Skipped != 20 || st.ExpiresAt == nil {
		t.Fatalf("status %+v", st)
	}
}

// An accepting job counts chunks beyond its current size and finishes only
// once its items are all read; a failed job is finished at once.
func TestJobRecordAcceptingAndFailed(t *testing.T) {
	r := &JobRecord{State: StateAccepting}
	if !r.Count(ChunkCount{Chunk: 3, Done: 2}, t1) || r.Finished() {
		t.Fatalf("accepting: %+v", r)
	}
	for c := 0; c < 3; c++ {
		r.Count(ChunkCount{Chunk: c, Done: 2}, t1)
	}
	if r.Finished() || r.FinishedAt != nil {
		t.Fatal("finished while accepting")
	}
	if !r.MarkQueued(8, 4, t2) || !r.Finished() || !r.FinishedAt.Equal(t2) || r.MarkQueued(8, 4, t2) {
		t.Fatalf("queued: %+v", r)
	}
	f := &JobRecord{State: StateQueued, Total: 10, Chunks: 1}
	if !f.Fail("too many invalid rows", t1) || !f.Finished() || f.Fail("again", t2) {
		t.Fatalf("fail: %+v", f)
	}
	if st := f.Status(t2); st.State != StateFailed || st.Error != "too many invalid rows" {
		t.Fatalf("status %+v", st)
	}
}

// Version 2 chunks carry each item's line and id, and round-trip exactly;
// version 1 chunks still decode.
func TestChunkMetaRoundTrip(t *testing.T) {
	items := []Item{{Kind: ItemTensor, Data: []byte{1, 2, 3, 4}}, {Kind: ItemInvalid, Data: []byte("bad row")}, {Kind: ItemImage, Data: []byte{9}}}
	for _, meta := range []ChunkMeta{
		{},
		{Lines: []int{2, 3, 7}},
		{IDs: []string{"a", "", "ü-7"}},
		{Lines: []int{1000000, 1000001, 1000003}, IDs: []string{"x", "y", "z"}},
	} {
		b := EncodeChunkMeta(nil, items, meta)
		got, gotMeta, err := DecodeChunkMeta(b)
		if err != nil || !itemsEqual(got, items) {
			t.Fatalf("%+v: %v %v", meta, got, err)
		}
		if fmt.Sprint(gotMeta) != fmt.Sprint(meta) {
			t.Fatalf("meta %+v, want %+v", gotMeta, meta)
		}
		if again := EncodeChunkMeta(nil, got, gotMeta); !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs")
		}
		if only, err := DecodeChunk(b); err != nil || !itemsEqual(only, items) {
			t.Fatalf("DecodeChunk: %v", err)
		}
	}
}

// A chunk's start on a worker, not its count, starts the job: its items/s
// exclude queueing, and the earliest start wins.
func TestJobRecordStartedFromWorkers(t *testing.T) {
	r := &JobRecord{Total: 20, Chunks: 2, ChunkSize: 10, CreatedAt: t0}
	r.Count(ChunkCount{Chunk: 1, Done: 10, Started: t1.Add(-time.Second)}, t1)
	r.Count(ChunkCount{Chunk: 0, Done: 10, Started: t1.Add(-2 * time.Second)}, t1)
	if !r.StartedAt.Equal(t1.Add(-2 * time.Second)) {
		t.Fatalf("started %v", r.StartedAt)
	}
	if st := r.Status(t2); st.ItemsPerSec != 10 {
		t.Fatalf("items/s %v, want 20 items in 2 s", st.ItemsPerSec)
	}
}

func TestChunkItemCount(t *testing.T) {
	items := make([]Item, 300)
	for i := range items {
		items[i] = Item{Kind: ItemTensor, Data: []byte{1, 2, 3, 4}}
	}
	for _, b := range [][]byte{EncodeChunk(nil, items), EncodeChunkMeta(nil, items, ChunkMeta{Lines: make([]int, 300)})} {
		if n, err := ChunkItemCount(b); n != 300 || err != nil {
			t.Fatalf("count %d, %v", n, err)
		}
	}
	for _, bad := range [][]byte{nil, []byte("BIC"), []byte("XXXX\x01"), {'B', 'I', 'C', 1}, {'B', 'I', 'C', 2, 0}} {
		if _, err := ChunkItemCount(bad); !errors.Is(err, ErrBadChunk) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// A tensor item whose values are all integers in [0, 255] is stored one
// byte a value and read back bit for bit; any other value keeps the item
// in float32s.
func TestTensorStoredAsBytes(t *testing.T) {
	f32 := func(vs ...float32) []byte {
		b := make([]byte, 0, 4*len(vs))
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	negZero := math.Float32frombits(0x80000000)
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name  string
		data  []byte
		bytes bool
	}{
		{"pixels", f32(0, 1, 16, 127, 128, 254, 255), true},
		{"zeros", f32(0, 0, 0, 0), true},
		{"a fraction", f32(0, 1, 2.5), false},
		{"256", f32(1, 256), false},
		{"negative", f32(3, -1), false},
		{"-0", f32(1, negZero), false},
		{"NaN", f32(nan, 1), false},
		{"+Inf", f32(float32(math.Inf(1))), false},
		{"tiny", f32(math.SmallestNonzeroFloat32), false},
		{"not whole float32s", []byte{0, 0, 128}, false},
		{"empty", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []Item{{Kind: ItemTensor, Data: tc.data}}
			b := EncodeChunk(nil, in)
			got, err := DecodeChunk(b)
			if err != nil {
				t.Fatal(err)
			}
			if isBytes := got[0].Kind == ItemTensorU8; isBytes != tc.bytes {
				t.Fatalf("stored as bytes: %v, want %v", isBytes, tc.bytes)
			}
			if !itemsEqual(got, in) {
				t.Fatalf("read back % x, want % x", got[0].Float32().Data, tc.data)
			}
			if len(tc.data)%4 == 0 {
				dst := make([]float32, len(tc.data)/4)
				if !got[0].Tensor(dst) || got[0].Values() != len(dst) {
					t.Fatal("Tensor refused the item")
				}
				for i, v := range dst {
					if math.Float32bits(v) != binary.LittleEndian.Uint32(tc.data[4*i:]) {
						t.Fatalf("value %d: %v, want bits %08x", i, v, binary.LittleEndian.Uint32(tc.data[4*i:]))
					}
				}
				if got[0].Tensor(make([]float32, len(dst)+1)) {
					t.Fatal("Tensor took a destination of another size")
				}
			}
			if re := EncodeChunk(nil, got); !bytes.Equal(re, b) {
				t.Fatal("re-encoding differs")
			}
		})
	}
	// Every byte value, and the size: a digits row (64 values) is 64 bytes.
	all := make([]float32, 256)
	for i := range all {
		all[i] = float32(i)
	}
	b := EncodeChunk(nil, []Item{{Kind: ItemTensor, Data: f32(all...)}})
	if got, err := DecodeChunk(b); err != nil || !itemsEqual(got, []Item{{Kind: ItemTensor, Data: f32(all...)}}) || len(b) > 256+8 {
		t.Fatalf("every byte: %d bytes encoded, %v", len(b), err)
	}
}

func TestChunksWorth(t *testing.T) {
	for _, tc := range []struct{ n, unit, size, want int }{
		{2, 256, 100, 2},  // smaller chunks: as many
		{2, 256, 256, 2},  // the unit itself
		{2, 256, 512, 1},  // two units' worth
		{3, 256, 512, 2},  // rounded up
		{2, 256, 1024, 1}, // at least one
		{5, 0, 1024, 5},   // no unit: unscaled
	} {
		if got := ChunksWorth(tc.n, tc.unit, tc.size); got != tc.want {
			t.Errorf("ChunksWorth(%d, %d, %d) = %d, want %d", tc.n, tc.unit, tc.size, got, tc.want)
		}
	}
}
