package output

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"batchinfer/internal/wire"
)

// decodeItem decodes an item's JSON into it (reset first, keeping its
// probabilities' room and the int its class pointed to). Items as the worker writes them (wire's AppendJSON,
// byte for byte encoding/json's output) take a fast path that reads only
// what a file shows; anything else is left to encoding/json.
func decodeItem(item []byte, it *wire.ItemResult) error {
	class := it.Class
	*it = wire.ItemResult{Probabilities: it.Probabilities[:0]}
	if fastDecode(item, it, class) {
		return nil
	}
	*it = wire.ItemResult{Probabilities: it.Probabilities[:0]}
	return json.Unmarshal(item, it)
}

// fastDecode reads a flat object of known keys; it reports false for
// anything it does not expect (the caller decodes it again, in full).
// class, when not nil, is where the item's class goes.
func fastDecode(b []byte, it *wire.ItemResult, class *int) bool {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return false
	}
	b = b[1:]
	for {
		key, rest, ok := fieldKey(b)
		if !ok {
			return false
		}
		if rest, ok = fieldValue(key, rest, it, class); !ok || len(rest) == 0 {
			return false
		}
		switch rest[0] {
		case '}':
			return len(rest) == 1
		case ',':
			b = rest[1:]
		default:
			return false
		}
	}
}

// fieldKey reads `"key":` at the start of b.
func fieldKey(b []byte) ([]byte, []byte, bool) {
	if len(b) < 3 || b[0] != '"' {
		return nil, nil, false
	}
	end := bytes.IndexByte(b[1:], '"')
	if end < 0 || len(b) < end+3 || b[end+2] != ':' {
		return nil, nil, false
	}
	return b[1 : end+1], b[end+3:], true // no key of ours has escapes
}

// fieldValue reads the value of key at the start of b into it (its class
// into class when not nil).
func fieldValue(key, b []byte, it *wire.ItemResult, class *int) ([]byte, bool) {
	var ok bool
	switch string(key) {
	case "index":
		it.Index, b, ok = intValue(b)
	case "line":
		it.Line, b, ok = intValue(b)
	case "class":
		if class == nil {
			class = new(int)
		}
		*class, b, ok = intValue(b)
		it.Class = class
	case "score":
		it.Score, b, ok = floatValue(b)
	case "label":
		it.Label, b, ok = stringValue(b)
	case "error":
		it.Error, b, ok = stringValue(b)
	case "id":
		it.ID, b, ok = stringValue(b)
	case "skipped":
		it.Skipped, ok = bytes.HasPrefix(b, []byte("true")), bytes.HasPrefix(b, []byte("true"))
		b = b[min(len(b), 4):]
	case "probabilities":
		b, ok = floatsValue(b, it)
	case "top": // not shown in files
		n := arrayEnd(b)
		b, ok = b[max(n, 0):], n > 0
	}
	return b, ok
}

// number is the length of the number token at the start of b.
func number(b []byte) int {
	n := 0
	for n < len(b) && (b[n] >= '0' && b[n] <= '9' || b[n] == '-' || b[n] == '+' || b[n] == '.' || b[n] == 'e' || b[n] == 'E') {
		n++
	}
	return n
}

func intValue(b []byte) (int, []byte, bool) {
	n := number(b)
	v, err := strconv.Atoi(string(b[:n]))
	return v, b[n:], err == nil && n > 0
}

func floatValue(b []byte) (float32, []byte, bool) {
	n := number(b)
	v, err := strconv.ParseFloat(string(b[:n]), 32)
	return float32(v), b[n:], err == nil && n > 0
}

// stringValue reads a string without escapes (one with escapes, or not
// UTF-8, is left to encoding/json: false).
func stringValue(b []byte) (string, []byte, bool) {
	if len(b) < 2 || b[0] != '"' {
		return "", nil, false
	}
	end := bytes.IndexByte(b[1:], '"')
	if end < 0 || bytes.IndexByte(b[1:end+1], '\\') >= 0 || !utf8.Valid(b[1:end+1]) {
		return "", nil, false // invalid UTF-8 is replaced by encoding/json
	}
	return string(b[1 : end+1]), b[end+2:], true
}

// floatsValue reads an array of numbers into it.Probabilities.
func floatsValue(b []byte, it *wire.ItemResult) ([]byte, bool) {
	if len(b) < 2 || b[0] != '[' {
		return nil, false
	}
	b = b[1:]
	for len(b) > 0 && b[0] != ']' {
		f, rest, ok := floatValue(b)
		if !ok || len(rest) == 0 {
			return nil, false
		}
		it.Probabilities = append(it.Probabilities, f)
		if b = rest; b[0] == ',' {
			b = b[1:]
		}
	}
	if len(b) == 0 {
		return nil, false
	}
	return b[1:], true
}

// arrayEnd is the length of the array b starts with (strings and nesting
// taken into account), or -1.
func arrayEnd(b []byte) int {
	if len(b) == 0 || b[0] != '[' {
		return -1
	}
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			depth++
		case ']', '}':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}
