package service

import (
	"strings"
	"testing"
	"time"
)

func TestJobID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := newJobID()
		if len(id) != 23 {
			t.Fatalf("id %q has %d chars", id, len(id))
		}
		if !validJobID(id) {
			t.Fatalf("newJobID gave an invalid id %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestJobIDSortsByTime(t *testing.T) {
	first := newJobID()
	var later string
	deadline := time.Now().Add(5 * time.Second)
	for {
		later = newJobID()
		if later[:11] != first[:11] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the millisecond never changed")
		}
	}
	if !(first < later) {
		t.Fatalf("%q made before %q does not sort first", first, later)
	}
	// The time prefix decodes back to a millisecond timestamp close to now.
	var ms uint64
	for i := 1; i <= 10; i++ {
		ms = ms<<5 | uint64(strings.IndexByte(jobIDAlphabet, later[i]))
	}
	if d := time.Since(time.UnixMilli(int64(ms))); d < -time.Second || d > time.Minute { // ids made faster than 2^20 a millisecond borrow the next one
		t.Fatalf("time prefix %q decodes to %v, %v from now", later[:11], time.UnixMilli(int64(ms)), d)
	}
}

func TestValidJobID(t *testing.T) {
	good := "j" + strings.Repeat("0", 10) + "abcdefghjkmn"
	if !validJobID(good) {
		t.Fatalf("%q rejected", good)
	}
	tests := []struct{ name, id string }{
		{"empty", ""},
		{"short", good[:22]},
		{"long", good + "0"},
		{"wrong prefix", "k" + good[1:]},
		{"upper case", strings.ToUpper(good)},
		{"excluded letter i", good[:22] + "i"},
		{"excluded letter l", good[:22] + "l"},
		{"excluded letter o", good[:22] + "o"},
		{"excluded letter u", good[:22] + "u"},
		{"dot", good[:22] + "."},
		{"path traversal", "j../../../../etc/passwd"},
		{"encoded traversal", "j..%2f..%2f..%2fpasswd0"},
		{"slash", "j0000000000/bcdefghjkmn"},
		{"wildcard", "j0000000000*bcdefghjkmn"},
		{"nats token separator", "j0000000000.bcdefghjkmn"},
		{"nul byte", "j0000000000\x00bcdefghjkmn"},
		{"space", "j0000000000 bcdefghjkmn"},
		{"non-ascii", "j000000000\u00e9bcdefghjkm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if validJobID(tc.id) {
				t.Fatalf("%q accepted", tc.id)
			}
		})
	}
}

// Ids made in one millisecond still sort by creation (job listings are
// newest first).
func TestJobIDMonotonic(t *testing.T) {
	prev := newJobID()
	for range 20_000 {
		id := newJobID()
		if id <= prev || !validJobID(id) {
			t.Fatalf("%s after %s", id, prev)
		}
		prev = id
	}
}

// Ids of the same millisecond are not consecutive: knowing one job's id
// says next to nothing about the next one's.
func TestJobIDNotGuessable(t *testing.T) {
	random := func(id string) (v uint64) {
		for i := 11; i < 23; i++ {
			v = v<<5 | uint64(strings.IndexByte(jobIDAlphabet, id[i]))
		}
		return v
	}
	small := 0
	for range 1000 {
		a, b := newJobID(), newJobID()
		if a[:11] != b[:11] {
			continue // a new millisecond: b's random part is drawn whole
		}
		if d := random(b) - random(a); d < 1<<20 {
			small++
		}
	}
	if small > 1 {
		t.Fatalf("%d of 1000 ids followed the previous one within 2^20", small)
	}
}
