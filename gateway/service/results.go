package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"batchinfer/api"
	"batchinfer/internal/wire"
)

// MaxResultsPage bounds the items of one results page.
const MaxResultsPage = 10_000

// Results returns the finished items of a job in [offset, offset+limit),
// in index order; Complete says whether all of them are finished.
func (s *Service) Results(ctx context.Context, id string, offset, limit int) (*api.ResultsPage, error) {
	rec, err := s.loadResults(ctx, id)
	if err != nil {
		return nil, err
	}
	if offset < 0 || (offset > 0 && offset >= rec.Total) {
		return nil, api.Errorf(api.CodeBadRequest, "offset must be an integer in [0, %d]", max(rec.Total-1, 0))
	}
	if limit < 1 || limit > MaxResultsPage {
		return nil, api.Errorf(api.CodeBadRequest, "limit must be an integer in [1, %d]", MaxResultsPage)
	}
	end := min(offset+limit, rec.Total)
	page := &api.ResultsPage{Job: rec.ID, Offset: offset, Limit: limit, Items: make([]wire.ItemResult, 0, end-offset), Complete: true}
	for c := offset / max(rec.ChunkSize, 1); c*rec.ChunkSize < end; c++ {
		data, err := s.results.View(ctx, rec, c)
		if err != nil {
			return nil, err
		}
		if data == nil {
			page.Complete = false
			continue
		}
		err = wire.EachItem(data, func(item []byte) error {
			if i := wire.ItemIndex(item); i >= offset && i < end {
				var it wire.ItemResult
				if err := json.Unmarshal(item, &it); err != nil {
					return fmt.Errorf("decode result of job %s chunk %d: %w", rec.ID, c, err)
				}
				page.Items = append(page.Items, it)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if end < rec.Total {
		page.NextOffset = &end
	}
	return page, nil
}

// ResultStream yields a job's chunk results in chunk order, waiting for
// those not stored yet. It reads chunk by chunk (one direct get each) and
// is woken by the job's changes: nothing is created on the server for it.
type ResultStream struct {
	s       *Service
	rec     *wire.JobRecord
	next    int
	wake    *wakeup
	leave   func()
	release func()
	poll    *time.Timer
}

// StreamResults opens a stream of a job's results; it takes one of the
// gateway's MaxSubscriptions slots until Close.
func (s *Service) StreamResults(ctx context.Context, id string) (*ResultStream, error) {
	rec, err := s.loadResults(ctx, id)
	if err != nil {
		return nil, err
	}
	release, err := s.acquireFollower(ctx)
	if err != nil {
		return nil, err
	}
	wake, leave := s.feed.watch(rec.ID)
	return &ResultStream{s: s, rec: rec, wake: wake, leave: leave, release: release, poll: time.NewTimer(s.cfg.FollowPoll)}, nil
}

// Next returns the next chunk's result as stored (wire.ChunkResult JSON,
// whose items wire.EachItem yields), or io.EOF after the last one.
// beforeWait runs before it waits for a chunk not stored yet (flush what
// was written); its error ends the stream.
func (rs *ResultStream) Next(ctx context.Context, beforeWait func() error) ([]byte, error) {
	for rs.next < rs.rec.Chunks {
		octx, cancel := rs.s.op(ctx)
		data, err := rs.s.results.View(octx, rs.rec, rs.next)
		cancel()
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if data != nil {
			rs.next++
			return data, nil
		}
		// Not stored yet (or NATS away): wait for a change.
		if err := beforeWait(); err != nil {
			return nil, err
		}
		if err := rs.refresh(ctx); err != nil {
			return nil, err
		}
		rs.poll.Reset(rs.s.cfg.FollowPoll)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-rs.wake.C:
		case <-rs.poll.C:
		}
	}
	return nil, io.EOF
}

// refresh rereads the job's record: counts and unstored chunks change
// while it runs, and its results may expire.
func (rs *ResultStream) refresh(ctx context.Context) error {
	rec, err := rs.s.loadResults(ctx, rs.rec.ID)
	var ae *api.Error
	switch {
	case err == nil:
		rs.rec = rec
	case errors.As(err, &ae):
		return err // expired or gone: the stream ends
	}
	return nil // NATS away: wait and read again
}

// loadResults loads a job whose results are still readable: an expired
// one answers expired.
func (s *Service) loadResults(ctx context.Context, id string) (*wire.JobRecord, error) {
	rec, err := s.loadJob(ctx, id)
	if err == nil && rec.State == wire.StateExpired {
		return nil, api.Errorf(api.CodeExpired, "the results of job %s expired at %s (kept %s after it finished)",
			rec.ID, fmtTime(rec.ExpiresAt), time.Duration(rec.RetentionMS)*time.Millisecond)
	}
	return rec, err
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "its retention"
	}
	return t.UTC().Format(time.RFC3339)
}

// Close gives the stream's slot back.
func (rs *ResultStream) Close() {
	rs.poll.Stop()
	rs.leave()
	rs.release()
}
