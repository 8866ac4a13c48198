package wire

import (
	"encoding/json"
	"time"
)

// Class is one entry of an item's top-k.
type Class struct {
	Label string  `json:"label"`
	Class int     `json:"class"`
	Score float32 `json:"score"`
}

// ItemResult is the outcome of one input item: a prediction or an error.
type ItemResult struct {
	Index         int       `json:"index"`
	Label         string    `json:"label,omitempty"`
	Class         *int      `json:"class,omitempty"`
	Score         float32   `json:"score,omitempty"`
	Top           []Class   `json:"top,omitempty"`
	Probabilities []float32 `json:"probabilities,omitempty"`
	Error         string    `json:"error,omitempty"`
	// Skipped: the item was not run (its job was cancelled, failed or passed
	// its deadline first); Error says why.
	Skipped bool `json:"skipped,omitempty"`
	// Line is the item's line in its input (NDJSON, CSV: 1-based, the CSV
	// header counted), and ID the value of its id column, when the input
	// gives them.
	Line int    `json:"line,omitempty"`
	ID   string `json:"id,omitempty"`
}

// ChunkResult is the result message of one chunk, stored at ResultSubject
// (batch jobs) or sent to the request's reply subject (sync predictions).
type ChunkResult struct {
	Job    string `json:"job"`
	Chunk  int    `json:"chunk"`
	Start  int    `json:"start"`
	Done   int    `json:"done"`
	Failed int    `json:"failed"`
	// Skipped counts items not run (their job was cancelled or ended).
	Skipped int `json:"skipped,omitempty"`
	// Redrive is the dead letter the chunk ran again from (0: its first
	// run): a stored result of an earlier run is replaced by a later one.
	Redrive uint64       `json:"redrive,omitempty"`
	Worker  string       `json:"worker,omitempty"`
	Items   []ItemResult `json:"items"`
}

// IdempotencyRecord maps an Idempotency-Key to the job it created.
type IdempotencyRecord struct {
	Job        string `json:"job"`
	BodySHA256 string `json:"body_sha256"`
}

// WorkerInfo is a worker's announcement in BucketWorkers.
type WorkerInfo struct {
	ID           string    `json:"id"`
	Host         string    `json:"host"`
	Models       []string  `json:"models"`
	StartedAt    time.Time `json:"started_at"`
	LastSeen     time.Time `json:"last_seen"`
	ItemsTotal   uint64    `json:"items_total"`
	BatchesTotal uint64    `json:"batches_total"`
	// ItemsPerSec is the items run over the worker's last rate interval,
	// and ItemsPerSecByModel the same per model it serves ("name:version");
	// a model that ran nothing is 0.
	ItemsPerSec        float64            `json:"items_per_sec"`
	ItemsPerSecByModel map[string]float64 `json:"items_per_sec_by_model,omitempty"`
	InFlight           int                `json:"in_flight"`
	// LoadErrors are the registry versions ("name:version") this worker
	// could not load, with the reason.
	LoadErrors map[string]string `json:"load_errors,omitempty"`
	// ResultFormat is how the worker stores batch results: "compact", or
	// "json" (WORKER_RESULT_FORMAT=json); a worker older than the compact
	// form names none and stores JSON. Admission sizes a model's results
	// as JSON while any live worker of it stores JSON.
	ResultFormat string `json:"result_format,omitempty"`
}

// ResultFormatCompact is WorkerInfo.ResultFormat of a worker storing the
// compact form (AppendCompact).
const ResultFormatCompact = "compact"

// Marshal is json.Marshal for records that cannot fail to encode.
func Marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs are passed
	}
	return b
}
