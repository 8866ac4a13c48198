package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

// Outputs is the outputs bucket: for each download file of a finished job
// its index (wire.OutputIndex) and the pages of its chunks' rendered
// lengths. Pages are written before the index, so an index that is read
// has all its pages; a job's keys are purged with its results.
type Outputs struct {
	kv jetstream.KeyValue
	js jetstream.JetStream
}

// NewOutputs returns the store over the outputs bucket kv.
func NewOutputs(js jetstream.JetStream, kv jetstream.KeyValue) *Outputs {
	return &Outputs{kv: kv, js: js}
}

// Index reads the index of a job's file, or nil when there is none.
func (o *Outputs) Index(ctx context.Context, job, file string) (*wire.OutputIndex, error) {
	e, err := o.kv.Get(ctx, wire.OutputKey(job, file))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read output index %s/%s: %w", job, file, err)
	}
	var idx wire.OutputIndex
	if err := json.Unmarshal(e.Value(), &idx); err != nil {
		return nil, fmt.Errorf("decode output index %s/%s: %w", job, file, err)
	}
	return &idx, nil
}

// PutIndex writes the index of a job's file (after all its pages).
func (o *Outputs) PutIndex(ctx context.Context, idx *wire.OutputIndex) error {
	if _, err := o.kv.Put(ctx, wire.OutputKey(idx.Job, idx.File), wire.Marshal(idx)); err != nil {
		return fmt.Errorf("write output index %s/%s: %w", idx.Job, idx.File, err)
	}
	return nil
}

// DropIndex removes the index of a job's file (its pages are rewritten by
// the next build, or purged with the job).
func (o *Outputs) DropIndex(ctx context.Context, job, file string) error {
	if err := o.kv.Purge(ctx, wire.OutputKey(job, file)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("drop output index %s/%s: %w", job, file, err)
	}
	return nil
}

// Page reads page p of a job's file: the rendered length of each of its
// chunks, in order.
func (o *Outputs) Page(ctx context.Context, job, file string, p int) ([]int64, error) {
	e, err := o.kv.Get(ctx, wire.OutputPageKey(job, file, p))
	if err != nil {
		return nil, fmt.Errorf("read output index page %s/%s/%d: %w", job, file, p, err)
	}
	lens, err := decodeLengths(e.Value())
	if err != nil {
		return nil, fmt.Errorf("decode output index page %s/%s/%d: %w", job, file, p, err)
	}
	return lens, nil
}

// PutPage writes page p of a job's file.
func (o *Outputs) PutPage(ctx context.Context, job, file string, p int, lens []int64) error {
	if _, err := o.kv.Put(ctx, wire.OutputPageKey(job, file, p), encodeLengths(lens)); err != nil {
		return fmt.Errorf("write output index page %s/%s/%d: %w", job, file, p, err)
	}
	return nil
}

// Purge removes every key of a job: its files' indexes and pages.
func (o *Outputs) Purge(ctx context.Context, job string) error {
	st, err := o.stream(ctx)
	if err == nil {
		err = st.Purge(ctx, jetstream.WithPurgeSubject("$KV."+wire.BucketOutputs+"."+wire.OutputJobFilter(job)))
	}
	if err != nil {
		return fmt.Errorf("purge output indexes of %s: %w", job, err)
	}
	return nil
}

// Entries counts the messages of the bucket (indexes, pages and deletion
// markers): what the download files of every job take.
func (o *Outputs) Entries(ctx context.Context) (uint64, error) {
	st, err := o.stream(ctx)
	if err != nil {
		return 0, fmt.Errorf("outputs bucket: %w", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("outputs bucket: %w", err)
	}
	return info.State.Msgs, nil
}

func (o *Outputs) stream(ctx context.Context) (jetstream.Stream, error) {
	return o.js.Stream(ctx, "KV_"+wire.BucketOutputs)
}

// encodeLengths writes lengths as unsigned varints.
func encodeLengths(lens []int64) []byte {
	b := make([]byte, 0, len(lens)*3)
	for _, n := range lens {
		b = binary.AppendUvarint(b, uint64(n))
	}
	return b
}

// decodeLengths reads what encodeLengths wrote.
func decodeLengths(b []byte) ([]int64, error) {
	lens := make([]int64, 0, len(b)/2)
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > 1<<62 {
			return nil, errors.New("malformed lengths")
		}
		lens = append(lens, int64(n))
		b = b[k:]
	}
	return lens, nil
}
