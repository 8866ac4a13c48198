package wire

import (
	"cmp"
	"time"
)

// Job states. A record stores accepting, queued, failed or expired; running,
// completed and cancelled are derived from its counts (Status).
const (
	StateAccepting = "accepting" // record written, items being read and queued
	StateQueued    = "queued"
	StateRunning   = "running"
	StateCompleted = "completed"
	StateCancelled = "cancelled"
	// StateFailed: the job ended early as a whole (JobRecord.Error says why);
	// its items not run are skipped.
	StateFailed = "failed"
	// StateExpired: the job's results were removed after its retention; its
	// status and counts remain until the record expires too.
	StateExpired = "expired"
	// StateDeadlineExceeded: the job ended with items skipped because its
	// deadline passed before they started.
	StateDeadlineExceeded = "deadline_exceeded"
)

// JobRecord is the durable state of a batch job in BucketJobs. Workers add
// each chunk's counts exactly once, marking it counted, with compare-and-set
// updates; everything else a client sees is derived from it.
type JobRecord struct {
	ID string `json:"id"`
	// Tenant owns the job: no other tenant can see or touch it.
	Tenant string `json:"tenant,omitempty"`
	// Name is the input's name as the client gave it (e.g. the uploaded
	// file's name), for people to recognise the job; empty when none.
	Name      string `json:"name,omitempty"`
	Model     string `json:"model"`
	Version   string `json:"version"`
	Total     int    `json:"total"`
	Chunks    int    `json:"chunks"`
	ChunkSize int    `json:"chunk_size"`
	// State is accepting, queued, failed or expired; the rest is derived.
	State string `json:"state"`
	// Ingested, while a dataset is read (accepting), is how many of its
	// chunks are in the input stream: they may run before the rest is read.
	Ingested int `json:"ingested,omitempty"`
	// Source, for a job read from an upload (a dataset), is that upload and
	// how to read it; Ingest is how far the reading got (its checkpoint).
	Source *JobSource   `json:"source,omitempty"`
	Ingest *IngestState `json:"ingest,omitempty"`
	Done   int          `json:"done"`
	Failed int          `json:"failed"`
	// Skipped counts items not run: the job was cancelled, failed as a whole
	// or passed its deadline first.
	Skipped int `json:"skipped,omitempty"`
	// CountedBelow: every chunk below it is counted; Counted is the bitset of
	// the counted chunks from CountedBelow on (bit i is chunk CountedBelow+i),
	// so the record stays small however many chunks the job has.
	CountedBelow int    `json:"counted_below,omitempty"`
	Counted      []byte `json:"counted"`
	// Unstored are counted chunks whose results are not in the results store
	// (it was full, or they were skipped), with the reason their items get.
	Unstored []ChunkSpan `json:"unstored,omitempty"`
	// SkipFrom, when set, is the first of the chunks never run (the job was
	// cancelled or passed its deadline before they were sent to a worker):
	// they count as skipped, with SkipReason.
	SkipFrom   *int   `json:"skip_from,omitempty"`
	SkipReason string `json:"skip_reason,omitempty"`
	// ResultBytes is the size of the results stored for the job, and
	// ResultBytesEst the upper estimate admission reserved for them.
	ResultBytes    int64 `json:"result_bytes,omitempty"`
	ResultBytesEst int64 `json:"result_bytes_est,omitempty"`
	// Priority is high, normal or low: the order a tenant's jobs are served
	// in, within its share. Weight is the tenant's share, from its key.
	Priority string  `json:"priority,omitempty"`
	Weight   float64 `json:"weight,omitempty"`
	// Deadline, when set: items not started by then are skipped.
	Deadline *time.Time `json:"deadline,omitempty"`
	// Error says why a failed job failed.
	Error       string     `json:"error,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	UpdatedAt   *time.Time `json:"updated_at,omitempty"`
	CancelledAt *time.Time `json:"cancelled_at,omitempty"`
	// FinishedAt is when the last item was counted (or the job failed).
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// RetentionMS is how long the results stay once the job has finished;
	// ExpiresAt, set when it finishes, is when they go.
	RetentionMS int64      `json:"retention_ms,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	BodySHA256  string     `json:"body_sha256,omitempty"`
	// Cost is what the job counts against its tenant's items quota: one per
	// item, more for an image larger than the model's input (0 in records
	// written before costs: Total).
	Cost int64 `json:"cost,omitempty"`
	// Webhook is the URL the job's end is posted to (WebhookEvent), or "".
	Webhook string `json:"webhook,omitempty"`
	// Redrives are the chunks taken back from their dead letters to run
	// again, not counted yet (at most MaxPendingRedrives); Redriven counts
	// every redrive the job has had (its output files change with it).
	Redrives []ChunkRedrive `json:"redrives,omitempty"`
	Redriven int            `json:"redriven,omitempty"`
	// Trace, when tracing is on, is the W3C trace context (traceparent,
	// tracestate) of the job's submission: the scheduler's tickets, the
	// workers' chunk spans, followers and webhooks continue its trace.
	Trace map[string]string `json:"trace,omitempty"`
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
	left := int64(r.Total - r.Processed())
	if left <= 0 || r.Total <= 0 || r.Finished() {
		return 0
	}
	return (r.TotalCost()*left + int64(r.Total) - 1) / int64(r.Total)
}

