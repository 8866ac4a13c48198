package input

import (
	"batchinfer/api"
	"bytes"
	"encoding/json"
	"testing"
)

// SplitJobBody must agree with encoding/json whenever it takes the fast
// path, and leave every other body to encoding/json.
func checkSplit(t *testing.T, body []byte) {
	got, err := SplitJobBody(body)
	if err != nil {
		return
	}
	var want api.JobRequest
	if err := DecodeJSONBody(bytes.NewReader(body), &want); err != nil {
		// Acceptable only when an input itself is malformed: the item
		// decoder reports it (as invalid_input, naming the item).
		for _, in := range got.Inputs {
			if !json.Valid(in) {
				return
			}
		}
		t.Fatalf("fast path accepted %q which encoding/json rejects: %v", body, err)
	}
	if got.Model != want.Model || got.Version != want.Version || got.Name != want.Name || len(got.Inputs) != len(want.Inputs) {
		t.Fatalf("%q: got %+v, want %+v", body, got, want)
	}
	for i := range got.Inputs {
		if !json.Valid(got.Inputs[i]) {
			continue // the item decoder rejects it later
		}
		var a, b any
		_ = json.Unmarshal(got.Inputs[i], &a)
		_ = json.Unmarshal(want.Inputs[i], &b)
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Fatalf("%q: input %d %s vs %s", body, i, got.Inputs[i], want.Inputs[i])
		}
	}
}

var splitSeeds = []string{
	`{"model":"digits","inputs":[[1,2,3],[4,5]]}`,
	` { "version" : "1" , "model" : "digits" , "inputs" : [ {"b64":"AAAA"} , {"image":"a\"b"} ] } `,
	`{"model":"digits","inputs":[]}`,
	`{"name":"rows \u00e9.csv","model":"digits","inputs":[[1]]}`,
	`{"model":"digits","name":7,"inputs":[[1]]}`,
	`{"model":"digits","inputs":[[1,[2,{"a":"]"}]]]}`,
	`{"model":"digits","inputs":[[1,2],]}`,
	`{"model":"digits","inputs":[[1,2]],}`,
	`{"model":"digits","inputs":[[1,2]]} x`,
	`{"model":"digits","model":"x","inputs":[]}`,
	`{"model":"d\u0069gits","inputs":[1]}`,
	`{"modelz":"digits"}`,
	`{"model":"digits","inputs":[[1,2]`,
	`[]`,
	``,
}

func TestSplitJobBody(t *testing.T) {
	for _, s := range splitSeeds {
		checkSplit(t, []byte(s))
	}
	r, err := SplitJobBody([]byte(splitSeeds[0]))
	if err != nil || r.Model != "digits" || len(r.Inputs) != 2 || string(r.Inputs[1]) != "[4,5]" {
		t.Fatalf("%+v %v", r, err)
	}
	if r, err := SplitJobBody([]byte(splitSeeds[3])); err != nil || r.Name != "rows é.csv" {
		t.Fatalf("name: %+v %v", r, err)
	}
}

func FuzzSplitJobBody(f *testing.F) {
	for _, s := range splitSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkSplit(t, b) })
}
