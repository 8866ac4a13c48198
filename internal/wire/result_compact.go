package wire

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

// A chunk result is stored in the results stream in a compact binary form
// (AppendCompact) and rendered to the JSON clients see (AppendJSON's bytes,
// exactly) where it is read: ResultJSON. Scores and probabilities are kept
// as their float32 bits, so nothing is formatted until a client reads them,
// and a digits item takes ~60 bytes instead of ~350. Results stored as JSON
// (before this form, or by a worker told to) are read as they are.
//
// The form, after resultMagic (integers are varints, unsigned ones
// uvarints; a string is its uvarint length and its bytes):
//
//	job, chunk, start, done, failed, skipped, redrive (uvarint), worker
//	items+1 (uvarint; 0: Items is nil)
//	labels: a count, then each distinct label of the chunk once
//	each item: flags (uvarint), then what they say is there, in this order:
//	  index (only when it is not start + its position), label (its number
//	  in labels), class, probabilities (a count, then 4 bytes each), score
//	  (4 bytes, none when it is probabilities[class]), top (a count, then
//	  per class: label number, class, 1 when its score is
//	  probabilities[class] or 0 and 4 bytes), error, line, id.
var resultMagic = [4]byte{'B', 'I', 'R', 1}

// Item flags of the compact form.
const (
	cfLabel = 1 << iota
	cfClass
	cfScore
	cfTop
	cfProbs
	cfError
	cfSkipped
	cfLine
	cfID
	cfIndex
	cfScoreRef // the score is probabilities[class], not written again
)

// ErrBadResult is stored result data that is neither JSON nor the compact form.
var ErrBadResult = errors.New("wire: malformed stored result")

// IsCompactResult reports whether data is a result in the compact form.
func IsCompactResult(data []byte) bool {
	return len(data) >= len(resultMagic) && [4]byte(data[:4]) == resultMagic
}

// AppendCompact appends c in the compact form.
func (c *ChunkResult) AppendCompact(b []byte) []byte {
	b = append(b, resultMagic[:]...)
	b = appendCStr(b, c.Job)
	for _, v := range [...]int{c.Chunk, c.Start, c.Done, c.Failed, c.Skipped} {
		b = binary.AppendVarint(b, int64(v))
	}
	b = binary.AppendUvarint(b, c.Redrive)
	b = appendCStr(b, c.Worker)
	if c.Items == nil {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(c.Items))+1)
	labels := labelTable(c.Items)
	b = binary.AppendUvarint(b, uint64(len(labels.names)))
	for _, l := range labels.names {
		b = appendCStr(b, l)
	}
	for i := range c.Items {
		b = c.Items[i].appendCompact(b, c.Start+i, labels)
	}
	return b
}

// labels numbers the distinct labels of a chunk's items.
type labels struct {
	names []string
	index map[string]int
	last  string // the label found last, and its number: most are repeats
	lastN int
}

func labelTable(items []ItemResult) *labels {
	t := &labels{index: map[string]int{}, lastN: -1}
	for i := range items {
		if items[i].Label != "" { // none written; a top class's always is
			t.add(items[i].Label)
		}
		for _, c := range items[i].Top {
			t.add(c.Label)
		}
	}
	return t
}

func (t *labels) add(l string) {
	if _, ok := t.index[l]; !ok {
		t.index[l] = len(t.names)
		t.names = append(t.names, l)
	}
}

func (t *labels) number(l string) uint64 {
	if t.lastN < 0 || l != t.last {
		t.last, t.lastN = l, t.index[l]
	}
	return uint64(t.lastN)
}

func (r *ItemResult) appendCompact(b []byte, index int, t *labels) []byte {
	flags := r.compactFlags(index)
	b = binary.AppendUvarint(b, uint64(flags))
	if flags&cfIndex != 0 {
		b = binary.AppendVarint(b, int64(r.Index))
	}
	if flags&cfLabel != 0 {
		b = binary.AppendUvarint(b, t.number(r.Label))
	}
	if flags&cfClass != 0 {
		b = binary.AppendVarint(b, int64(*r.Class))
	}
	if flags&cfProbs != 0 {
		b = binary.AppendUvarint(b, uint64(len(r.Probabilities)))
		for _, p := range r.Probabilities {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(p))
		}
	}
	if flags&cfScore != 0 {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(r.Score))
	}
	if flags&cfTop != 0 {
		b = binary.AppendUvarint(b, uint64(len(r.Top)))
		for _, c := range r.Top {
			b = binary.AppendUvarint(b, t.number(c.Label))
			b = binary.AppendVarint(b, int64(c.Class))
			if r.isProb(c.Class, c.Score) {
				b = append(b, 1)
			} else {
				b = binary.LittleEndian.AppendUint32(append(b, 0), math.Float32bits(c.Score))
			}
		}
	}
	if flags&cfError != 0 {
		b = appendCStr(b, r.Error)
	}
	if flags&cfLine != 0 {
		b = binary.AppendVarint(b, int64(r.Line))
	}
	if flags&cfID != 0 {
		b = appendCStr(b, r.ID)
	}
	return b
}

