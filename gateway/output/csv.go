package output

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// CSV is written by hand (encoding/csv wants a []string per row, a string
// per number): fields are quoted when encoding/csv would quote them (RFC
// 4180: a comma, quote, CR or LF; also a leading space, and `\.`), quotes
// doubled; rows end with LF.

// appendField appends s as one CSV field.
func appendField(b []byte, s string) []byte {
	if !needsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

func needsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// appendRow appends fields as one CSV row.
func appendRow(b []byte, fields []string) []byte {
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendField(b, f)
	}
	return append(b, '\n')
}

// appendOptInt appends n, or nothing for 0 (no line).
func appendOptInt(b []byte, n int) []byte {
	if n == 0 {
		return b
	}
	return strconv.AppendInt(b, int64(n), 10)
}

// appendFloat appends f in the fewest digits that read back to it.
func appendFloat(b []byte, f float32) []byte {
	return strconv.AppendFloat(b, float64(f), 'g', -1, 32)
}
