package ws

import (
	"bytes"
	"encoding/json"
	"testing"

	"batchinfer/gateway/service"
	"batchinfer/internal/wire"
)

// A results message is the same whichever form its chunk is stored in, and
// a valid api.Results.
func TestResultFrameBothForms(t *testing.T) {
	cl := 7
	c := &wire.ChunkResult{Job: "j-1", Chunk: 2, Start: 512, Done: 1, Failed: 1, Worker: "w", Items: []wire.ItemResult{
		{Index: 512, Label: "7", Class: &cl, Score: 0.75, Top: []wire.Class{{Label: "7", Class: 7, Score: 0.75}}, Probabilities: []float32{0.25, 0.75}, Line: 513},
		{Index: 513, Error: `bad "input"`, Line: 514, ID: "r2"},
	}}
	asJSON, okJ := resultFrame(service.StoredResult{Seq: 41, Data: c.AppendJSON(nil)})
	compact, okC := resultFrame(service.StoredResult{Seq: 41, Data: c.AppendCompact(nil)})
	if !okJ || !okC || !bytes.Equal(asJSON, compact) {
		t.Fatalf("frames differ:\n json %s\n compact %s", asJSON, compact)
	}
	var m struct {
		Type  string            `json:"type"`
		Seq   uint64            `json:"seq"`
		Job   string            `json:"job"`
		Items []wire.ItemResult `json:"items"`
	}
	if err := json.Unmarshal(compact, &m); err != nil || m.Type != "results" || m.Seq != 41 || m.Job != "j-1" || len(m.Items) != 2 {
		t.Fatalf("%s: %+v %v", compact, m, err)
	}
	if _, ok := resultFrame(service.StoredResult{Seq: 1, Data: c.AppendCompact(nil)[:20]}); ok {
		t.Fatal("a damaged compact result made a frame")
	}
}
