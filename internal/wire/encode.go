package wire

import (
	"encoding/json"
	"math"
	"strconv"
)

// AppendJSON appends c as JSON, byte for byte what encoding/json writes,
// without reflection: result encoding is on the worker's hot path.
func (c *ChunkResult) AppendJSON(b []byte) []byte {
	b = c.appendHead(b)
	if c.Items == nil {
		return append(b, "null}"...)
	}
	b = append(b, '[')
	for i := range c.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = c.Items[i].appendJSON(b)
	}
	return append(b, "]}"...)
}

// appendHead appends c's fields before its items, up to `"items":`.
func (c *ChunkResult) appendHead(b []byte) []byte {
	b = append(b, `{"job":`...)
	b = appendString(b, c.Job)
	b = append(b, `,"chunk":`...)
	b = strconv.AppendInt(b, int64(c.Chunk), 10)
	b = append(b, `,"start":`...)
	b = strconv.AppendInt(b, int64(c.Start), 10)
	b = append(b, `,"done":`...)
	b = strconv.AppendInt(b, int64(c.Done), 10)
	b = append(b, `,"failed":`...)
	b = strconv.AppendInt(b, int64(c.Failed), 10)
	if c.Skipped != 0 {
		b = append(b, `,"skipped":`...)
		b = strconv.AppendInt(b, int64(c.Skipped), 10)
	}
	if c.Redrive != 0 {
		b = append(b, `,"redrive":`...)
		b = strconv.AppendUint(b, c.Redrive, 10)
	}
	if c.Worker != "" {
		b = append(b, `,"worker":`...)
		b = appendString(b, c.Worker)
	}
	return append(b, `,"items":`...)
}

func (r *ItemResult) appendJSON(b []byte) []byte {
	var fs formatted // the score is also the best class's, and a probability
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(r.Index), 10)
	if r.Label != "" {
		b = append(b, `,"label":`...)
		b = appendString(b, r.Label)
	}
	if r.Class != nil {
		b = append(b, `,"class":`...)
		b = strconv.AppendInt(b, int64(*r.Class), 10)
	}
	if r.Score != 0 {
		b = append(b, `,"score":`...)
		b = fs.append(b, r.Score)
	}
	if len(r.Top) > 0 {
		b = append(b, `,"top":[`...)
		for i, c := range r.Top {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"label":`...)
			b = appendString(b, c.Label)
			b = append(b, `,"class":`...)
			b = strconv.AppendInt(b, int64(c.Class), 10)
			b = append(b, `,"score":`...)
			b = fs.append(b, c.Score)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(r.Probabilities) > 0 {
		b = append(b, `,"probabilities":[`...)
		for i, p := range r.Probabilities {
			if i > 0 {
				b = append(b, ',')
			}
			b = fs.append(b, p)
		}
		b = append(b, ']')
	}
	if r.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, r.Error)
	}
	if r.Skipped {
		b = append(b, `,"skipped":true`...)
	}
	if r.Line != 0 {
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, int64(r.Line), 10)
	}
	if r.ID != "" {
		b = append(b, `,"id":`...)
		b = appendString(b, r.ID)
	}
	return append(b, '}')
}

// formatted remembers where in the buffer the first few floats of an item
// were written, so that a value written again (an item's score is its best
// class's, and each top class's is a probability) is copied instead of
// formatted anew: the same float32 bits, the same bytes.
type formatted struct {
	n     int
	bits  [8]uint32
	spans [8][2]int
}

// append appends f as appendFloat32 does.
func (m *formatted) append(b []byte, f float32) []byte {
	bits := math.Float32bits(f)
	for i := 0; i < m.n; i++ {
		if m.bits[i] == bits {
			return append(b, b[m.spans[i][0]:m.spans[i][1]]...)
		}
	}
	start := len(b)
	b = appendFloat32(b, f)
	if m.n < len(m.bits) {
		m.bits[m.n], m.spans[m.n] = bits, [2]int{start, len(b)}
		m.n++
	}
	return b
}

// appendFloat32 formats like encoding/json does for float32.
func appendFloat32(b []byte, f float32) []byte {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...) // never produced by softmax outputs
	}
	abs := math.Abs(v)
	fmt := byte('f')
	if abs != 0 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
		fmt = 'e'
	}
	b = strconv.AppendFloat(b, v, fmt, -1, 32)
	if fmt == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendString quotes s; strings needing escapes take encoding/json's path.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
