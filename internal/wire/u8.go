package wire

import (
	"encoding/binary"
	"math"
)

// u8Float is the little-endian float32 bits of each integer in [0, 255].
var u8Float = func() (t [256]uint32) {
	for i := range t {
		t[i] = math.Float32bits(float32(i))
	}
	return t
}()

// fitsU8 reports whether v, float32 bits, are exactly those of an integer
// in [0, 255] (+0, not -0; no NaN), and gives that byte. Whatever a float
// out of range converts to, only a byte's own bits match its table entry.
func fitsU8(v uint32) (byte, bool) {
	b := uint8(math.Float32frombits(v))
	return b, u8Float[b] == v
}

// bytesFit reports whether every little-endian float32 of data fits one
// byte (fitsU8).
func bytesFit(data []byte) bool {
	if len(data) == 0 || len(data)%4 != 0 {
		return false
	}
	for i := 0; i < len(data); i += 4 {
		if _, ok := fitsU8(binary.LittleEndian.Uint32(data[i:])); !ok {
			return false
		}
	}
	return true
}

// NarrowU8 turns data, little-endian float32 values, into their one-byte
// form in place when every value fits it (an ItemTensorU8's Data: the
// first len(data)/4 bytes of data). When one does not fit (or data is
// empty or not whole values), data is left as it was and ok is false. One
// pass, no allocation: the gateway narrows a decoded image as it reads it.
func NarrowU8(data []byte) (out []byte, ok bool) {
	if len(data) == 0 || len(data)%4 != 0 {
		return nil, false
	}
	j := 0
	// Byte j is written after value j is read, and value j+1 starts at
	// 4j+4 > j: nothing is overwritten before it is read.
	for i := 0; i+4 <= len(data); i += 4 {
		b, fits := fitsU8(binary.LittleEndian.Uint32(data[i : i+4]))
		if !fits {
			widen(data, j)
			return nil, false
		}
		data[j] = b
		j++
	}
	return data[:j], true
}

// widen puts back the float32 form of the first k values of data, which
// NarrowU8 had written as bytes. It goes from the last down: value j's 4
// bytes start at 4j, past every byte j' < j still to be read.
func widen(data []byte, k int) {
	for j := k - 1; j >= 0; j-- {
		binary.LittleEndian.PutUint32(data[4*j:], u8Float[data[j]])
	}
}

// PackU8 writes the one-byte form of vals into dst (len(vals) bytes) and
// reports whether every value fits it; when one does not, dst holds
// nothing usable.
func PackU8(dst []byte, vals []float32) bool {
	if len(vals) == 0 || len(dst) < len(vals) {
		return false
	}
	for i, v := range vals {
		b, ok := fitsU8(math.Float32bits(v))
		if !ok {
			return false
		}
		dst[i] = b
	}
	return true
}
