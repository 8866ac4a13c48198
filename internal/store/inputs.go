package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrInputGone is returned for a chunk whose input is no longer stored
// (its result was stored and the input deleted, or its job was purged).
var ErrInputGone = errors.New("chunk input not stored")

// Inputs is the input stream: each chunk of a batch job, in one or more
// parts (wire.InputSubject), written once when the job's items are read
// and read by the worker a ticket sends there.
type Inputs struct {
	js     jetstream.JetStream
	stream jetstream.Stream
}

// NewInputs returns the store over in's input stream.
func NewInputs(in *natsx.Infra) *Inputs { return &Inputs{js: in.JS, stream: in.Input} }

// Chunk reads the parts of one chunk's input (the first says how many
// there are) and decodes its items, with their lines and ids. A missing
// part is ErrInputGone.
func (i *Inputs) Chunk(ctx context.Context, name, version, job string, chunk int) ([]wire.Item, wire.ChunkMeta, error) {
	var items []wire.Item
	var meta wire.ChunkMeta
	raw, err := i.Raw(ctx, name, version, job, chunk)
	if err != nil {
		return nil, meta, err
	}
	for p, data := range raw {
		its, pm, err := wire.DecodeChunkMeta(data)
		if err != nil {
			return nil, meta, fmt.Errorf("input of %s chunk %d part %d: %w", job, chunk, p, err)
		}
		items = append(items, its...)
		meta.Lines = appendMeta(meta.Lines, pm.Lines, len(its))
		meta.IDs = appendMeta(meta.IDs, pm.IDs, len(its))
	}
	return items, meta, nil
}

// Raw reads the parts of one chunk's input as stored (the first says how
// many there are). A missing part is ErrInputGone.
func (i *Inputs) Raw(ctx context.Context, name, version, job string, chunk int) ([][]byte, error) {
	var out [][]byte
	parts := 1
	for p := 0; p < parts; p++ {
		m, err := i.stream.GetLastMsgForSubject(ctx, wire.InputSubject(name, version, job, chunk, p))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil, fmt.Errorf("input of %s chunk %d part %d: %w", job, chunk, p, ErrInputGone)
		}
		if err != nil {
			return nil, fmt.Errorf("input of %s chunk %d part %d: %w", job, chunk, p, err)
		}
		if p == 0 && m.Header.Get(wire.HdrParts) != "" {
			if parts, err = strconv.Atoi(m.Header.Get(wire.HdrParts)); err != nil || parts < 1 {
				return nil, fmt.Errorf("input of %s chunk %d: bad %s %q", job, chunk, wire.HdrParts, m.Header.Get(wire.HdrParts))
			}
		}
		out = append(out, m.Data)
	}
	return out, nil
}

// Restore puts a chunk's input back, as Raw read it (a dead letter's
// payload, to run the chunk again). A part still stored counts as put.
func (i *Inputs) Restore(ctx context.Context, name, version, job string, chunk int, parts [][]byte) error {
	for p, data := range parts {
		msg := &nats.Msg{Subject: wire.InputSubject(name, version, job, chunk, p), Data: data}
		if p == 0 && len(parts) > 1 {
			msg.Header = nats.Header{wire.HdrParts: []string{strconv.Itoa(len(parts))}}
		}
		_, err := i.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(wire.StreamInput))
		if err != nil && !natsx.IsSubjectTaken(err) {
			return fmt.Errorf("restore input of %s chunk %d part %d: %w", job, chunk, p, err)
		}
	}
	return nil
}

// appendMeta appends a part's meta; a part without it pads with zeros so
// the slices stay one entry per item (nil when no part has any).
func appendMeta[T any](all, part []T, n int) []T {
	if part == nil {
		if all == nil {
			return nil
		}
		return append(all, make([]T, n)...)
	}
	return append(all, part...)
}

// DropChunk asks for one chunk's input to be deleted (its result is
// stored) and does not wait for the answer: none is sent (a JetStream API
// request without a reply subject is served all the same). A request lost
// with a connection leaves the input until its job's results expire.
func (i *Inputs) DropChunk(name, version, job string, chunk int) error {
	req := purgeRequest{Filter: wire.InputChunkFilter(name, version, job, chunk)}
	if err := i.js.Conn().Publish(purgeAPI+wire.StreamInput, wire.Marshal(req)); err != nil {
		return fmt.Errorf("delete input of %s chunk %d: %w", job, chunk, err)
	}
	return nil
}

// purgeAPI is the subject prefix of JetStream's stream purge requests, and
// purgeRequest their body (the messages of a subject filter).
const purgeAPI = "$JS.API.STREAM.PURGE."

type purgeRequest struct {
	Filter string `json:"filter"`
}

// DeleteChunk deletes one chunk's input (its result is stored).
func (i *Inputs) DeleteChunk(ctx context.Context, name, version, job string, chunk int) error {
	if err := i.stream.Purge(ctx, jetstream.WithPurgeSubject(wire.InputChunkFilter(name, version, job, chunk))); err != nil {
		return fmt.Errorf("delete input of %s chunk %d: %w", job, chunk, err)
	}
	return nil
}

// BacklogConsumer is the configuration of model name:version's backlog
// consumer on the input stream (wire.BacklogConsumer): declared by the
// workers, pulled by nobody; its pending count is the model's input
// messages (chunk parts) whose results are not stored yet, the backlog
// autoscalers read.
func BacklogConsumer(name, version string) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       wire.BacklogConsumer(name, version),
		Description:   "backlog of " + name + ":" + version + " (never pulled: its pending count is the chunks not done)",
		FilterSubject: wire.InputModelFilter(name, version),
		AckPolicy:     jetstream.AckExplicitPolicy,
	}
}

// Purge deletes every chunk input of a job.
func (i *Inputs) Purge(ctx context.Context, job string) error {
	if err := i.stream.Purge(ctx, jetstream.WithPurgeSubject(wire.InputJobFilter(job))); err != nil {
		return fmt.Errorf("purge input of %s: %w", job, err)
	}
	return nil
}