// JobSource is the upload a dataset job reads, and how.
type JobSource struct {
	Upload     string `json:"upload"`
	Format     string `json:"format"` // ndjson, csv, npy or octet-stream
	IDColumn   string `json:"id_column,omitempty"`
	MaxInvalid int    `json:"max_invalid,omitempty"`
}

// IngestState is how far a dataset's reading got, at a chunk boundary: a
// reader that takes over skips Items items and writes from chunk Chunks.
type IngestState struct {
	Items   int   `json:"items"`
	Chunks  int   `json:"chunks"`
	Invalid int   `json:"invalid,omitempty"`
	Cost    int64 `json:"cost,omitempty"`
}

// ChunkSpan is the chunks [From, To) of a job whose items share Reason.
type ChunkSpan struct {
	From   int    `json:"from"`
	To     int    `json:"to"`
	Reason string `json:"reason"`
	// Skipped: the items were not run (else they failed).
	Skipped bool `json:"skipped,omitempty"`
}

// maxUnstoredSpans bounds JobRecord.Unstored: beyond it, the last span
// grows to cover the later chunks, with its reason.
const maxUnstoredSpans = 64

// ChunkCount is one chunk's outcome, as counted into its job.
type ChunkCount struct {
	Chunk                 int
	Done, Failed, Skipped int
	Bytes                 int64 // its stored result's size (0: not stored)
	Unstored              string
	UnstoredSkipped       bool
	// Started is when a worker began the chunk (zero: unknown): the job's
	// StartedAt is its first chunk's, so its items/s exclude queueing.
	Started time.Time
	// Redrive is the dead letter the counted run was redriven from (0: the
	// chunk's first run); a chunk waiting for a redrive counts only its run.
	Redrive uint64
}

// IsCounted reports whether chunk c's results have been added to the totals.
func (r *JobRecord) IsCounted(c int) bool {
	if c < r.CountedBelow || r.SkipFrom != nil && c >= *r.SkipFrom {
		return c >= 0
	}
	i := c - r.CountedBelow
	return i/8 < len(r.Counted) && r.Counted[i/8]&(1<<(i%8)) != 0
}

// Count adds the outcome of one chunk to the totals unless already counted,
// and reports whether it changed the record. While the job is accepting,
// chunks beyond Chunks may be counted (its items are still being read).
func (r *JobRecord) Count(c ChunkCount, now time.Time) bool {
	if c.Chunk < 0 || (c.Chunk >= r.Chunks && r.State != StateAccepting) || r.IsCounted(c.Chunk) {
		return false
	}
	if k := r.pendingRedrive(c.Chunk); k >= 0 {
		if r.Redrives[k].Letter != c.Redrive {
			return false // a run of before the redrive: it died, or came too late
		}
		r.Redrives = append(r.Redrives[:k], r.Redrives[k+1:]...)
	}
	i := c.Chunk - r.CountedBelow
	if need := i/8 + 1; len(r.Counted) < need {
		r.Counted = append(r.Counted, make([]byte, need-len(r.Counted))...)
	}
	r.Counted[i/8] |= 1 << (i % 8)
	for len(r.Counted) > 0 && r.Counted[0] == 0xff { // keep the bitset short
		r.Counted = r.Counted[1:]
		r.CountedBelow += 8
	}
	r.Done += c.Done
	r.Failed += c.Failed
	r.Skipped += c.Skipped
	r.ResultBytes += c.Bytes
	if c.Unstored != "" {
		r.addUnstored(c.Chunk, c.Unstored, c.UnstoredSkipped)
	}
	if c.Done+c.Failed > 0 {
		r.started(c.Started, now)
	}
	r.UpdatedAt = &now
	if r.Finished() && r.FinishedAt == nil {
		r.finish(now)
	}
	return true
}

