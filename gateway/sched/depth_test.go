package sched

import "testing"

// The queue counts chunks of up to QueueUnit items; of larger chunks it
// holds that many units' worth, at least one.
func TestQueueDepth(t *testing.T) {
	for _, tc := range []struct{ chunks, size, want int }{
		{2, 256, 2},
		{2, 8, 2},
		{2, 1, 2},
		{2, 384, 2},
		{2, 512, 1},
		{2, 1024, 1},
		{8, 512, 4},
		{8, 1000, 3},
		{1, 4096, 1},
	} {
		if got := queueDepth(tc.chunks, tc.size); got != tc.want {
			t.Errorf("queueDepth(%d, %d) = %d, want %d", tc.chunks, tc.size, got, tc.want)
		}
	}
}
