package store

import (
	"context"
	"encoding/json"
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
// already stored, and returns the stored one: cr, or the earlier result.
func (r *Results) Put(ctx context.Context, cr *wire.ChunkResult, data []byte) (*wire.ChunkResult, error) {
	subj := wire.ResultSubject(cr.Job, cr.Chunk)
	ack, err := r.js.Publish(ctx, subj, data, jetstream.WithMsgID(wire.ChunkMsgID(cr.Job, cr.Chunk)), jetstream.WithExpectStream(wire.StreamResults))
	if err == nil && !ack.Duplicate {
		return cr, nil
	}
	if err != nil && !natsx.IsSubjectTaken(err) {
		return nil, fmt.Errorf("store result %s: %w", subj, err)
	}
	prev, err := r.Chunk(ctx, cr.Job, cr.Chunk)
	if err != nil {
		return nil, err
	}
	if prev == nil {
		return nil, fmt.Errorf("store result %s: refused as a duplicate, yet none is stored", subj)
	}
	return prev, nil
}

// Raw returns the stored result of one chunk as the worker encoded it
// (wire.ChunkResult JSON), or nil when there is none.
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

// Chunk returns the stored result of one chunk, or nil when there is none.
func (r *Results) Chunk(ctx context.Context, job string, chunk int) (*wire.ChunkResult, error) {
	data, err := r.Raw(ctx, job, chunk)
	if data == nil || err != nil {
		return nil, err
	}
	var cr wire.ChunkResult
	if err := json.Unmarshal(data, &cr); err != nil {
		return nil, fmt.Errorf("decode result %s/%d: %w", job, chunk, err)
	}
	return &cr, nil
}
