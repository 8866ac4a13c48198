package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// StoredResult is one chunk result message of the RESULTS stream, with
// its sequence: the cursor a client resumes from.
type StoredResult struct {
	Seq  uint64
	Data []byte // the ChunkResult JSON as the worker stored it
}

// resultReader reads stored chunk results with JetStream direct gets. It
// holds no state on the server: a follower of a job is a cursor (the last
// sequence it sent) kept by the gateway, so thousands of subscriptions cost
// no consumers and a subscription that ends leaves nothing behind.
type resultReader struct {
	nc       *nats.Conn
	epoch    *natsx.Epoch
	inbox    *inbox
	batch    int
	maxBytes int
	// sem bounds the direct gets in flight from this gateway.
	sem chan struct{}
}

func newResultReader(nc *nats.Conn, ep *natsx.Epoch, ib *inbox, batch, maxBytes, concurrency int) *resultReader {
	return &resultReader{nc: nc, epoch: ep, inbox: ib, batch: batch, maxBytes: maxBytes, sem: make(chan struct{}, concurrency)}
}

var errBatchGap = errors.New("direct get: reply missing from batch")

// after returns the job's stored results with a sequence greater than seq,
// in order, at most one batch of them, and how many more are stored.
func (r *resultReader) after(ctx context.Context, job string, seq uint64) ([]StoredResult, uint64, error) {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	defer func() { <-r.sem }()
	ctx, cancel := r.op(ctx)
	defer cancel()
	req := wire.Marshal(map[string]any{
		"seq": seq + 1, "next_by_subj": wire.ResultFilter(job), "batch": r.batch, "max_bytes": r.maxBytes,
	})
	reply, ch, done := r.inbox.register(r.batch + 1)
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
			switch m.Header.Get("Status") {
			case "":
			case "404":
				return out, 0, nil // nothing after seq
			case "204": // end of batch
				pending, _ := strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64)
				return out, pending, nil
			default:
				return nil, 0, fmt.Errorf("direct get results of %s: %s %s", job, m.Header.Get("Status"), m.Header.Get("Description"))
			}
			s, err := strconv.ParseUint(m.Header.Get("Nats-Sequence"), 10, 64)
			if err != nil || s <= seq {
				return nil, 0, fmt.Errorf("direct get results of %s: bad sequence %q", job, m.Header.Get("Nats-Sequence"))
			}
			if len(out) > 0 && s <= out[len(out)-1].Seq {
				return nil, 0, errBatchGap
			}
			out = append(out, StoredResult{Seq: s, Data: m.Data})
		}
	}
}

// lastSeq is the sequence of the job's last stored result (0 if none), read
// from the stream leader, not a possibly lagging replica: it decides when a
// follower has seen everything.
func (r *resultReader) lastSeq(ctx context.Context, job string) (uint64, error) {
	ctx, cancel := r.op(ctx)
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

// op is the context of one request: it ends after natsOpTimeout, or at a
// reconnect (the answer would never come; the caller reads again).
func (r *resultReader) op(ctx context.Context) (context.Context, context.CancelFunc) {
	ectx, cancel := r.epoch.Context(ctx)
	tctx, stop := context.WithTimeout(ectx, natsOpTimeout)
	return tctx, func() { stop(); cancel() }
}
