package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// StoredResult is one chunk result message of the RESULTS stream, with
// its sequence: the cursor a client resumes from.
type StoredResult struct {
	Seq  uint64
	Data []byte // the ChunkResult as stored: compact or JSON (wire.EachItem, wire.ResultJSON)
}

// Replies routes the replies to requests sent with a reply subject: the
// gateway's one wildcard subscription (a request costs a map entry, never
// a subscription on the server).
type Replies interface {
	// Register returns a reply subject and the channel on which up to buf
	// replies arrive; done ends the wait.
	Register(buf int) (subject string, replies <-chan *nats.Msg, done func())
}

// ResultReadConfig bounds a ResultReader.
type ResultReadConfig struct {
	// Batch is the most results one read returns, MaxBytes their bytes.
	Batch, MaxBytes int
	// Concurrency bounds the reads in flight.
	Concurrency int
	// Timeout bounds one request.
	Timeout time.Duration
}

// ResultReader reads a job's stored results in order with batched
// JetStream direct gets. It holds no state on the server: a follower of a
// job is a cursor (the last sequence it read) kept by its caller, so
// thousands of followers cost no consumers and one that ends leaves
// nothing behind.
type ResultReader struct {
	nc      *nats.Conn
	epoch   *natsx.Epoch
	replies Replies
	cfg     ResultReadConfig
	sem     chan struct{}
}

// NewResultReader reads through nc, its requests ended at a reconnect
// (epoch), their replies routed by replies.
func NewResultReader(nc *nats.Conn, epoch *natsx.Epoch, replies Replies, cfg ResultReadConfig) *ResultReader {
	return &ResultReader{nc: nc, epoch: epoch, replies: replies, cfg: cfg, sem: make(chan struct{}, max(cfg.Concurrency, 1))}
}

// ErrBatchGap is a batched read whose replies came out of order: read again.
var ErrBatchGap = errors.New("direct get: reply missing from batch")

// After returns the job's stored results with a sequence greater than seq,
// in order, at most one batch of them, and how many more are stored.
func (r *ResultReader) After(ctx context.Context, job string, seq uint64) ([]StoredResult, uint64, error) {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	defer func() { <-r.sem }()
	ctx, cancel := r.Op(ctx)
	defer cancel()
	req := wire.Marshal(map[string]any{
		"seq": seq + 1, "next_by_subj": wire.ResultFilter(job), "batch": r.cfg.Batch, "max_bytes": r.cfg.MaxBytes,
	})
	reply, ch, done := r.replies.Register(r.cfg.Batch + 1)
	defer done()
	if err := r.nc.PublishRequest("$JS.API.DIRECT.GET."+wire.StreamResults, reply, req); err != nil {
		return nil, 0, fmt.Errorf("direct get results of %s: %w", job, err)
	}
	var out []StoredResult
	for {
		select {
		case <-ctx.Done():
			return nil, 0, fmt.Errorf("direct get results of %s: %w", job, ctx.Err())
		case m := <-ch:
			last, pending, err := batchReply(m, job, seq, &out)
			if last || err != nil {
				return out, pending, err
			}
		}
	}
}

// batchReply takes one reply of a batched direct get: a result appended to
// out, or the batch's end (last) with the count still stored after it.
func batchReply(m *nats.Msg, job string, seq uint64, out *[]StoredResult) (last bool, pending uint64, err error) {
	switch m.Header.Get("Status") {
	case "":
	case "404":
		return true, 0, nil // nothing after seq
	case "204": // end of batch
		pending, _ = strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64)
		return true, pending, nil
	default:
		*out = nil
		return true, 0, fmt.Errorf("direct get results of %s: %s %s", job, m.Header.Get("Status"), m.Header.Get("Description"))
	}
	s, err := strconv.ParseUint(m.Header.Get("Nats-Sequence"), 10, 64)
	if err != nil || s <= seq {
		*out = nil
		return true, 0, fmt.Errorf("direct get results of %s: bad sequence %q", job, m.Header.Get("Nats-Sequence"))
	}
	if n := len(*out); n > 0 && s <= (*out)[n-1].Seq {
		*out = nil
		return true, 0, ErrBatchGap
	}
	*out = append(*out, StoredResult{Seq: s, Data: m.Data})
	return false, 0, nil
}

// LastSeq is the sequence of the job's last stored result (0 if none), read
// from the stream leader, not a possibly lagging replica: it decides when a
// follower has seen everything.
func (r *ResultReader) LastSeq(ctx context.Context, job string) (uint64, error) {
	ctx, cancel := r.Op(ctx)
	defer cancel()
	resp, err := r.nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+wire.StreamResults,
		wire.Marshal(map[string]string{"last_by_subj": wire.ResultFilter(job)}))
	if err != nil {
		return 0, fmt.Errorf("last result of %s: %w", job, err)
	}
	var body struct {
		Message *struct {
			Seq uint64 `json:"seq"`
		} `json:"message"`
		Error *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(resp.Data, &body); err != nil {
		return 0, fmt.Errorf("last result of %s: %w", job, err)
	}
	switch {
	case body.Error != nil && body.Error.ErrorCode == jetstream.JSErrCodeMessageNotFound:
		return 0, nil
	case body.Error != nil:
		return 0, fmt.Errorf("last result of %s: %w", job, body.Error)
	case body.Message == nil:
		return 0, fmt.Errorf("last result of %s: empty answer", job)
	}
	return body.Message.Seq, nil
}

// Op is the context of one request: it ends after the configured timeout,
// or at a reconnect (the answer would never come; the caller reads again).
func (r *ResultReader) Op(ctx context.Context) (context.Context, context.CancelFunc) {
	ectx, cancel := r.epoch.Context(ctx)
	tctx, stop := context.WithTimeout(ectx, r.cfg.Timeout)
	return tctx, func() { stop(); cancel() }
}
