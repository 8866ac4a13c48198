package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/input"
	"batchinfer/internal/natsx"
	"batchinfer/internal/tracing"
	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

// chunkWriter writes a job's items to the input stream as they are read:
// chunks of the job's chunk size, each in parts of at most maxPart bytes,
// carrying each item's input line and id. Nothing but the chunk being
// filled is held, so a body or a dataset of any size is read with bounded
// memory. Writing is idempotent: a part already stored is refused by the
// stream and counts as written, so a reading started again from a chunk
// boundary (a retried submission, a resumed dataset) stores nothing twice.
type chunkWriter struct {
	rec     *wire.JobRecord
	w       *publishWindow
	maxPart int
	written prometheus.Counter // input bytes sent to the input stream

	items  []wire.Item
	lines  []int
	ids    []string
	anyID  bool
	chunks int // chunks written
	n      int // items taken (written or buffered)
}

func newChunkWriter(rec *wire.JobRecord, w *publishWindow, maxPart int, written prometheus.Counter) *chunkWriter {
	return &chunkWriter{rec: rec, w: w, maxPart: maxPart, written: written}
}

// add takes one item; a full chunk is written.
func (c *chunkWriter) add(ctx context.Context, it wire.Item, line int, id string) error {
	c.items = append(c.items, it)
	c.lines = append(c.lines, line)
	c.ids = append(c.ids, id)
	c.anyID = c.anyID || id != ""
	c.n++
	if len(c.items) == c.rec.ChunkSize {
		return c.flush(ctx)
	}
	return nil
}

// flush writes the buffered items as the next chunk.
func (c *chunkWriter) flush(ctx context.Context) error {
	if len(c.items) == 0 {
		return nil
	}
	meta := wire.ChunkMeta{Lines: c.lines}
	if !anyLine(c.lines) {
		meta.Lines = nil
	}
	if c.anyID {
		meta.IDs = c.ids
	}
	parts := splitParts(c.items, c.maxPart)
	for p, part := range parts {
		data := wire.EncodeChunkMeta(nil, c.items[part[0]:part[1]], sliceMeta(meta, part[0], part[1]))
		msg := &nats.Msg{Subject: wire.InputSubject(c.rec.Model, c.rec.Version, c.rec.ID, c.chunks, p), Data: data}
		if p == 0 && len(parts) > 1 { // the first part says how many there are
			msg.Header = nats.Header{wire.HdrParts: []string{strconv.Itoa(len(parts))}}
		}
		if err := c.w.publish(ctx, msg, ""); err != nil {
			return fmt.Errorf("write chunk %d of job %s: %w", c.chunks, c.rec.ID, err)
		}
		c.written.Add(float64(len(data)))
	}
	c.chunks++
	c.items, c.lines, c.ids, c.anyID = c.items[:0], c.lines[:0], c.ids[:0], false
	return nil
}

// finish writes the last chunk and waits until every part is stored.
func (c *chunkWriter) finish(ctx context.Context) error {
	if err := c.flush(ctx); err != nil {
		return err
	}
	return c.w.drain(ctx)
}

func anyLine(lines []int) bool {
	for _, l := range lines {
		if l != 0 {
			return true
		}
	}
	return false
}

func sliceMeta(m wire.ChunkMeta, from, to int) wire.ChunkMeta {
	var out wire.ChunkMeta
	if m.Lines != nil {
		out.Lines = m.Lines[from:to]
	}
	if m.IDs != nil {
		out.IDs = m.IDs[from:to]
	}
	return out
}

// splitParts cuts items into runs of at most maxBytes encoded (an item
// larger than that alone is a run of its own).
func splitParts(items []wire.Item, maxBytes int) [][2]int {
	var parts [][2]int
	start, size := 0, 0
	for i, it := range items {
		n := len(it.Data) + 16
		if i > start && size+n > maxBytes {
			parts = append(parts, [2]int{start, i})
			start, size = i, 0
		}
		size += n
	}
	return append(parts, [2]int{start, len(items)})
}

