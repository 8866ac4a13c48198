package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Errors of the dead letters.
var (
	// ErrLetterNotFound: no dead letter has that id (never, or no more).
	ErrLetterNotFound = errors.New("dead letter not found")
	// ErrPayloadGone: a letter's payload is no longer all stored.
	ErrPayloadGone = errors.New("dead letter payload not stored")
)

// DeadLetters is the dead-letter stream's letters (wire.DeadLetter): each
// chunk given up, with its payload in parts beside it, read a page at a
// time in stream order, claimed by one redrive or purge at a time.
type DeadLetters struct {
	js     jetstream.JetStream
	stream jetstream.Stream
}

// NewDeadLetters returns the store over in's dead-letter stream.
func NewDeadLetters(in *natsx.Infra) *DeadLetters {
	return &DeadLetters{js: in.JS, stream: in.DeadLetter}
}

// Put keeps a letter with its payload parts (each part as the input
// stream held it) and returns its sequence. The parts go first, so a
// letter that is stored has its payload. A batch chunk dead-lettered
// twice for the same run (the worker that wrote the letter died before it
// was done with the chunk) keeps its first letter. ttl, when set, is how
// long the letter lives (synchronous requests).
func (d *DeadLetters) Put(ctx context.Context, l *wire.DeadLetter, parts [][]byte, ttl time.Duration) (uint64, error) {
	if l.Kind == wire.LetterBatch {
		if seq, ok := d.existing(ctx, l); ok {
			return seq, nil
		}
	}
	l.Data, l.Parts = nuid.Next(), len(parts)
	var opts []jetstream.PublishOpt
	if ttl > 0 {
		opts = append(opts, jetstream.WithMsgTTL(ttl))
	}
	for p, data := range parts {
		if _, err := d.js.Publish(ctx, l.DataSubject(p), data, append(opts, jetstream.WithExpectStream(wire.StreamDeadLetter))...); err != nil {
			d.dropData(l)
			return 0, fmt.Errorf("keep dead letter of %s chunk %d: %w", l.Job, l.Chunk, err)
		}
	}
	ack, err := d.js.PublishMsg(ctx, &nats.Msg{Subject: l.Subject(), Header: l.Header()}, append(opts, jetstream.WithExpectStream(wire.StreamDeadLetter))...)
	if err != nil {
		d.dropData(l)
		return 0, fmt.Errorf("keep dead letter of %s chunk %d: %w", l.Job, l.Chunk, err)
	}
	l.Seq = ack.Sequence
	return ack.Sequence, nil
}

// existing finds a letter kept for the same run of l's chunk.
func (d *DeadLetters) existing(ctx context.Context, l *wire.DeadLetter) (uint64, bool) {
	m, err := d.stream.GetLastMsgForSubject(ctx, l.Subject())
	if err != nil {
		return 0, false
	}
	prev, err := wire.ParseDeadLetter(m.Subject, m.Header, m.Sequence)
	if err != nil || prev.Redrive != l.Redrive {
		return 0, false
	}
	return prev.Seq, true
}

// dropData removes the payload parts of a letter that was not kept (best
// effort: what is left goes with the job's letters).
func (d *DeadLetters) dropData(l *wire.DeadLetter) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	_ = d.stream.Purge(ctx, jetstream.WithPurgeSubject(l.DataFilter()))
}

// Get reads the letter of sequence seq; anything else there (or nothing)
// is ErrLetterNotFound.
func (d *DeadLetters) Get(ctx context.Context, seq uint64) (*wire.DeadLetter, error) {
	m, err := d.stream.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("letter %d: %w", seq, ErrLetterNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read letter %d: %w", seq, err)
	}
	l, err := wire.ParseDeadLetter(m.Subject, m.Header, m.Sequence)
	if err != nil {
		return nil, fmt.Errorf("letter %d: %w", seq, ErrLetterNotFound)
	}
	return l, nil
}