// compactFlags says what r holds; index is the one its position gives.
func (r *ItemResult) compactFlags(index int) uint {
	var f uint
	set := func(bit uint, on bool) {
		if on {
			f |= bit
		}
	}
	set(cfIndex, r.Index != index)
	set(cfLabel, r.Label != "")
	set(cfClass, r.Class != nil)
	set(cfProbs, len(r.Probabilities) > 0)
	if r.Score != 0 { // as AppendJSON: a zero score is not written
		if r.Class != nil && r.isProb(*r.Class, r.Score) {
			f |= cfScoreRef
		} else {
			f |= cfScore
		}
	}
	set(cfTop, len(r.Top) > 0)
	set(cfError, r.Error != "")
	set(cfSkipped, r.Skipped)
	set(cfLine, r.Line != 0)
	set(cfID, r.ID != "")
	return f
}

// isProb reports whether score is, bit for bit, the probability of class.
func (r *ItemResult) isProb(class int, score float32) bool {
	return class >= 0 && class < len(r.Probabilities) && math.Float32bits(r.Probabilities[class]) == math.Float32bits(score)
}

func appendCStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// ResultJSON returns a stored result as JSON: the compact form rendered
// (AppendJSON's bytes), anything else (JSON) as it is stored.
func ResultJSON(data []byte) ([]byte, error) {
	if !IsCompactResult(data) {
		return data, nil
	}
	return AppendCompactJSON(make([]byte, 0, 6*len(data)), data)
}

