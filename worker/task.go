package worker

import (
	"sync/atomic"
	"time"

	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
)

// task is one chunk message being worked on.
type task struct {
	msg     jetstream.Msg
	lane    string // model id, for metrics
	model   string // model name and version
	version string
	release func() // ends the lease and frees the fetch slot (set by the lane)
	// more reports whether the lane holds another chunk of the job not yet
	// being counted (set by the lane); counting is set once this one is,
	// and freeSlot then frees its fetch slot (its lease is kept until
	// release): a chunk waiting for its count does not hold up the next.
	more      func() bool
	freeSlot  func()
	counting  atomic.Bool
	slotFree  atomic.Bool
	priority  string
	job       string
	chunk     int
	start     int
	reply     string
	enqueued  time.Time
	delivered uint64
	// parts > 0: a ticket, whose items are in the input stream (fetched
	// before the task is batched; deleted once its result is stored).
	parts    int
	count    int
	deadline time.Time
	started  time.Time // when the worker began it
	// redrive is the dead letter the chunk runs again from (0: its first
	// run); deadReason, once its items failed on its last delivery, why:
	// the chunk is dead-lettered as it is stored.
	redrive    uint64
	deadReason string

	items     []wire.Item
	lines     []int
	ids       []string
	results   []wire.ItemResult
	next      int // next item to schedule
	rank      int // the job's other batch chunks in the queue when this one came
	remaining int // items without a result yet
	abandoned bool
	room      *resultRoom // for the parts of results

	// sc is the context the message carried (its job's or prediction's
	// trace) and span the chunk's own (nil: tracing off), ended at release.
	sc   trace.SpanContext
	span trace.Span
}

func parseTask(m jetstream.Msg, priority string) (*task, error) {
	h, err := wire.ParseChunkHeader(m.Headers())
	if err != nil {
		return nil, err
	}
	t := &task{msg: m, priority: priority, job: h.Job, reply: h.Reply, chunk: h.Chunk, start: h.Start, enqueued: h.Enqueued,
		parts: h.Parts, count: h.Count, deadline: h.Deadline, redrive: h.Redrive}
	if md, err := m.Metadata(); err == nil {
		t.delivered = md.NumDelivered
	}
	if t.parts > 0 {
		return t, nil // a ticket: setItems once the input is read
	}
	items, meta, err := wire.DecodeChunkMeta(m.Data())
	if err != nil {
		return nil, err
	}
	t.setItems(items, meta)
	return t, nil
}

// setItems gives the task its items, with their lines and ids.
func (t *task) setItems(items []wire.Item, meta wire.ChunkMeta) {
	t.items, t.lines, t.ids = items, meta.Lines, meta.IDs
	t.results = make([]wire.ItemResult, len(t.items))
	t.remaining = len(t.items)
}

// result is item i's result with its index, input line and id.
func (t *task) result(i int, r wire.ItemResult) wire.ItemResult {
	r.Index = t.start + i
	if i < len(t.lines) {
		r.Line = t.lines[i]
	}
	if i < len(t.ids) {
		r.ID = t.ids[i]
	}
	return r
}

// fail records an error for item i.
func (t *task) fail(i int, reason string) {
	t.results[i] = t.result(i, wire.ItemResult{Error: reason})
	t.remaining--
}

// succeed records the prediction for item i from its output row.
func (t *task) succeed(i int, meta *model.Metadata, probs []float32) {
	if t.room == nil {
		t.room = newResultRoom(len(t.items))
	}
	t.results[i] = t.result(i, itemResult(meta, t.start+i, probs, t.room))
	t.remaining--
}

// skipOne skips item i (not run), saying why.
func (t *task) skipOne(i int, reason string) {
	t.results[i] = t.result(i, wire.ItemResult{Error: reason, Skipped: true})
	t.remaining--
}

// skipRest skips every unscheduled item (not run), saying why.
func (t *task) skipRest(reason string) {
	for ; t.next < len(t.items); t.next++ {
		t.results[t.next] = t.result(t.next, wire.ItemResult{Error: reason, Skipped: true})
		t.remaining--
	}
}

func (t *task) chunkResult(worker string) *wire.ChunkResult {
	cr := &wire.ChunkResult{Job: t.job, Chunk: t.chunk, Start: t.start, Worker: worker, Items: t.results, Redrive: t.redrive}
	for _, r := range t.results {
		switch {
		case r.Skipped:
			cr.Skipped++
		case r.Error != "":
			cr.Failed++
		default:
			cr.Done++
		}
	}
	return cr
}

// countOf is what a stored chunk result (of size bytes) adds to its job.
func countOf(cr *wire.ChunkResult, size int) wire.ChunkCount {
	return wire.ChunkCount{Chunk: cr.Chunk, Done: cr.Done, Failed: cr.Failed, Skipped: cr.Skipped, Bytes: int64(size), Redrive: cr.Redrive}
}

// unstoredCount is what a chunk whose result could not be stored adds to
// its job: its items fail (or stay skipped) with reason.
func unstoredCount(cr *wire.ChunkResult, reason string) wire.ChunkCount {
	c := wire.ChunkCount{Chunk: cr.Chunk, Failed: cr.Done + cr.Failed, Skipped: cr.Skipped, Unstored: reason, Redrive: cr.Redrive}
	if c.Failed == 0 && c.Skipped > 0 {
		c.UnstoredSkipped = true
	}
	return c
}
