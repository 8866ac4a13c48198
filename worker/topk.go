package worker

import (
	"slices"

	"batchinfer/internal/wire"
	"batchinfer/model"
)

// itemResult turns one output row into an ItemResult. Its class, top
// classes and probabilities are carved from room (nil: allocated).
func itemResult(meta *model.Metadata, index int, probs []float32, room *resultRoom) wire.ItemResult {
	k := meta.TopK
	if k <= 0 || k > len(probs) {
		k = min(len(probs), 5)
	}
	top := room.classes(k)
	if !selectTop(probs, top) {
		sortTop(probs, top)
	}
	for i := range top {
		top[i].Label = label(meta, top[i].Class)
	}
	best := room.int(top[0].Class)
	r := wire.ItemResult{Index: index, Label: top[0].Label, Class: best, Score: probs[*best], Top: top}
	if len(probs) <= wire.MaxProbabilities {
		r.Probabilities = room.floats(len(probs))
		copy(r.Probabilities, probs)
	}
	return r
}

// selectTop fills top with the len(top) highest classes of probs, highest
// first, a lower class first among equal scores: the order of a stable
// sort by descending score, found in len(top) passes over probs (top-k of
// a few, not a sort of every class). With a NaN among probs, whose place
// in that sort depends on the sort itself, it gives up: false.
func selectTop(probs []float32, top []wire.Class) bool {
	prev, prevClass := float32(0), -1
	for i := range top {
		c := -1
		for j, p := range probs {
			if p != p {
				return false // NaN
			}
			if i > 0 && !(p < prev || p == prev && j > prevClass) {
				continue // taken already
			}
			if c < 0 || p > probs[c] {
				c = j
			}
		}
		top[i] = wire.Class{Class: c, Score: probs[c]}
		prev, prevClass = probs[c], c
	}
	return true
}

// sortTop is selectTop by a stable sort of every class (any probs).
func sortTop(probs []float32, top []wire.Class) {
	order := make([]int, len(probs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case probs[a] > probs[b]:
			return -1
		case probs[a] < probs[b]:
			return 1
		}
		return 0
	})
	for i := range top {
		top[i] = wire.Class{Class: order[i], Score: probs[order[i]]}
	}
}

func label(meta *model.Metadata, c int) string {
	if c < len(meta.Labels) {
		return meta.Labels[c]
	}
	return ""
}

// resultRoom is room for the parts of a chunk's item results, allocated a
// chunk at a time instead of a few times per item: each part is carved for
// one item (capacity = length: an append never reaches the next item's),
// and the blocks live while any result in them does.
type resultRoom struct {
	items int // items the next blocks are for
	ints  []int
	tops  []wire.Class
	vals  []float32
}

// newResultRoom returns room for the results of items items.
func newResultRoom(items int) *resultRoom { return &resultRoom{items: max(items, 1)} }

func (r *resultRoom) int(v int) *int {
	if r == nil {
		p := new(int)
		*p = v
		return p
	}
	if len(r.ints) == 0 {
		r.ints = make([]int, r.items)
	}
	p := &r.ints[0]
	*p, r.ints = v, r.ints[1:]
	return p
}

func (r *resultRoom) classes(n int) []wire.Class {
	if r == nil {
		return make([]wire.Class, n)
	}
	if len(r.tops) < n {
		r.tops = make([]wire.Class, n*r.items)
	}
	s := r.tops[:n:n]
	r.tops = r.tops[n:]
	return s
}

func (r *resultRoom) floats(n int) []float32 {
	if r == nil {
		return make([]float32, n)
	}
	if len(r.vals) < n {
		r.vals = make([]float32, n*r.items)
	}
	s := r.vals[:n:n]
	r.vals = r.vals[n:]
	return s
}
