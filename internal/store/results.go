package store

import (
	"context"
	"errors"
	"fmt"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

// Results is the results stream: one message per chunk at its result
// subject. The stream refuses a second message for a subject, so a chunk
// computed twice (a redelivery) is stored once.
type Results struct {
	js     jetstream.JetStream
	stream jetstream.Stream
}

// NewResults returns the store over the results stream.
func NewResults(js jetstream.JetStream, stream jetstream.Stream) *Results {
	return &Results{js: js, stream: stream}
}

// Put stores cr (encoded as data) unless a result for that chunk is
// already stored, and returns the stored one (cr, or the earlier result)
// with its size. A stored result of an earlier run than cr's (a redriven
// chunk's: cr.Redrive is later) is replaced. A full store is an error
// natsx.IsFull recognises.
func (r *Results) Put(ctx context.Context, cr *wire.ChunkResult, data []byte) (*wire.ChunkResult, int, error) {
	subj := wire.ResultSubject(cr.Job, cr.Chunk)
	for attempt := 0; ; attempt++ {
		ack, err := r.js.Publish(ctx, subj, data, jetstream.WithMsgID(wire.RedriveMsgID(cr.Job, cr.Chunk, cr.Redrive)), jetstream.WithExpectStream(wire.StreamResults))
		if err == nil && !ack.Duplicate {
			return cr, len(data), nil
		}
		if err != nil && !natsx.IsSubjectTaken(err) {
			return nil, 0, fmt.Errorf("store result %s: %w", subj, err)
		}
		prev, size, seq, err := r.chunk(ctx, cr.Job, cr.Chunk)
		if err != nil {
			return nil, 0, err
		}
		switch {
		case prev == nil:
			return nil, 0, fmt.Errorf("store result %s: refused as a duplicate, yet none is stored", subj)
		case prev.Redrive >= cr.Redrive || attempt > 0:
			return prev, size, nil
		}
		if err := r.stream.DeleteMsg(ctx, seq); err != nil && !isNoMessage(err) { // the run before the redrive's
			return nil, 0, fmt.Errorf("replace result %s: %w", subj, err)
		}
	}
}

// DropStale deletes the stored result of a job's chunk when it is of a run
// before redrive letter's (the chunk runs again from it).
func (r *Results) DropStale(ctx context.Context, job string, chunk int, letter uint64) error {
	prev, _, seq, err := r.chunk(ctx, job, chunk)
	if prev == nil || err != nil || prev.Redrive >= letter {
		return err
	}
	if err := r.stream.DeleteMsg(ctx, seq); err != nil && !isNoMessage(err) {
		return fmt.Errorf("drop result %s/%d: %w", job, chunk, err)
	}
	return nil
}

// Raw returns the stored result of one chunk as the worker stored it (a
// wire.ChunkResult in the compact form, or JSON: wire.EachItem yields its
// items and wire.ResultJSON renders it as JSON), or nil when there is none.
func (r *Results) Raw(ctx context.Context, job string, chunk int) ([]byte, error) {
	m, err := r.stream.GetLastMsgForSubject(ctx, wire.ResultSubject(job, chunk))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read result %s/%d: %w", job, chunk, err)
	}
	return m.Data, nil
}

// Chunk returns the stored result of one chunk and its size, or nil when
// there is none.
func (r *Results) Chunk(ctx context.Context, job string, chunk int) (*wire.ChunkResult, int, error) {
	cr, size, _, err := r.chunk(ctx, job, chunk)
	return cr, size, err
}

// chunk is Chunk with the result's stream sequence.
func (r *Results) chunk(ctx context.Context, job string, chunk int) (*wire.ChunkResult, int, uint64, error) {
	m, err := r.stream.GetLastMsgForSubject(ctx, wire.ResultSubject(job, chunk))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, 0, 0, nil
	}
	if err != nil {
		return nil, 0, 0, fmt.Errorf("read result %s/%d: %w", job, chunk, err)
	}
	cr, err := wire.DecodeResult(m.Data)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("decode result %s/%d: %w", job, chunk, err)
	}
	return cr, len(m.Data), m.Sequence, nil
}

// Purge removes every stored result of a job (its results expired).
func (r *Results) Purge(ctx context.Context, job string) error {
	if err := r.stream.Purge(ctx, jetstream.WithPurgeSubject(wire.ResultFilter(job))); err != nil {
		return fmt.Errorf("purge results of %s: %w", job, err)
	}
	return nil
}

// Usage is the results stream's size and its bound (-1: none).
func (r *Results) Usage(ctx context.Context) (bytes uint64, maxBytes int64, err error) {
	info, err := r.stream.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("results stream info: %w", err)
	}
	return info.State.Bytes, info.Config.MaxBytes, nil
}

// View returns chunk c of job rec as the client sees it: its stored result
// (as Raw returns it), or for a chunk counted without a stored result (the
// store was full, or it was skipped) one made from the record's reason
// (JSON), or nil when it has no outcome yet.
func (r *Results) View(ctx context.Context, rec *wire.JobRecord, c int) ([]byte, error) {
	if rec.SkipFrom != nil && c >= *rec.SkipFrom { // counted as skipped, whatever ran
		return UnstoredResult(rec, c, rec.SkipReason, true).AppendJSON(nil), nil
	}
	if rec.RedrivePending(c) { // what is stored is of the run that died
		return nil, nil
	}
	data, err := r.Raw(ctx, rec.ID, c)
	if data != nil || err != nil {
		return data, err
	}
	if !rec.IsCounted(c) {
		return nil, nil
	}
	reason, skipped := rec.UnstoredReason(c)
	if reason == "" {
		return nil, nil // counted, yet its result is not readable (yet): a lagging replica
	}
	return UnstoredResult(rec, c, reason, skipped).AppendJSON(nil), nil
}

// UnstoredResult is the result of chunk c of rec that has none stored:
// each of its items fails (or is skipped) with reason.
func UnstoredResult(rec *wire.JobRecord, c int, reason string, skipped bool) *wire.ChunkResult {
	start := c * rec.ChunkSize
	end := min(start+rec.ChunkSize, rec.Total)
	cr := &wire.ChunkResult{Job: rec.ID, Chunk: c, Start: start, Items: make([]wire.ItemResult, 0, max(end-start, 0))}
	for i := start; i < end; i++ {
		cr.Items = append(cr.Items, wire.ItemResult{Index: i, Error: reason, Skipped: skipped})
	}
	if skipped {
		cr.Skipped = len(cr.Items)
	} else {
		cr.Failed = len(cr.Items)
	}
	return cr
}

// ErrResultUnreadable is returned for a counted chunk whose result cannot
// be read (yet): a lagging replica, or results purged meanwhile.
var ErrResultUnreadable = errors.New("result counted but not readable")

// Settled returns chunk c of a finished job as View does, and for a chunk
// of a job that failed as a whole before the chunk was counted, its items
// skipped with the job's error. A counted chunk whose result cannot be read
// is ErrResultUnreadable: the outcome of a finished job is never guessed.
func (r *Results) Settled(ctx context.Context, rec *wire.JobRecord, c int) ([]byte, error) {
	data, err := r.View(ctx, rec, c)
	if data != nil || err != nil {
		return data, err
	}
	if rec.State == wire.StateFailed && !rec.IsCounted(c) {
		return UnstoredResult(rec, c, rec.Error, true).AppendJSON(nil), nil
	}
	return nil, fmt.Errorf("chunk %d of job %s: %w", c, rec.ID, ErrResultUnreadable)
}
