package input

import (
	"math"
	"strconv"
)

// pow10f32 are the powers of ten a float32 holds exactly.
var pow10f32 = [...]float32{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10}

// parseFloat32 reads s as strconv.ParseFloat(s, 32) does, and says whether
// it is a finite float32. Plain decimals (an optional sign, digits and at
// most one point, with a mantissa below 2^24 and at most ten digits after
// the point: the numbers clients send) take a fast path, Clinger's: the
// mantissa and the power of ten are exact in float32, so one float32
// division gives the correctly rounded value, the one strconv gives.
// Anything else (exponents, long mantissas, what is not a number) is left
// to strconv.
func parseFloat32(s string) (float32, bool) {
	if f, ok := fastFloat32(s); ok {
		return f, true
	}
	f, err := strconv.ParseFloat(s, 32)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return float32(f), true
}

// fastFloat32 is parseFloat32's fast path; false: not taken.
func fastFloat32(s string) (float32, bool) {
	i, neg := 0, false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg, i = s[0] == '-', 1
	}
	var m uint32
	digits, point := 0, -1
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if m >= 1<<24/10 {
				return 0, false // the mantissa may not fit: strconv's
			}
			m = 10*m + uint32(c-'0')
			digits++
		case c == '.' && point < 0:
			point = digits
		default:
			return 0, false
		}
	}
	frac := 0
	if point >= 0 {
		frac = digits - point
	}
	if digits == 0 || frac >= len(pow10f32) {
		return 0, false
	}
	f := float32(m) / pow10f32[frac]
	if neg {
		f = -f
	}
	return f, true
}
