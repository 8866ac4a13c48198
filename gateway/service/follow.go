package service

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"batchinfer/api"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"

	"go.opentelemetry.io/otel/trace"
)

// Sink receives what a follower streams, in order; an error ends it.
type Sink interface {
	// Results is one stored chunk result, to be sent as it is.
	Results(ctx context.Context, r StoredResult) error
	// Progress is the job's status when it changed.
	Progress(ctx context.Context, st wire.JobStatus) error
	// End: the job is finished and every result up to lastSeq was sent.
	End(ctx context.Context, st wire.JobStatus, lastSeq uint64) error
	// Gone: the job no longer exists (it expired).
	Gone(ctx context.Context, err *api.Error) error
}

// Follower streams one job from a cursor; Follow creates it.
type Follower interface {
	// Status is the job's status when the follower was created.
	Status() wire.JobStatus
	// Run streams to sink until the job ends, Stop is called or the sink
	// fails; onFinish runs once, before the last message (End or Gone).
	Run(sink Sink, onFinish func())
	// Stop ends Run and waits until it sends nothing more.
	Stop()
	// Finished reports whether the follower has sent, or is sending, its
	// last message.
	Finished() bool
}

// FollowRequest says what to follow: results after the cursor After (when
// Results), then progress, until the job ends.
type FollowRequest struct {
	Job     string
	After   uint64
	Results bool
}

// Follow creates a follower of req.Job, taking one of the gateway's
// MaxSubscriptions slots until it ends. It answers unknown_job and busy.
func (s *Service) Follow(ctx context.Context, req FollowRequest) (Follower, error) {
	release, err := s.acquireFollower(ctx)
	if err != nil {
		return nil, err
	}
	wake, leave := s.feed.watch(req.Job) // before reading: no change is missed
	rec, err := s.loadJob(ctx, req.Job)
	if err != nil {
		leave()
		release()
		return nil, err
	}
	fctx, cancel := context.WithCancel(ctx)
	return &follower{
		req: req, rec: rec, wake: wake, leave: leave, release: release,
		ctx: fctx, cancel: cancel, done: make(chan struct{}), span: s.traceFollow(ctx, rec),
		reader: s.reader, load: s.loadJob, progressEvery: s.cfg.ProgressInterval, poll: s.cfg.FollowPoll,
	}, nil
}

// follower is a Follower. Its only state is the cursor, kept here: nothing
// on the NATS server is created for it, so a follower that ends, however
// it ends, leaves nothing behind.
type follower struct {
	req     FollowRequest
	rec     *wire.JobRecord // latest committed record
	wake    *wakeup
	leave   func()
	release func()

	reader        *store.ResultReader
	load          func(ctx context.Context, job string) (*wire.JobRecord, error)
	progressEvery time.Duration
	poll          time.Duration

	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{}
	started  atomic.Bool
	finished atomic.Bool
	span     trace.Span // in the job's trace (nil: tracing off)
}

func (f *follower) Status() wire.JobStatus { return f.rec.Status(time.Now()) }
func (f *follower) Finished() bool         { return f.finished.Load() }

func (f *follower) Stop() {
	f.cancel()
	if f.started.Load() {
		<-f.done
		return
	}
	f.leave()
	f.release()
	endFollow(f.span, false)
}

func (f *follower) Run(sink Sink, onFinish func()) {
	f.started.Store(true)
	defer close(f.done)
	defer f.leave()
	defer func() { endFollow(f.span, f.finished.Load()) }()
	var once sync.Once
	finish := func() { once.Do(func() { f.finished.Store(true); f.release(); onFinish() }) }
	defer finish()
	if f.ctx.Err() != nil {
		return
	}
	f.loop(sink, finish)
}

// cursor is a follower's position in its stream.
type cursor struct {
	sent         uint64    // highest seq sent (or the client's after)
	lastProgress time.Time // when progress was last sent
	progressDue  bool      // the record changed since
	backoff      time.Duration
}

