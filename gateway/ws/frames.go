package ws

import (
	"encoding/json"
	"errors"
	"strings"

	"batchinfer/gateway/service"
	"batchinfer/internal/wire"
)

// resultFrame makes a results message of a stored chunk result,
// {"type":"results","seq":N,<its fields>} (api.Results): one stored as
// JSON is spliced in as it is, one in the compact form rendered in place.
func resultFrame(r service.StoredResult) ([]byte, bool) {
	if wire.IsCompactResult(r.Data) {
		b := append(make([]byte, 0, 6*len(r.Data)+48), `{"type":"results","seq":`...)
		b = appendUint(b, r.Seq)
		at := len(b)
		b, err := wire.AppendCompactJSON(b, r.Data)
		if err != nil {
			return nil, false
		}
		b[at] = ',' // its opening brace is the message's
		return b, true
	}
	if len(r.Data) < 2 || r.Data[0] != '{' {
		return nil, false
	}
	b := make([]byte, 0, len(r.Data)+48)
	b = append(b, `{"type":"results","seq":`...)
	b = appendUint(b, r.Seq)
	b = append(b, ',')
	return append(b, r.Data[1:]...), true
}

func appendUint(b []byte, v uint64) []byte {
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}

var errNoType = errors.New("message has no type")

// messageType finds the top-level "type" of a JSON object with one scan,
// without decoding the other values (a submit carries megabytes of inputs,
// decoded once, into its own struct).
func messageType(b []byte) (string, error) {
	s := scanner{b: b}
	if !s.open() {
		return "", errors.New("expected a JSON object")
	}
	for s.more() {
		key, ok := s.key()
		if !ok {
			return "", errors.New("expected a field name and ':'")
		}
		start, end := s.value()
		if end < 0 {
			return "", errors.New("malformed value")
		}
		if key == "type" {
			var t string
			if err := json.Unmarshal(b[start:end], &t); err != nil {
				return "", errors.New(`"type" must be a string`)
			}
			return t, nil
		}
		if !s.next() {
			return "", errors.New("expected ',' or '}'")
		}
	}
	return "", errNoType
}

// scanner walks the top level of a JSON object.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *scanner) open() bool {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return false
	}
	s.i++
	s.ws()
	return true
}

func (s *scanner) more() bool { return s.i < len(s.b) && s.b[s.i] != '}' }

// key reads "name" and the colon after it.
func (s *scanner) key() (string, bool) {
	if s.b[s.i] != '"' {
		return "", false
	}
	start := s.i
	s.i++
	for s.i < len(s.b) && s.b[s.i] != '"' {
		if s.b[s.i] == '\\' {
			s.i++
		}
		s.i++
	}
	if s.i >= len(s.b) {
		return "", false
	}
	s.i++
	raw := s.b[start:s.i]
	key := string(raw[1 : len(raw)-1])
	if strings.IndexByte(key, '\\') >= 0 {
		if json.Unmarshal(raw, &key) != nil {
			return "", false
		}
	}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return "", false
	}
	s.i++
	s.ws()
	return key, true
}

// value skips one value and returns its bounds (end < 0 if malformed).
func (s *scanner) value() (int, int) {
	start, depth, inStr := s.i, 0, false
	for ; s.i < len(s.b); s.i++ {
		c := s.b[s.i]
		switch {
		case inStr && c == '\\':
			s.i++
		case inStr:
			inStr = c != '"'
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return start, s.end(start)
			}
			depth--
		case c == ',' && depth == 0:
			return start, s.end(start)
		}
	}
	if depth != 0 || inStr {
		return start, -1
	}
	return start, s.end(start)
}

// end trims the whitespace before s.i; -1 for an empty value.
func (s *scanner) end(start int) int {
	e := s.i
	for e > start && (s.b[e-1] == ' ' || s.b[e-1] == '\t' || s.b[e-1] == '\n' || s.b[e-1] == '\r') {
		e--
	}
	if e == start {
		return -1
	}
	return e
}

// next moves past a ',' (more fields) or stops at '}'.
func (s *scanner) next() bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ',' {
		s.i++
		s.ws()
		return true
	}
	return s.i < len(s.b) && s.b[s.i] == '}'
}