// AppendCompactJSON appends the JSON of a result in the compact form.
func AppendCompactJSON(b, data []byte) ([]byte, error) {
	n, list := 0, false
	err := walkCompact(data, func(c *ChunkResult, items bool) {
		b, list = c.appendHead(b), items
		if items {
			b = append(b, '[')
		} else {
			b = append(b, "null"...)
		}
	}, func(it *ItemResult) error {
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = it.appendJSON(b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if list {
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// eachCompactItem is EachItem for the compact form.
func eachCompactItem(data []byte, f func(item []byte) error) error {
	buf := make([]byte, 0, 512)
	return EachCompactResult(data, func(it *ItemResult) error {
		buf = it.appendJSON(buf[:0])
		return f(buf)
	})
}

// EachCompactResult calls f with each item of a result in the compact
// form, decoded into an ItemResult that f must not keep (it is reused):
// what renders items in other forms than JSON (CSV) reads them without
// JSON in between.
func EachCompactResult(data []byte, f func(*ItemResult) error) error {
	return walkCompact(data, func(*ChunkResult, bool) {}, f)
}

// DecodeResult decodes a stored result, in either form.
func DecodeResult(data []byte) (*ChunkResult, error) {
	var c ChunkResult
	if !IsCompactResult(data) {
		if err := json.Unmarshal(data, &c); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadResult, err)
		}
		return &c, nil
	}
	err := walkCompact(data, func(h *ChunkResult, items bool) {
		c = *h
		if items {
			c.Items = []ItemResult{}
		}
	}, func(it *ItemResult) error {
		c.Items = append(c.Items, it.clone())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// clone is a copy of it that shares nothing with it (the walk reuses it).
func (it *ItemResult) clone() ItemResult {
	out := *it
	out.Top, out.Probabilities = nil, nil
	if len(it.Top) > 0 {
		out.Top = slices.Clone(it.Top)
	}
	if len(it.Probabilities) > 0 {
		out.Probabilities = slices.Clone(it.Probabilities)
	}
	if it.Class != nil {
		class := *it.Class
		out.Class = &class
	}
	return out
}

// walkCompact reads a result in the compact form: head gets its fields
// (Items not set; items false when Items is nil), then f each item,
// decoded into one ItemResult reused from item to item.
func walkCompact(data []byte, head func(c *ChunkResult, items bool), f func(*ItemResult) error) error {
	if !IsCompactResult(data) {
		return ErrBadResult
	}
	d := compactReader{data: data, pos: len(resultMagic)}
	var c ChunkResult
	n, items := d.head(&c)
	var t []string
	if items {
		t = d.labels()
	}
	if d.err != nil {
		return d.err
	}
	head(&c, items)
	var it ItemResult
	var class int
	for i := 0; i < n; i++ {
		it = ItemResult{Top: it.Top[:0], Probabilities: it.Probabilities[:0]}
		d.item(&it, c.Start+i, t, &class)
		if d.err != nil {
			return d.err
		}
		if err := f(&it); err != nil {
			return err
		}
	}
	return d.end()
}

// compactReader reads the compact form; its first error sticks, and every
// count is checked against the bytes left before anything is allocated.
type compactReader struct {
	data []byte
	pos  int
	err  error
}

func (d *compactReader) fail() {
	if d.err == nil {
		d.err = ErrBadResult
	}
}

func (d *compactReader) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.data[d.pos:])
	if n <= 0 {
		d.fail()
		return 0
	}
	d.pos += n
	return v
}

func (d *compactReader) varint() int {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.data[d.pos:])
	if n <= 0 || v != int64(int(v)) {
		d.fail()
		return 0
	}
	d.pos += n
	return int(v)
}

// count reads a count of things of at least size bytes each.
func (d *compactReader) count(size int) int {
	v := d.uvarint()
	if v > uint64(len(d.data)-d.pos)/uint64(size) {
		d.fail()
		return 0
	}
	return int(v)
}

func (d *compactReader) bytes(n int) []byte {
	if d.err != nil || n > len(d.data)-d.pos {
		d.fail()
		return nil
	}
	b := d.data[d.pos : d.pos+n]
	d.pos += n
	return b
}

func (d *compactReader) str() string { return string(d.bytes(d.count(1))) }

func (d *compactReader) f32() float32 {
	b := d.bytes(4)
	if b == nil {
		return 0
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(b))
}

// head reads the chunk's fields into c, and its item count; items is
// false when Items is nil.
func (d *compactReader) head(c *ChunkResult) (n int, items bool) {
	c.Job = d.str()
	c.Chunk, c.Start, c.Done, c.Failed, c.Skipped = d.varint(), d.varint(), d.varint(), d.varint(), d.varint()
	c.Redrive = d.uvarint()
	c.Worker = d.str()
	n = d.count(1) // the items' count + 1; 0: Items is nil
	return max(n-1, 0), n > 0
}

func (d *compactReader) labels() []string {
	t := make([]string, d.count(1))
	for i := range t {
		t[i] = d.str()
	}
	return t
}

func (d *compactReader) label(t []string) string {
	i := d.uvarint()
	if i >= uint64(len(t)) {
		d.fail()
		return ""
	}
	return t[i]
}

// item reads one item into it (whose Top and Probabilities it appends
// to); index is the one its position gives, class where its class goes.
func (d *compactReader) item(it *ItemResult, index int, t []string, class *int) {
	f := d.uvarint()
	it.Index = index
	if f&cfIndex != 0 {
		it.Index = d.varint()
	}
	if f&cfLabel != 0 {
		it.Label = d.label(t)
	}
	if f&cfClass != 0 {
		*class = d.varint()
		it.Class = class
	}
	if f&cfProbs != 0 {
		n := d.count(4)
		for range n {
			it.Probabilities = append(it.Probabilities, d.f32())
		}
	}
	switch {
	case f&cfScoreRef != 0 && it.Class != nil:
		it.Score = d.prob(it, *it.Class)
	case f&cfScoreRef != 0:
		d.fail()
	case f&cfScore != 0:
		it.Score = d.f32()
	}
	if f&cfTop != 0 {
		d.top(it, t)
	}
	if f&cfError != 0 {
		it.Error = d.str()
	}
	it.Skipped = f&cfSkipped != 0
	if f&cfLine != 0 {
		it.Line = d.varint()
	}
	if f&cfID != 0 {
		it.ID = d.str()
	}
}

func (d *compactReader) top(it *ItemResult, t []string) {
	n := d.count(3)
	for range n {
		c := Class{Label: d.label(t), Class: d.varint()}
		switch ref := d.bytes(1); {
		case ref == nil:
		case ref[0] == 1:
			c.Score = d.prob(it, c.Class)
		case ref[0] == 0:
			c.Score = d.f32()
		default:
			d.fail()
		}
		it.Top = append(it.Top, c)
	}
}

// prob is probability class of it, which the form refers to.
func (d *compactReader) prob(it *ItemResult, class int) float32 {
	if class < 0 || class >= len(it.Probabilities) {
		d.fail()
		return 0
	}
	return it.Probabilities[class]
}

// end checks that nothing follows the last item.
func (d *compactReader) end() error {
	if d.err == nil && d.pos != len(d.data) {
		d.fail()
	}
	return d.err
}