// List returns the letters matching filter (wire.DeadLetterFilter,
// DeadSyncFilter) from sequence from on, in order, at most limit, and the
// sequence to go on from (0: there are no more).
func (d *DeadLetters) List(ctx context.Context, filter string, from uint64, limit int) ([]*wire.DeadLetter, uint64, error) {
	var out []*wire.DeadLetter
	seq := max(from, 1)
	for {
		m, err := d.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(filter))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out, 0, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("list dead letters: %w", err)
		}
		if len(out) == limit {
			return out, m.Sequence, nil
		}
		if l, err := wire.ParseDeadLetter(m.Subject, m.Header, m.Sequence); err == nil {
			out = append(out, l)
		}
		seq = m.Sequence + 1
	}
}

// Parts reads a letter's payload: its parts in order.
func (d *DeadLetters) Parts(ctx context.Context, l *wire.DeadLetter) ([][]byte, error) {
	parts := make([][]byte, 0, l.Parts)
	for p := 0; p < l.Parts; p++ {
		m, err := d.stream.GetLastMsgForSubject(ctx, l.DataSubject(p))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil, fmt.Errorf("letter %d part %d: %w", l.Seq, p, ErrPayloadGone)
		}
		if err != nil {
			return nil, fmt.Errorf("read letter %d part %d: %w", l.Seq, p, err)
		}
		parts = append(parts, m.Data)
	}
	return parts, nil
}

// Delete removes a letter and its payload (it was redriven or purged). A
// letter gone already is ErrLetterNotFound.
func (d *DeadLetters) Delete(ctx context.Context, l *wire.DeadLetter) error {
	if err := d.stream.Purge(ctx, jetstream.WithPurgeSubject(l.DataFilter())); err != nil {
		return fmt.Errorf("delete letter %d payload: %w", l.Seq, err)
	}
	err := d.stream.DeleteMsg(ctx, l.Seq)
	if isNoMessage(err) {
		return fmt.Errorf("letter %d: %w", l.Seq, ErrLetterNotFound)
	}
	if err != nil {
		return fmt.Errorf("delete letter %d: %w", l.Seq, err)
	}
	return nil
}

// PurgeJob removes every letter of a job, with their payloads and claims
// (the job's record goes).
func (d *DeadLetters) PurgeJob(ctx context.Context, job string) error {
	for _, f := range wire.DeadJobFilters(job) {
		if err := d.stream.Purge(ctx, jetstream.WithPurgeSubject(f)); err != nil {
			return fmt.Errorf("purge dead letters of %s: %w", job, err)
		}
	}
	return nil
}

// isNoMessage reports a delete of a message that is not there (the server
// says so in the text of a failed deletion: nats-server's
// ErrStoreMsgNotFound).
func isNoMessage(err error) bool {
	return errors.Is(err, jetstream.ErrMsgNotFound) ||
		errors.Is(err, jetstream.ErrMsgDeleteUnsuccessful) && strings.Contains(err.Error(), "no message found")
}

// Count is how many letters of each kind (wire.DeadCountFilters) the
// stream holds, their payloads and claims aside.
func (d *DeadLetters) Count(ctx context.Context) (map[string]uint64, error) {
	out := map[string]uint64{}
	for kind, filter := range wire.DeadCountFilters() {
		info, err := d.stream.Info(ctx, jetstream.WithSubjectFilter(filter))
		if err != nil {
			return nil, fmt.Errorf("dead-letter stream info: %w", err)
		}
		out[kind] = 0
		for _, n := range info.State.Subjects {
			out[kind] += n
		}
	}
	return out, nil
}

// Usage is the stream's size, its message count and its bound (-1: none).
func (d *DeadLetters) Usage(ctx context.Context) (bytes, msgs uint64, maxBytes int64, err error) {
	info, err := d.stream.Info(ctx)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("dead-letter stream info: %w", err)
	}
	return info.State.Bytes, info.State.Msgs, info.Config.MaxBytes, nil
}
