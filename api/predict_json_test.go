package api

import (
	"encoding/json"
	"testing"
)

// AppendJSON writes what encoding/json writes.
func TestPredictionAppendJSON(t *testing.T) {
	items := json.RawMessage(`[{"index":0,"label":"7","class":7,"score":0.9}]`)
	for _, v := range []interface {
		AppendJSON([]byte) []byte
	}{
		&PredictResponse{Model: "digits", Version: "1", Items: items, LatencyMS: 1.234},
		&PredictResponse{Model: "m<&>", Version: "2", LatencyMS: 0},
		&Prediction{Type: TypePrediction, Ref: `r"1`, Model: "digits", Version: "1", Items: items, LatencyMS: 12},
		&Prediction{Type: TypePrediction, Model: "digits", Version: "1", Items: items, LatencyMS: 0.001},
	} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("AppendJSON\n%s\nencoding/json\n%s", got, want)
		}
	}
}
