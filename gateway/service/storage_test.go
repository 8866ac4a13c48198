package service

import (
	"testing"
	"time"

	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/rs/zerolog"
)

// Admission sizes a model's results as JSON while a live worker of it
// stores JSON (WORKER_RESULT_FORMAT=json, or a worker older than the
// compact form, which names no format), and compact otherwise.
func TestStoresJSON(t *testing.T) {
	now := time.Now()
	worker := func(id, format string, seen time.Time, models ...string) wire.WorkerInfo {
		return wire.WorkerInfo{ID: id, LastSeen: seen, Models: models, ResultFormat: format}
	}
	stale := now.Add(-2 * wire.DefaultWorkerTTL)
	for _, c := range []struct {
		name    string
		workers []wire.WorkerInfo
		want    bool
	}{
		{"no worker", nil, false},
		{"compact workers", []wire.WorkerInfo{worker("a", "compact", now, "digits:1"), worker("b", "compact", now, "digits:1")}, false},
		{"one json worker among compact ones", []wire.WorkerInfo{worker("a", "compact", now, "digits:1"), worker("b", "json", now, "digits:1")}, true},
		{"a worker older than the compact form", []wire.WorkerInfo{worker("a", "", now, "digits:1")}, true},
		{"a json worker of another model", []wire.WorkerInfo{worker("a", "json", now, "iris:1"), worker("b", "compact", now, "digits:1")}, false},
		{"a json worker gone (past its TTL)", []wire.WorkerInfo{worker("a", "json", stale, "digits:1"), worker("b", "compact", now, "digits:1")}, false},
	} {
		cat := newCatalog(zerolog.Nop())
		for _, w := range c.workers {
			cat.workers[w.ID] = w
		}
		if got := cat.storesJSON("digits:1", now); got != c.want {
			t.Errorf("%s: storesJSON %v, want %v", c.name, got, c.want)
		}
	}
}

// A job's results estimate in each form: as JSON several times the compact
// one for digits (each item's ten probabilities written out in decimal).
func TestJobResultBytesForms(t *testing.T) {
	meta := &model.Metadata{Labels: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, TopK: 3,
		Output: model.TensorSpec{Shape: []int64{-1, 10}}}
	compact, asJSON := jobResultBytes(meta, 1000, 256, false), jobResultBytes(meta, 1000, 256, true)
	if compact <= 0 || asJSON < 4*compact {
		t.Fatalf("1000 digits results estimated %d bytes compact, %d as JSON: want JSON at least 4 times more", compact, asJSON)
	}
}
