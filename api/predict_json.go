package api

import (
	"encoding/json"
	"strconv"
)

// AppendJSON appends r as JSON, what encoding/json writes, without
// re-validating the items (they come from the worker's encoder): this is
// the hot path of synchronous predictions.
func (r *PredictResponse) AppendJSON(b []byte) []byte {
	return appendPrediction(b, "", "", r.Model, r.Version, r.Items, r.LatencyMS)
}

// AppendJSON appends m as JSON (see PredictResponse.AppendJSON).
func (m *Prediction) AppendJSON(b []byte) []byte {
	return appendPrediction(b, m.Type, m.Ref, m.Model, m.Version, m.Items, m.LatencyMS)
}

func appendPrediction(b []byte, typ, ref, model, version string, items json.RawMessage, latency float64) []byte {
	b = append(b, '{')
	if typ != "" {
		b = append(b, `"type":`...)
		b = appendString(b, typ)
		b = append(b, ',')
		if ref != "" {
			b = append(b, `"ref":`...)
			b = appendString(b, ref)
			b = append(b, ',')
		}
	}
	b = append(b, `"model":`...)
	b = appendString(b, model)
	b = append(b, `,"version":`...)
	b = appendString(b, version)
	b = append(b, `,"items":`...)
	if len(items) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, items...)
	}
	b = append(b, `,"latency_ms":`...)
	b = strconv.AppendFloat(b, latency, 'f', -1, 64)
	return append(b, '}')
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}
