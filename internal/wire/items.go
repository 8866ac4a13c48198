package wire

import (
	"bytes"
	"errors"
	"strconv"
)

var itemsKey = []byte(`,"items":[`)

// ErrNotChunkResult is returned for data that is not a ChunkResult as
// AppendJSON (or encoding/json) writes it.
var ErrNotChunkResult = errors.New("wire: not a chunk result")

// EachItem calls f with the JSON of each item of a stored ChunkResult, in
// order. A result in the compact form has each item rendered (the bytes
// AppendJSON writes for it) into a buffer f must not keep. One stored as
// JSON is not decoded: the items come after the header fields (whose
// strings cannot hold an unescaped `,"items":[`), and each is scanned for
// its end with strings and nesting taken into account, and passed on as
// stored.
func EachItem(data []byte, f func(item []byte) error) error {
	if IsCompactResult(data) {
		return eachCompactItem(data, f)
	}
	i := bytes.Index(data, itemsKey)
	if i < 0 || data[0] != '{' {
		if bytes.HasSuffix(data, []byte(`,"items":null}`)) {
			return nil
		}
		return ErrNotChunkResult
	}
	rest := data[i+len(itemsKey):]
	for len(rest) > 0 {
		switch rest[0] {
		case ']':
			return nil
		case ',':
			rest = rest[1:]
			continue
		}
		n := objectEnd(rest)
		if n < 0 {
			return ErrNotChunkResult
		}
		if err := f(rest[:n]); err != nil {
			return err
		}
		rest = rest[n:]
	}
	return ErrNotChunkResult
}

// objectEnd is the length of the JSON object that b starts with, or -1.
func objectEnd(b []byte) int {
	if len(b) == 0 || b[0] != '{' {
		return -1
	}
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			j := stringEnd(b[i:])
			if j < 0 {
				return -1
			}
			i += j - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// stringEnd is the length of the JSON string that b starts with, or -1.
func stringEnd(b []byte) int {
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// ItemIndex is the index of an item's JSON as AppendJSON writes it
// (`{"index":N,...`), or -1.
func ItemIndex(item []byte) int {
	const prefix = `{"index":`
	if !bytes.HasPrefix(item, []byte(prefix)) {
		return -1
	}
	b := item[len(prefix):]
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	v, err := strconv.Atoi(string(b[:n]))
	if err != nil {
		return -1
	}
	return v
}