// started moves the job's start to a chunk's start on a worker (now when
// unknown) when it is earlier.
func (r *JobRecord) started(at, now time.Time) {
	if at.IsZero() || at.After(now) {
		at = now
	}
	at = at.UTC()
	if r.StartedAt == nil || at.Before(*r.StartedAt) {
		r.StartedAt = &at
	}
}

// addUnstored records chunk c as unstored, merging it with a span next to
// it of the same reason.
func (r *JobRecord) addUnstored(c int, reason string, skipped bool) {
	for k := range r.Unstored {
		s := &r.Unstored[k]
		if s.Reason != reason || s.Skipped != skipped {
			continue
		}
		if s.To == c {
			s.To++
			return
		}
		if s.From == c+1 {
			s.From--
			return
		}
	}
	if n := len(r.Unstored); n >= maxUnstoredSpans {
		last := &r.Unstored[n-1]
		last.From, last.To = min(last.From, c), max(last.To, c+1)
		return
	}
	r.Unstored = append(r.Unstored, ChunkSpan{From: c, To: c + 1, Reason: reason, Skipped: skipped})
}

// UnstoredReason says why chunk c has no stored result ("" if it should
// have one), and whether its items were skipped rather than failed.
func (r *JobRecord) UnstoredReason(c int) (string, bool) {
	if r.SkipFrom != nil && c >= *r.SkipFrom {
		return r.SkipReason, true
	}
	for _, s := range r.Unstored {
		if c >= s.From && c < s.To {
			return s.Reason, s.Skipped
		}
	}
	return "", false
}

// Processed is the number of items with an outcome: done, failed or skipped.
func (r *JobRecord) Processed() int { return r.Done + r.Failed + r.Skipped }

// Finished reports whether every item has an outcome (or the job failed as a
// whole, or expired).
func (r *JobRecord) Finished() bool {
	switch r.State {
	case StateAccepting:
		return false
	case StateFailed, StateExpired:
		return true
	}
	return r.Processed() >= r.Total
}

// finish marks the job finished at now, starting its retention.
func (r *JobRecord) finish(now time.Time) {
	r.FinishedAt = &now
	if r.RetentionMS > 0 {
		exp := now.Add(time.Duration(r.RetentionMS) * time.Millisecond)
		r.ExpiresAt = &exp
	}
}

// Skip counts the chunks from chunk from on as skipped with reason (they
// were never sent to a worker); it reports whether it changed the record.
func (r *JobRecord) Skip(from int, reason string, now time.Time) bool {
	if r.SkipFrom != nil || r.State == StateAccepting || from >= r.Chunks && len(r.Redrives) == 0 {
		return false
	}
	from = min(from, r.Chunks)
	for c := from; c < r.Chunks; c++ { // chunks counted already are not skipped
		if !r.IsCounted(c) {
			r.Skipped += r.chunkItems(c)
		}
	}
	r.skipRedrives(from, reason)
	r.SkipFrom, r.SkipReason = &from, reason
	r.UpdatedAt = &now
	if r.Finished() && r.FinishedAt == nil {
		r.finish(now)
	}
	return true
}

// chunkItems is the number of items of chunk c.
func (r *JobRecord) chunkItems(c int) int {
	return max(0, min(r.ChunkSize, r.Total-c*r.ChunkSize))
}

// Fail ends the job as a whole with reason; the items not counted yet are
// skipped as they come. It reports whether it changed the record.
func (r *JobRecord) Fail(reason string, now time.Time) bool {
	if r.FinishedAt != nil || r.State == StateFailed || r.State == StateExpired {
		return false
	}
	r.State = StateFailed
	r.Error = reason
	r.UpdatedAt = &now
	r.finish(now)
	return true
}

// MarkQueued moves an accepting job to queued once all its items are read:
// total items in chunks chunks. It reports whether it changed the record.
func (r *JobRecord) MarkQueued(total, chunks int, now time.Time) bool {
	if r.State != StateAccepting {
		return false
	}
	r.State, r.Total, r.Chunks = StateQueued, total, chunks
	r.UpdatedAt = &now
	if r.Finished() && r.FinishedAt == nil {
		r.finish(now)
	}
	return true
}