// chunkSize is a job's items per chunk: the model's, reduced so a chunk of
// tensors fits MaxChunkBytes (larger items, images, are split in parts).
func (s *Service) chunkSize(meta *model.Metadata) int {
	size := meta.ChunkSize
	if size <= 0 {
		size = s.cfg.DefaultChunkSize
	}
	return max(1, min(size, s.cfg.MaxChunkBytes/(4*meta.ItemSize()+16)))
}

// reading is the outcome of reading a job's items into the input stream.
type reading struct {
	items, chunks int
	dec           *input.Decoder
	// stopped: more items were invalid than allowed; writing stopped.
	stopped bool
	cost    int64 // the items' quota cost
}

// ingest reads src's items into rec's chunks. Invalid items beyond
// maxInvalid stop the writing (the rest is still read, to count them);
// those within it are written as items that fail with their reason.
func (s *Service) ingest(ctx context.Context, rec *wire.JobRecord, meta *model.Metadata, src input.Source, o ingestOptions) (r reading, err error) {
	ctx, span := s.startIngest(ctx, rec)
	var cw *chunkWriter
	defer func() { endIngest(span, r, cw.chunks, err) }()
	cw = newChunkWriter(rec, newPublishWindow(s.in.JS, wire.StreamInput, s.cfg.PublishWindow, s.cfg.QueueWait), s.cfg.MaxChunkBytes,
		s.metrics.ingestBytes.WithLabelValues(meta.ID()))
	writing, invalids, cost, costOf := true, 0, int64(0), input.CostPer(meta)
	dec, err := input.Stream(meta, s.limits(meta, o.maxItems), src, input.Options{IDColumn: o.idColumn},
		func(_ int, it wire.Item, line int, id string, invalid error) error {
			cost += costOf(it)
			if invalid != nil {
				if invalids++; invalids > o.maxInvalid {
					writing = false
				}
				it = wire.Item{Kind: wire.ItemInvalid, Data: []byte(invalidReason(line, invalid))}
			}
			if !writing {
				return nil
			}
			if err := cw.add(ctx, it, line, id); err != nil {
				return &writeError{err}
			}
			return nil
		})
	if err != nil || !writing {
		// What was sent must be stored (or refused) before the caller
		// removes the job: nothing may land after its purge.
		_ = cw.w.drain(ctx)
		return reading{dec: dec, stopped: !writing}, err
	}
	r = reading{items: dec.Count(), dec: dec, cost: cost}
	pctx, publish := s.startSpan(ctx, "job.publish")
	err = cw.finish(pctx)
	tracing.Fail(publish, err)
	publish.End()
	if err != nil {
		_ = cw.w.drain(ctx)
		return r, &writeError{err}
	}
	r.chunks = cw.chunks
	return r, nil
}

// writeError is a failure to store the items read (NATS), as opposed to a
// failure to read them (the client's body, a dataset).
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// ingestOptions shape one reading.
type ingestOptions struct {
	maxItems   int
	maxInvalid int
	idColumn   string
}

// invalidReason is what an invalid item accepted under max_invalid fails with.
func invalidReason(line int, err error) string {
	if line > 0 {
		return fmt.Sprintf("invalid input (line %d): %v", line, err)
	}
	return "invalid input: " + err.Error()
}

// errQueueFull is the input stream staying full for QueueWait.
var errQueueFull = errors.New("the input queue stayed full")

// queueFullErr maps a queue that stayed full to 503 queue_full.
func queueFullErr(err error) error {
	if errors.Is(err, errQueueFull) || natsx.IsFull(err) {
		return api.RetryLater(api.CodeQueueFull, 5*time.Second, err, "the queue is full (QUEUE_MAX_BYTES), retry later")
	}
	return queueErr(err)
}
