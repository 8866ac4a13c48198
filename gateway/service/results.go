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
	// readAt is when rec was read; changed, that a change was announced
	// since.
	readAt  time.Time
	changed bool
	// caughtUp: a read found the next chunk not stored; credit is what was
	// announced since, less the chunks read since (see mayRead).
	caughtUp bool
	mark     uint64 // wake.announced() at that read, plus the chunks read since
	force    bool   // read at the next turn whatever was announced
}

// recordFresh is how long a follower waits on a record read before an
// announced change when a chunk is missing: usually the change was that
// chunk's count and its result is there, so the record is read again
// only when it is older (a burst of chunks costs one read, not one each)
// or when it stays missing that long (skipped, unstored, expired).
const recordFresh = 50 * time.Millisecond

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
	// (The record was read before the watch began: a change between is
	// looked for at the first missing chunk.)
	return &ResultStream{s: s, rec: rec, wake: wake, leave: leave, release: release, poll: time.NewTimer(s.cfg.FollowPoll), changed: true}, nil
}

// Next returns the next chunk's result as stored (wire.ChunkResult JSON,
// whose items wire.EachItem yields), or io.EOF after the last one.
// beforeWait runs before it waits for a chunk not stored yet (flush what
// was written); its error ends the stream.
func (rs *ResultStream) Next(ctx context.Context, beforeWait func() error) ([]byte, error) {
	for rs.next < rs.rec.Chunks {
		if rs.mayRead() {
			data, err := rs.read(ctx)
			if err != nil {
				return nil, err
			}
			if data != nil {
				return data, nil
			}
			if rs.changed && time.Since(rs.readAt) >= recordFresh {
				if err := rs.refresh(ctx); err != nil {
					return nil, err
				}
				if rs.rec.IsCounted(rs.next) || rs.rec.SkipFrom != nil {
					continue // it has an outcome now: read it (mayRead)
				}
			}
		}
		// Not stored yet (or NATS away): wait for a change.
		if err := beforeWait(); err != nil {
			return nil, err
		}
		rs.poll.Reset(rs.waitFor())
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-rs.wake.C:
			rs.changed = true
		case <-rs.poll.C:
			rs.changed, rs.force = true, true // read again: a change may have gone unannounced
		}
	}
	return nil, io.EOF
}

// read reads the next chunk's result (nil: not stored yet).
func (rs *ResultStream) read(ctx context.Context) ([]byte, error) {
	at := rs.wake.announced()
	rs.force = false
	octx, cancel := rs.s.op(ctx)
	data, err := rs.s.results.View(octx, rs.rec, rs.next)
	cancel()
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	switch {
	case data == nil:
		rs.caughtUp, rs.mark = true, at
	case rs.caughtUp:
		rs.mark = min(rs.mark+1, at)
	}
	if data != nil {
		rs.next++
	}
	return data, nil
}

// mayRead reports whether reading the next chunk may find it: always while
// the stream catches up; once a read found a chunk missing, only when more
// changes (a worker counting a chunk after storing it) were announced
// since than chunks were read, when the record read last gives the chunk
// an outcome (counted, or skipped), or when forced. A stream that keeps up
// with its job reads each chunk once instead of twice (a miss, then the
// chunk).
func (rs *ResultStream) mayRead() bool {
	return !rs.caughtUp || rs.force || rs.wake.announced() > rs.mark ||
		rs.rec.IsCounted(rs.next) || rs.rec.SkipFrom != nil
}

// waitFor is how long to wait for a change: FollowPoll, or until the
// record is no longer fresh when a change it does not show was announced,
// and at most recordFresh after a chunk read without a change left (the
// changes announced may have been counted in another order than read).
func (rs *ResultStream) waitFor() time.Duration {
	wait := rs.s.cfg.FollowPoll
	if rs.changed {
		wait = min(wait, max(recordFresh-time.Since(rs.readAt), time.Millisecond))
	}
	if rs.caughtUp && !rs.mayRead() {
		wait = min(wait, recordFresh)
	}
	return wait
}

// refresh rereads the job's record: counts and unstored chunks change
// while it runs, and its results may expire.
func (rs *ResultStream) refresh(ctx context.Context) error {
	readAt := time.Now()
	rec, err := rs.s.loadResults(ctx, rs.rec.ID)
	var ae *api.Error
	switch {
	case err == nil:
		rs.rec, rs.readAt, rs.changed = rec, readAt, false
	case errors.As(err, &ae):
		return err // expired or gone: the stream ends
	default:
		rs.changed = false // NATS away: read again at the next change (a reconnect announces one) or poll
	}
	return nil
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
