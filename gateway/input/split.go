package input

import (
	"batchinfer/api"
	"encoding/json"
	"errors"
)

var errSlowPath = errors.New("take the encoding/json path")

// SplitJobBody splits {"model":..,"version":..,"name":..,"webhook":..,"inputs":[...]} into its
// fields and the raw bytes of each input without decoding the inputs: for a
// 50 MB upload this replaces two full encoding/json passes by one cheap
// scan. Anything unusual returns errSlowPath, and the caller decodes with
// encoding/json, which gives the precise error for malformed bodies.
func SplitJobBody(b []byte) (req api.JobRequest, err error) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return req, errSlowPath
	}
	i = skipWS(b, i+1)
	seen := map[string]bool{}
	for i < len(b) && b[i] != '}' {
		if b[i] != '"' {
			return req, errSlowPath
		}
		end := skipValue(b, i)
		if end < 0 {
			return req, errSlowPath
		}
		var key string
		if err := json.Unmarshal(b[i:end], &key); err != nil || seen[key] {
			return req, errSlowPath
		}
		seen[key] = true
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return req, errSlowPath
		}
		i = skipWS(b, i+1)
		strs := map[string]*string{"model": &req.Model, "version": &req.Version, "priority": &req.Priority, "deadline": &req.Deadline, "name": &req.Name, "webhook": &req.Webhook}
		switch key {
		case "model", "version", "priority", "deadline", "name", "webhook":
			end = skipValue(b, i)
			if end < 0 {
				return req, errSlowPath
			}
			if err := json.Unmarshal(b[i:end], strs[key]); err != nil {
				return req, errSlowPath
			}
			i = end
		case "inputs":
			if i >= len(b) || b[i] != '[' {
				return req, errSlowPath
			}
			i = skipWS(b, i+1)
			req.Inputs = []json.RawMessage{}
			for i < len(b) && b[i] != ']' {
				end = skipValue(b, i)
				if end < 0 {
					return req, errSlowPath
				}
				req.Inputs = append(req.Inputs, b[i:end])
				i = skipWS(b, end)
				if i < len(b) && b[i] == ',' {
					i = skipWS(b, i+1)
					if i < len(b) && b[i] == ']' {
						return req, errSlowPath // trailing comma
					}
				} else if i >= len(b) || b[i] != ']' {
					return req, errSlowPath
				}
			}
			if i >= len(b) {
				return req, errSlowPath
			}
			i++
		default:
			return req, errSlowPath // unknown field: let encoding/json name it
		}
		i = skipWS(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
			if i < len(b) && b[i] == '}' {
				return req, errSlowPath
			}
		} else if i >= len(b) || b[i] != '}' {
			return req, errSlowPath
		}
	}
	if i >= len(b) || skipWS(b, i+1) != len(b) {
		return req, errSlowPath
	}
	return req, nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at b[i], or -1. It
// checks nesting and strings only; the value's content is validated later.
func skipValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			i++
			for i < len(b) && b[i] != '"' {
				if b[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(b) {
				return -1
			}
			i++
		case '[', '{':
			depth++
			i++
		case ']', '}':
			depth--
			if depth < 0 {
				return -1
			}
			i++
		case ',', ' ', '\t', '\n', '\r', ':':
			if depth == 0 {
				return i
			}
			i++
		default:
			i++
		}
		if depth == 0 && i > 0 && (b[i-1] == '"' || b[i-1] == ']' || b[i-1] == '}') {
			return i
		}
	}
	if depth != 0 {
		return -1
	}
	return i
}
