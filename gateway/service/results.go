package service

import (
	"context"
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
	rec, err := s.loadJob(ctx, id)
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
		cr, err := s.results.Chunk(ctx, rec.ID, c)
		if err != nil {
			return nil, err
		}
		if cr == nil {
			page.Complete = false
			continue
		}
		for _, it := range cr.Items {
			if it.Index >= offset && it.Index < end {
				page.Items = append(page.Items, it)
			}
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
	rec, err := s.loadJob(ctx, id)
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
		data, err := rs.s.results.Raw(octx, rs.rec.ID, rs.next)
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

// Close gives the stream's slot back.
func (rs *ResultStream) Close() {
	rs.poll.Stop()
	rs.leave()
	rs.release()
}
