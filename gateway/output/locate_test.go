package output

import (
	"slices"
	"testing"
)

func TestLocate(t *testing.T) {
	starts := []int64{10, 100, 250} // a 10-byte header, then three pages
	for _, tc := range []struct {
		off  int64
		want int
	}{{0, -1}, {9, -1}, {10, 0}, {99, 0}, {100, 1}, {249, 1}, {250, 2}, {1 << 40, 2}} {
		if got := Locate(starts, tc.off); got != tc.want {
			t.Errorf("Locate(%d) = %d, want %d", tc.off, got, tc.want)
		}
	}
	if got := Locate(nil, 5); got != -1 {
		t.Errorf("no pages: %d", got)
	}
}

func TestSpans(t *testing.T) {
	lens := []int64{10, 0, 5, 20, 0, 7} // chunks 100..105 from byte 50
	for _, tc := range []struct {
		name     string
		from, to int64
		want     []int
	}{
		{"all", 0, 1000, []int{100, 102, 103, 105}},
		{"inside one", 52, 55, []int{100}},
		{"end of one to start of next", 59, 61, []int{100, 102}},
		{"empty chunks never listed", 60, 65, []int{102}},
		{"last", 91, 92, []int{105}},
		{"past the end", 92, 100, nil},
	} {
		var got []int
		for _, s := range Spans(100, 50, lens, tc.from, tc.to) {
			got = append(got, s.Chunk)
			if s.Len == 0 {
				t.Errorf("%s: empty span", tc.name)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	s := Spans(100, 50, lens, 0, 1000)
	if s[2].Start != 65 || s[3].Start != 85 {
		t.Errorf("starts %+v", s)
	}
}
