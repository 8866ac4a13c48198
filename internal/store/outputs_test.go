package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"batchinfer/internal/wire"
)

// Indexes and pages read back as written; a job's purge takes all its keys
// and no other job's.
func TestOutputsIndexPagesAndPurge(t *testing.T) {
	in := open(t)
	ctx := context.Background()
	o := NewOutputs(in.JS, in.Buckets.Outputs)
	if idx, err := o.Index(ctx, "j1", "output.csv"); idx != nil || err != nil {
		t.Fatalf("no index yet: %+v %v", idx, err)
	}
	lens := []int64{0, 1, 127, 128, 300, 1 << 20, 1 << 40}
	for _, job := range []string{"j1", "j2"} {
		for _, file := range []string{"output.csv", "errors.ndjson"} {
			if err := o.PutPage(ctx, job, file, 0, lens); err != nil {
				t.Fatal(err)
			}
			if err := o.PutPage(ctx, job, file, 1, lens[:2]); err != nil {
				t.Fatal(err)
			}
			idx := &wire.OutputIndex{Job: job, File: file, Basis: "b", Size: 99, Chunks: 9, PageChunks: 7, PageStarts: []int64{3, 50}, BuiltAt: time.Now().UTC()}
			if err := o.PutIndex(ctx, idx); err != nil {
				t.Fatal(err)
			}
		}
	}
	idx, err := o.Index(ctx, "j1", "output.csv")
	if err != nil || idx.Size != 99 || idx.PageChunks != 7 || !slices.Equal(idx.PageStarts, []int64{3, 50}) {
		t.Fatalf("index %+v %v", idx, err)
	}
	if got, err := o.Page(ctx, "j1", "output.csv", 0); err != nil || !slices.Equal(got, lens) {
		t.Fatalf("page %v %v, want %v", got, err, lens)
	}
	if err := o.DropIndex(ctx, "j1", "output.csv"); err != nil {
		t.Fatal(err)
	}
	if idx, err := o.Index(ctx, "j1", "output.csv"); idx != nil || err != nil {
		t.Fatalf("dropped index: %+v %v", idx, err)
	}
	if err := o.Purge(ctx, "j1"); err != nil {
		t.Fatal(err)
	}
	if n, err := o.Entries(ctx); err != nil || n != 6 {
		t.Fatalf("%d entries after purging j1 (%v), want j2's 6", n, err)
	}
	if _, err := o.Page(ctx, "j1", "errors.ndjson", 0); err == nil {
		t.Fatal("a purged page reads")
	}
	if got, err := o.Page(ctx, "j2", "errors.ndjson", 1); err != nil || !slices.Equal(got, lens[:2]) {
		t.Fatalf("j2 after purging j1: %v %v", got, err)
	}
	if _, err := decodeLengths([]byte{0x80}); err == nil {
		t.Fatal("a truncated varint decodes")
	}
}

// Settled gives a failed job's chunk never counted as skipped with the
// job's error, and refuses to guess a counted chunk it cannot read.
func TestResultsSettled(t *testing.T) {
	in := open(t)
	ctx := context.Background()
	r := NewResults(in.JS, in.Results)
	rec := &wire.JobRecord{ID: "j1", Total: 25, Chunks: 3, ChunkSize: 10, State: wire.StateFailed, Error: "too many invalid rows", CountedBelow: 1}
	data, err := r.Settled(ctx, rec, 2)
	if err != nil {
		t.Fatal(err)
	}
	var items []string
	_ = wire.EachItem(data, func(it []byte) error { items = append(items, string(it)); return nil })
	if len(items) != 5 || items[0] != `{"index":20,"error":"too many invalid rows","skipped":true}` {
		t.Fatalf("%q", items)
	}
	if _, err := r.Settled(ctx, rec, 0); !errors.Is(err, ErrResultUnreadable) {
		t.Fatalf("a counted chunk without a result: %v", err)
	}
}
