package output

import "sort"

// Locate finds byte offset off of a file in its index: the page whose
// chunks hold it (starts are the pages' first offsets, ascending), or -1
// for an offset in the header (before the first page).
func Locate(starts []int64, off int64) int {
	return sort.Search(len(starts), func(i int) bool { return starts[i] > off }) - 1
}

// Span is a chunk's bytes in a file: [Start, Start+Len).
type Span struct {
	Chunk int
	Start int64
	Len   int64
}

// Spans lists the chunks of a page (first chunk first, starting at byte
// start, of lengths lens) that hold bytes of [from, to), skipping those
// that render to nothing.
func Spans(first int, start int64, lens []int64, from, to int64) []Span {
	var out []Span
	for i, n := range lens {
		if start >= to {
			break
		}
		if n > 0 && start+n > from {
			out = append(out, Span{Chunk: first + i, Start: start, Len: n})
		}
		start += n
	}
	return out
}
