package oip

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// Datatypes of the protocol that this package writes.
const (
	FP32  = "FP32"
	INT64 = "INT64"
	BYTES = "BYTES"
	UINT8 = "UINT8"
)

// maxExact is the largest integer magnitude a float32 holds exactly (2^24).
const maxExact = 1 << 24

// numeric is a datatype whose elements become float32 inputs: its width in
// bytes, how one little-endian element reads, and how one JSON number does.
type numeric struct {
	width  int
	binary func(b []byte) (float32, error)
	json   func(tok string) (float32, error)
	// fp32: the elements already are little-endian float32 values.
	fp32 bool
}

// numerics are the datatypes an input may have. FP32 is the models'; FP16
// and BF16 widen exactly; FP64 rounds to the nearest float32 (as a .npy of
// float64 does on /v1) and must be within its range; integers must be
// within ±2^24, where float32 holds them exactly. BOOL and BYTES are not
// numbers a model here takes.
var numerics = map[string]numeric{
	"FP32":   {4, fp32, parseFP32, true},
	"FP16":   {2, fp16, parseFP32, false},
	"BF16":   {2, bf16, parseFP32, false},
	"FP64":   {8, fp64, parseFP64, false},
	"INT8":   {1, func(b []byte) (float32, error) { return float32(int8(b[0])), nil }, intParser(math.MinInt8, math.MaxInt8), false},
	"INT16":  {2, func(b []byte) (float32, error) { return float32(int16(le16(b))), nil }, intParser(math.MinInt16, math.MaxInt16), false},
	"INT32":  {4, func(b []byte) (float32, error) { return exactInt(int64(int32(le32(b)))) }, intParser(math.MinInt32, math.MaxInt32), false},
	"INT64":  {8, func(b []byte) (float32, error) { return exactInt(int64(le64(b))) }, intParser(math.MinInt64, math.MaxInt64), false},
	UINT8:    {1, func(b []byte) (float32, error) { return float32(b[0]), nil }, intParser(0, math.MaxUint8), false},
	"UINT16": {2, func(b []byte) (float32, error) { return float32(le16(b)), nil }, intParser(0, math.MaxUint16), false},
	"UINT32": {4, func(b []byte) (float32, error) { return exactInt(int64(le32(b))) }, intParser(0, math.MaxUint32), false},
	"UINT64": {8, uint64Elem, intParser(0, math.MaxInt64), false},
}

// known are the protocol's datatypes, to tell an unsupported one from a
// misspelt one.
var known = map[string]bool{"BOOL": true, "BYTES": true}

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

func fp32(b []byte) (float32, error) { return math.Float32frombits(le32(b)), nil }

func bf16(b []byte) (float32, error) { return math.Float32frombits(uint32(le16(b)) << 16), nil }

// fp16 widens an IEEE 754 half-precision value, exactly.
func fp16(b []byte) (float32, error) {
	h := uint32(le16(b))
	sign, exp, frac := h>>15<<31, h>>10&0x1f, h&0x3ff
	switch {
	case exp == 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13), nil
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13), nil
	case frac == 0: // zero
		return math.Float32frombits(sign), nil
	}
	// subnormal: frac × 2^-24
	v := float32(frac) / (1 << 24)
	if sign != 0 {
		v = -v
	}
	return v, nil
}

func fp64(b []byte) (float32, error) { return narrow(math.Float64frombits(le64(b))) }

// narrow rounds v to float32; a finite v beyond its range is refused (NaN
// and infinities pass, for the model's check to name them).
func narrow(v float64) (float32, error) {
	if math.Abs(v) > math.MaxFloat32 && !math.IsInf(v, 0) {
		return 0, fmt.Errorf("%g is beyond the range of FP32", v)
	}
	return float32(v), nil
}

func exactInt(v int64) (float32, error) {
	if v > maxExact || v < -maxExact {
		return 0, fmt.Errorf("%d is beyond ±2^24: FP32 would not hold it exactly", v)
	}
	return float32(v), nil
}

func uint64Elem(b []byte) (float32, error) {
	v := le64(b)
	if v > maxExact {
		return 0, fmt.Errorf("%d is beyond ±2^24: FP32 would not hold it exactly", v)
	}
	return float32(v), nil
}

func parseFP32(tok string) (float32, error) {
	f, err := strconv.ParseFloat(tok, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is not a finite FP32 number", tok)
	}
	return float32(f), nil
}

func parseFP64(tok string) (float32, error) {
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a finite FP64 number", tok)
	}
	return narrow(f)
}

// intParser reads a JSON integer within [lo, hi], then within ±2^24.
func intParser(lo, hi int64) func(string) (float32, error) {
	return func(tok string) (float32, error) {
		v, err := strconv.ParseInt(tok, 10, 64)
		if err != nil || v < lo || v > hi {
			return 0, fmt.Errorf("%q is not an integer in [%d, %d]", tok, lo, hi)
		}
		return exactInt(v)
	}
}
