package worker

import (
	"context"
	"testing"
	"time"
)

// The chunks held follow their size: two batches' worth of items, within
// [lo, hi], lo counting chunks of up to a batch (larger ones: lo batches'
// worth, at least one); without the model's batch, always lo.
func TestFetcherFitsChunksToTwoBatches(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		lo, hi, batch, items int
		want                 int
	}{
		{"chunks of a batch", 3, 64, 256, 256, 3},
		{"one image a chunk", 3, 64, 4, 1, 8},
		{"three items a chunk", 3, 64, 4, 3, 3},
		{"small chunks, capped", 3, 64, 256, 1, 64},
		{"ten items a chunk", 3, 64, 256, 10, 52},
		{"hi below lo", 3, 1, 4, 1, 3},
		{"no batch known", 3, 64, 0, 1, 3},
		{"chunks of two batches", 3, 64, 256, 512, 2},
		{"chunks of a batch and a half", 3, 64, 256, 384, 2},
		{"chunks of four batches: never fewer than two", 3, 64, 256, 1024, 2},
		{"chunks of eight batches", 3, 64, 256, 2048, 2},
		{"one chunk when lo is one", 1, 64, 256, 1024, 1},
		{"lo batches' worth of large chunks", 12, 64, 256, 1024, 3},
		{"large chunks, no batch known", 3, 64, 0, 1024, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFetcher(nil, tc.lo, tc.hi, tc.batch, nil, nil, nil)
			f.fit(tc.items)
			if n, ok := f.reserve(context.Background()); !ok || n != tc.want {
				t.Fatalf("reserved %d, want %d", n, tc.want)
			}
		})
	}
}

// A fetcher holding more than its limit (its chunks grew) takes no more
// until enough come back; one whose limit grew takes the difference at once.
func TestFetcherLimitFollowsChunks(t *testing.T) {
	f := newFetcher(nil, 3, 64, 4, nil, nil, nil)
	mustReserve := func(want int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if n, ok := f.reserve(ctx); !ok || n != want {
			t.Fatalf("reserved %d (%v), want %d", n, ok, want)
		}
	}
	blocked := func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, ok := f.reserve(ctx)
		return !ok
	}
	mustReserve(3)
	if !blocked() {
		t.Fatal("reserved past the limit")
	}
	f.fit(1) // one item a chunk: 8 held
	mustReserve(5)
	f.fit(4) // a batch a chunk: back to 3, with 8 held
	for range 5 {
		f.release()
	}
	if !blocked() {
		t.Fatal("reserved with 3 held of 3")
	}
	f.release()
	mustReserve(1)
}

// A draining fetcher reserves nothing, free slots or not: its run ends.
func TestFetcherReservesNothingOnceDraining(t *testing.T) {
	f := newFetcher(nil, 3, 64, 4, nil, nil, nil)
	f.drain()
	if n, ok := f.reserve(context.Background()); ok {
		t.Fatalf("reserved %d while draining", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, ok := newFetcher(nil, 3, 64, 4, nil, nil, nil).reserve(ctx); ok {
		t.Fatalf("reserved %d after ctx ended", n)
	}
}