// loop streams results, then progress (throttled), until the end.
func (f *follower) loop(sink Sink, finish func()) {
	c := cursor{sent: f.req.After, progressDue: true, backoff: 50 * time.Millisecond}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		caughtUp, ended, err := f.step(sink, &c, finish)
		if err != nil || ended {
			return
		}
		timer.Reset(f.wait(&c, caughtUp))
		select {
		case <-f.ctx.Done():
			return
		case <-f.wake.C:
		case <-timer.C:
		}
		gone, ok := f.refresh(&c.progressDue)
		if gone != nil {
			finish()
			_ = sink.Gone(f.ctx, gone)
		}
		if !ok {
			return
		}
	}
}

// step sends what is new: stored results, progress when due, and end when
// the job is finished and everything was sent.
func (f *follower) step(sink Sink, c *cursor, finish func()) (caughtUp, ended bool, err error) {
	caughtUp = true
	if f.req.Results {
		if caughtUp, err = f.catchUp(sink, &c.sent); err != nil {
			return false, false, err
		}
	}
	finished := f.rec.Finished()
	if c.progressDue && (finished || time.Since(c.lastProgress) >= f.progressEvery) {
		if err := sink.Progress(f.ctx, f.rec.Status(time.Now())); err != nil {
			return false, false, err
		}
		c.lastProgress, c.progressDue = time.Now(), false
	}
	if !finished || !caughtUp {
		return caughtUp, false, nil
	}
	last, err := f.reader.LastSeq(f.ctx, f.req.Job)
	if err != nil || (f.req.Results && c.sent < last) {
		return false, false, nil // a replica behind the leader: read again soon
	}
	finish()
	last = max(last, c.sent)
	if f.req.Results {
		if err := f.sendUnstored(sink, last); err != nil {
			return false, false, err
		}
	}
	_ = sink.End(f.ctx, f.rec.Status(time.Now()), last)
	return true, true, nil
}

// sendUnstored sends, before the end, the chunks whose items failed
// without a stored result (the results store was full), made from the
// job record, at the last sequence: they have none of their own.
func (f *follower) sendUnstored(sink Sink, last uint64) error {
	for _, span := range f.rec.Unstored {
		if span.Skipped {
			continue // skipped items are counted, not streamed
		}
		for c := span.From; c < span.To; c++ {
			if !f.rec.IsCounted(c) {
				continue
			}
			cr := store.UnstoredResult(f.rec, c, span.Reason, false)
			if err := sink.Results(f.ctx, StoredResult{Seq: max(last, 1), Data: cr.AppendJSON(nil)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// wait is how long to sleep before the next step when nothing wakes it.
func (f *follower) wait(c *cursor, caughtUp bool) time.Duration {
	wait := f.poll
	if c.progressDue {
		wait = min(wait, f.progressEvery-time.Since(c.lastProgress))
	}
	if caughtUp {
		c.backoff = 50 * time.Millisecond
	} else {
		wait, c.backoff = min(wait, c.backoff), min(2*c.backoff, time.Second)
	}
	return max(wait, time.Millisecond)
}

// refresh reads the committed job record. ok false ends the follower; gone
// is the error to send when the job no longer exists.
func (f *follower) refresh(progressDue *bool) (gone *api.Error, ok bool) {
	rec, err := f.load(f.ctx, f.req.Job)
	if err != nil {
		var ae *api.Error
		if errors.As(err, &ae) && ae.Code == api.CodeUnknownJob {
			return ae, false
		}
		return nil, f.ctx.Err() == nil // NATS away: keep the last record, retry on the next wake
	}
	if rec.Done != f.rec.Done || rec.Failed != f.rec.Failed || (rec.CancelledAt == nil) != (f.rec.CancelledAt == nil) {
		*progressDue = true
	}
	f.rec = rec
	return nil, true
}

// catchUp sends every stored result after *sent. It reports whether it got
// to the end of what is stored; an error means the sink failed.
func (f *follower) catchUp(sink Sink, sent *uint64) (bool, error) {
	for {
		batch, pending, err := f.reader.After(f.ctx, f.req.Job, *sent)
		if err != nil {
			if f.ctx.Err() != nil {
				return false, f.ctx.Err()
			}
			return false, nil // retried after a backoff
		}
		for _, r := range batch {
			if err := sink.Results(f.ctx, r); err != nil {
				return false, err
			}
			*sent = r.Seq
		}
		if pending == 0 || len(batch) == 0 {
			return true, nil
		}
	}
}
