package oip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// fromBinary converts the little-endian elements of src, of datatype num,
// to little-endian float32 values appended to dst.
func fromBinary(num numeric, src, dst []byte) ([]byte, error) {
	if num.fp32 {
		return append(dst, src...), nil
	}
	w := num.width
	for i := 0; i+w <= len(src); i += w {
		v, err := num.binary(src[i : i+w])
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i/w, err)
		}
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
	}
	return dst, nil
}

// jsonTensor reads the JSON data of a tensor: an array of numbers, flat or
// nested exactly to shape, in row-major order. Its walk is bounded by the
// shape: never deeper than its rank, never more elements than its size.
type jsonTensor struct {
	b     []byte
	i     int
	num   numeric
	shape []int64
	want  int // elements the shape holds
	n     int // elements read
	dst   []byte
}

// fromJSON converts data, for a tensor of shape (whose size is want
// elements), to little-endian float32 values appended to dst.
func fromJSON(num numeric, data []byte, shape []int64, want int, dst []byte) ([]byte, error) {
	t := &jsonTensor{b: data, num: num, shape: shape, want: want, dst: dst}
	t.ws()
	if err := t.array(0); err != nil {
		return nil, err
	}
	t.ws()
	if t.i != len(t.b) {
		return nil, fmt.Errorf("unexpected %q after the data array", t.b[t.i])
	}
	if t.n != want {
		return nil, fmt.Errorf("%d values where the shape %v holds %d", t.n, shape, want)
	}
	return t.dst, nil
}

// array reads one array at depth: of arrays (one per index of that
// dimension) or of numbers (all of them, flat, at depth 0; the innermost
// dimension's, deeper).
func (t *jsonTensor) array(depth int) error {
	if err := t.expect('['); err != nil {
		return err
	}
	count, nested := 0, false
	t.ws()
	if t.peek(']') {
		t.i++
	} else {
		for more := true; more; count++ {
			isArray := t.peek('[')
			if count > 0 && isArray != nested {
				return errors.New("an array mixes numbers and arrays")
			}
			nested = isArray
			if err := t.element(depth, isArray); err != nil {
				return err
			}
			var err error
			if more, err = t.next(); err != nil {
				return err
			}
		}
	}
	if (nested || depth > 0) && int64(count) != t.shape[depth] {
		return fmt.Errorf("nested data does not match the shape %v: %d elements at depth %d where it has %d", t.shape, count, depth, t.shape[depth])
	}
	return nil
}

func (t *jsonTensor) peek(c byte) bool {
	t.ws()
	return t.i < len(t.b) && t.b[t.i] == c
}

// next reads what follows an element: a comma (more: true) or the end of
// the array.
func (t *jsonTensor) next() (more bool, err error) {
	if t.peek(',') {
		t.i++
		return true, nil
	}
	return false, t.expect(']')
}

// element reads one element of an array at depth: a nested array or a
// number.
func (t *jsonTensor) element(depth int, isArray bool) error {
	if isArray {
		if depth+1 >= len(t.shape) {
			return fmt.Errorf("data nested deeper than the shape %v", t.shape)
		}
		return t.array(depth + 1)
	}
	if depth != 0 && depth != len(t.shape)-1 {
		return fmt.Errorf("nested data does not match the shape %v: numbers at depth %d", t.shape, depth)
	}
	return t.number()
}

func (t *jsonTensor) number() error {
	start := t.i
	for t.i < len(t.b) && isNumChar(t.b[t.i]) {
		t.i++
	}
	if start == t.i {
		if t.i >= len(t.b) {
			return errors.New("the data ends inside an array")
		}
		return fmt.Errorf("value %d: unexpected %q: values must be numbers", t.n, t.b[t.i])
	}
	if t.n >= t.want {
		return fmt.Errorf("more values than the shape %v holds (%d)", t.shape, t.want)
	}
	v, err := t.num.json(unsafe.String(&t.b[start], t.i-start))
	if err != nil {
		return fmt.Errorf("value %d: %w", t.n, err)
	}
	t.dst = binary.LittleEndian.AppendUint32(t.dst, math.Float32bits(v))
	t.n++
	return nil
}

func (t *jsonTensor) ws() {
	for t.i < len(t.b) && (t.b[t.i] == ' ' || t.b[t.i] == '\t' || t.b[t.i] == '\n' || t.b[t.i] == '\r') {
		t.i++
	}
}

func (t *jsonTensor) expect(c byte) error {
	t.ws()
	if t.i >= len(t.b) {
		return fmt.Errorf("the data ends where %q was expected", c)
	}
	if t.b[t.i] != c {
		return fmt.Errorf("unexpected %q at offset %d of the data, expected %q", t.b[t.i], t.i, c)
	}
	t.i++
	return nil
}

func isNumChar(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}
