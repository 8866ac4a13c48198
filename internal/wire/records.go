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
}

// ChunkResult is the result message of one chunk, stored at ResultSubject
// (batch jobs) or sent to the request's reply subject (sync predictions).
type ChunkResult struct {
	Job    string       `json:"job"`
	Chunk  int          `json:"chunk"`
	Start  int          `json:"start"`
	Done   int          `json:"done"`
	Failed int          `json:"failed"`
	Worker string       `json:"worker,omitempty"`
	Items  []ItemResult `json:"items"`
}

// Job states.
const (
	StateAccepting = "accepting" // record written, chunks being queued
	StateQueued    = "queued"
	StateRunning   = "running"
	StateCompleted = "completed"
	StateCancelled = "cancelled"
)

// JobRecord is the durable state of a batch job in BucketJobs. Workers add
// each chunk's counts exactly once, marking it in Counted, with
// compare-and-set updates; everything else a client sees is derived from it.
type JobRecord struct {
	ID string `json:"id"`
	// Tenant owns the job: no other tenant can see or touch it.
	Tenant      string     `json:"tenant,omitempty"`
	Model       string     `json:"model"`
	Version     string     `json:"version"`
	Total       int        `json:"total"`
	Chunks      int        `json:"chunks"`
	ChunkSize   int        `json:"chunk_size"`
	State       string     `json:"state"` // accepting or queued; the rest is derived
	Done        int        `json:"done"`
	Failed      int        `json:"failed"`
	Counted     []byte     `json:"counted"` // bitset of counted chunks
	CreatedAt   time.Time  `json:"created_at"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	UpdatedAt   *time.Time `json:"updated_at,omitempty"`
	CancelledAt *time.Time `json:"cancelled_at,omitempty"`
	BodySHA256  string     `json:"body_sha256,omitempty"`
	// Cost is what the job counts against its tenant's items quota: one per
	// item, more for an image larger than the model's input (0 in records
	// written before costs: Total).
	Cost int64 `json:"cost,omitempty"`
}

// TotalCost is the job's cost (Total for records written without one).
func (r *JobRecord) TotalCost() int64 {
	if r.Cost > 0 {
		return r.Cost
	}
	return int64(r.Total)
}

// RemainingCost is the cost of the items not done yet: the job's cost
// shared evenly among its items, rounded up.
func (r *JobRecord) RemainingCost() int64 {
	left := int64(r.Total - r.Done - r.Failed)
	if left <= 0 || r.Total <= 0 {
		return 0
	}
	return (r.TotalCost()*left + int64(r.Total) - 1) / int64(r.Total)
}

// IsCounted reports whether chunk c's results have been added to the totals.
func (r *JobRecord) IsCounted(c int) bool {
	return c >= 0 && c/8 < len(r.Counted) && r.Counted[c/8]&(1<<(c%8)) != 0
}

// Count adds the results of chunk c to the totals unless already counted,
// and reports whether it changed the record.
func (r *JobRecord) Count(c, done, failed int, now time.Time) bool {
	if c < 0 || c >= r.Chunks || r.IsCounted(c) {
		return false
	}
	if len(r.Counted) < (r.Chunks+7)/8 {
		r.Counted = append(r.Counted, make([]byte, (r.Chunks+7)/8-len(r.Counted))...)
	}
	r.Counted[c/8] |= 1 << (c % 8)
	r.Done += done
	r.Failed += failed
	if r.StartedAt == nil {
		r.StartedAt = &now
	}
	r.UpdatedAt = &now
	return true
}

// Finished reports whether every item has a result.
func (r *JobRecord) Finished() bool { return r.Done+r.Failed >= r.Total }

// JobStatus is what clients see of a job.
type JobStatus struct {
	ID          string     `json:"id"`
	Model       string     `json:"model"`
	Version     string     `json:"version"`
	State       string     `json:"state"`
	Total       int        `json:"total"`
	Done        int        `json:"done"`
	Failed      int        `json:"failed"`
	Chunks      int        `json:"chunks"`
	Cost        int64      `json:"cost"`
	CreatedAt   time.Time  `json:"created_at"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	UpdatedAt   *time.Time `json:"updated_at,omitempty"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	ElapsedMS   int64      `json:"elapsed_ms"`
	ItemsPerSec float64    `json:"items_per_sec"`
	ETAMS       *int64     `json:"eta_ms,omitempty"`
}

// Status derives the client view of r at time now.
func (r *JobRecord) Status(now time.Time) JobStatus {
	s := JobStatus{
		ID: r.ID, Model: r.Model, Version: r.Version, Total: r.Total, Done: r.Done,
		Failed: r.Failed, Chunks: r.Chunks, Cost: r.TotalCost(), CreatedAt: r.CreatedAt, StartedAt: r.StartedAt,
		UpdatedAt: r.UpdatedAt,
	}
	finished := r.Finished()
	switch {
	case r.CancelledAt != nil:
		s.State = StateCancelled
	case finished:
		s.State = StateCompleted
	case r.StartedAt != nil:
		s.State = StateRunning
	default:
		s.State = StateQueued
	}
	end := now
	if finished && r.UpdatedAt != nil {
		end = *r.UpdatedAt
		s.FinishedAt = r.UpdatedAt
	} else if r.CancelledAt != nil {
		end = *r.CancelledAt
		s.FinishedAt = r.CancelledAt
	}
	s.ElapsedMS = end.Sub(r.CreatedAt).Milliseconds()
	if r.StartedAt != nil && r.UpdatedAt != nil {
		if d := r.UpdatedAt.Sub(*r.StartedAt).Seconds(); d > 0 {
			s.ItemsPerSec = float64(r.Done+r.Failed) / d
		}
	}
	if !finished && r.CancelledAt == nil && s.ItemsPerSec > 0 {
		eta := int64(float64(r.Total-r.Done-r.Failed) / s.ItemsPerSec * 1000)
		s.ETAMS = &eta
	}
	return s
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
	ItemsPerSec  float64   `json:"items_per_sec"`
	InFlight     int       `json:"in_flight"`
}

// Marshal is json.Marshal for records that cannot fail to encode.
func Marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs are passed
	}
	return b
}