// JobStatus is what clients see of a job.
type JobStatus struct {
	ID          string     `json:"id"`
	Name        string     `json:"name,omitempty"`
	Model       string     `json:"model"`
	Version     string     `json:"version"`
	State       string     `json:"state"`
	Total       int        `json:"total"`
	Done        int        `json:"done"`
	Failed      int        `json:"failed"`
	Skipped     int        `json:"skipped"`
	Chunks      int        `json:"chunks"`
	Cost        int64      `json:"cost"`
	Error       string     `json:"error,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	UpdatedAt   *time.Time `json:"updated_at,omitempty"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	ElapsedMS   int64      `json:"elapsed_ms"`
	ItemsPerSec float64    `json:"items_per_sec"`
	ETAMS       *int64     `json:"eta_ms,omitempty"`
	Priority    string     `json:"priority"`
	Deadline    *time.Time `json:"deadline,omitempty"`
	// Queue, for a job not started yet, is where it stands.
	Queue *QueuePosition `json:"queue,omitempty"`
	// Ingesting: the job's dataset is still being read (Total is then an
	// upper bound, from the upload's lines), and Read how many items so far.
	Ingesting bool `json:"ingesting,omitempty"`
	Read      int  `json:"read,omitempty"`
	// Webhook is the URL the job's end is posted to, when it has one.
	Webhook string `json:"webhook,omitempty"`
}

// QueuePosition is where a queued job stands: the items that will be
// served before its first, and when it should start at the current rate.
type QueuePosition struct {
	ItemsAhead     int        `json:"items_ahead"`
	EstimatedStart *time.Time `json:"estimated_start,omitempty"`
}

// QueueSnapshot is what the scheduler publishes on SubjectQueue about the
// queued jobs of each model version (at most maxQueueSnapshot each).
type QueueSnapshot struct {
	At   time.Time                `json:"at"`
	Jobs map[string]QueuePosition `json:"jobs"`
}

// Status derives the client view of r at time now. Items/s are the items
// run over the time from the first chunk's start on a worker to the last
// count: queueing is not counted, and a job of one chunk has a rate.
func (r *JobRecord) Status(now time.Time) JobStatus {
	s := JobStatus{
		ID: r.ID, Name: r.Name, Model: r.Model, Version: r.Version, Total: r.Total, Done: r.Done,
		Failed: r.Failed, Skipped: r.Skipped, Chunks: r.Chunks, Cost: r.TotalCost(), Error: r.Error, CreatedAt: r.CreatedAt,
		StartedAt: r.StartedAt, UpdatedAt: r.UpdatedAt, ExpiresAt: r.ExpiresAt,
		Priority: cmp.Or(r.Priority, "normal"), Deadline: r.Deadline, Webhook: r.Webhook,
	}
	if r.State == StateAccepting && r.Source != nil {
		s.Ingesting = true
		if r.Ingest != nil {
			s.Read = r.Ingest.Items
		}
	}
	finished := r.Finished()
	s.State = r.derivedState(finished)
	if r.State == StateFailed { // what had not run when it failed is skipped
		s.Skipped = max(r.Skipped, r.Total-r.Done-r.Failed)
	}
	end := now
	switch {
	case r.FinishedAt != nil:
		end, s.FinishedAt = *r.FinishedAt, r.FinishedAt
	case finished && r.UpdatedAt != nil: // a record written before FinishedAt existed
		end, s.FinishedAt = *r.UpdatedAt, r.UpdatedAt
	case r.CancelledAt != nil:
		end, s.FinishedAt = *r.CancelledAt, r.CancelledAt
	}
	s.ElapsedMS = end.Sub(r.CreatedAt).Milliseconds()
	ran := r.Done + r.Failed
	if r.StartedAt != nil && r.UpdatedAt != nil {
		if d := r.UpdatedAt.Sub(*r.StartedAt).Seconds(); d > 0 {
			s.ItemsPerSec = float64(ran) / d
		}
	}
	if !finished && r.CancelledAt == nil && s.ItemsPerSec > 0 {
		eta := int64(float64(r.Total-r.Processed()) / s.ItemsPerSec * 1000)
		s.ETAMS = &eta
	}
	return s
}

func (r *JobRecord) derivedState(finished bool) string {
	switch {
	case r.State == StateExpired || r.State == StateFailed:
		return r.State
	case r.CancelledAt != nil:
		return StateCancelled
	case finished && r.Deadline != nil && r.Skipped > 0:
		return StateDeadlineExceeded
	case finished:
		return StateCompleted
	case r.StartedAt != nil:
		return StateRunning
	}
	return StateQueued
}
